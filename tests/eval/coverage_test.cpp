#include <gtest/gtest.h>

#include "eval/coverage.hpp"

using namespace roadveil;
using namespace roadveil::eval;

TEST(Coverage, FractionOfABoxInsideTheUnionOfRegions) {
  const Box truth{0, 0, 10, 10};
  EXPECT_DOUBLE_EQ(covered_fraction(truth, {{Box{0, 0, 10, 10}, false}}), 1.0);
  EXPECT_DOUBLE_EQ(covered_fraction(truth, {{Box{0, 0, 5, 10}, false}}), 0.5);
  // Two overlapping halves are counted once.
  EXPECT_DOUBLE_EQ(covered_fraction(truth, {{Box{0, 0, 6, 10}, false}, {Box{4, 0, 10, 10}, false}}), 1.0);
  EXPECT_DOUBLE_EQ(covered_fraction(truth, std::vector<DrawnRegion>{}), 0.0);
  // An ellipse inscribed in the box covers about pi/4 of it.
  EXPECT_NEAR(covered_fraction(Box{0, 0, 100, 100}, {{Box{0, 0, 100, 100}, true}}), 3.14159 / 4, 0.01);
  // The truth drawn as an ellipse (a reference run's face) inside a box region: all of it.
  EXPECT_DOUBLE_EQ(covered_fraction(Box{0, 0, 100, 100}, {{Box{0, 0, 100, 100}, false}}, true), 1.0);
}

TEST(Coverage, ClassNamesOfTheSharedSetsMap) {
  EXPECT_EQ(class_for_label("Human face"), ObjectClass::Face);
  EXPECT_EQ(class_for_label("sin_mascarilla"), ObjectClass::Face);
  EXPECT_EQ(class_for_label("mascarilla_mal_puesta"), ObjectClass::Face);
  EXPECT_EQ(class_for_label("Vehicle registration plate"), ObjectClass::Plate);
  EXPECT_EQ(class_for_label("license-plate"), ObjectClass::Plate);
  EXPECT_FALSE(class_for_label("Car").has_value());
}

TEST(Coverage, ReportCountsHiddenBucketsAndStrays) {
  ImageEval img;
  img.width = 100;
  img.height = 100;
  img.truth = {{ObjectClass::Face, Box{10, 10, 20, 20}},     // 10 px: hidden
               {ObjectClass::Face, Box{50, 50, 90, 90}},     // 40 px: not hidden
               {ObjectClass::Plate, Box{0, 80, 40, 90}}};    // 40 px plate: hidden
  img.regions = {{ObjectClass::Face, Box{5, 5, 25, 25}, 0.9f, RegionSource::Detector, -1},
                 {ObjectClass::Face, Box{70, 0, 80, 10}, 0.9f, RegionSource::Detector, -1},  // stray
                 {ObjectClass::Plate, Box{0, 78, 42, 92}, 0.9f, RegionSource::Detector, -1}};
  img.detections = {{ObjectClass::Face, Box{10, 10, 20, 20}, 0.9f}};
  EvalConfig cfg;
  cfg.ellipse = {false, false};
  const Report r = evaluate({img}, cfg);
  EXPECT_EQ(r.classes[0].truth, 2);
  EXPECT_EQ(r.classes[0].hidden, 1);
  EXPECT_EQ(r.classes[0].buckets[0].hidden, 1);
  EXPECT_EQ(r.classes[0].buckets[2].total, 1);
  EXPECT_EQ(r.classes[0].buckets[2].hidden, 0);
  EXPECT_EQ(r.classes[0].stray, 1);
  EXPECT_EQ(r.classes[1].hidden, 1);
  EXPECT_EQ(r.classes[1].stray, 0);
  EXPECT_DOUBLE_EQ(r.classes[0].ap50, 0.5);  // one of two faces found, at full precision
  // With ellipses the 20 px region still hides the 10 px face (its box lies inside the ellipse).
  cfg.ellipse = {true, false};
  EXPECT_EQ(evaluate({img}, cfg).classes[0].hidden, 1);
}

// A head in the corner of a region is hidden when the region is a Context guess (hidden whole), not when
// it is a network's box (hidden as its ellipse): eval measures regions as they are rendered.
TEST(Coverage, AContextRegionCoversItsCornersAndADetectorsEllipseDoesNot) {
  ImageEval img;
  img.width = 100;
  img.height = 100;
  img.truth = {{ObjectClass::Face, Box{0, 0, 10, 10}}, {ObjectClass::Face, Box{50, 0, 60, 10}}};
  img.regions = {{ObjectClass::Face, Box{0, 0, 40, 40}, 0.9f, RegionSource::Detector, -1},
                 {ObjectClass::Face, Box{50, 0, 90, 40}, 0.9f, RegionSource::Context, -1}};
  EvalConfig cfg;  // faces drawn as ellipses
  const Report r = evaluate({img}, cfg);
  EXPECT_EQ(r.classes[0].truth, 2);
  EXPECT_EQ(r.classes[0].hidden, 1);
  EXPECT_EQ(r.per_image[0].counts[0][1], 1);
  // The hidden area counts the Context region's whole box and the detector's ellipse: 1600 + pi/4 * 1600.
  EXPECT_NEAR(r.hidden_area_share, (1600 + 3.14159 / 4 * 1600) / 10000, 0.01);
  const std::vector<DrawnRegion> drawn_regions{drawn(img.regions[0], cfg), drawn(img.regions[1], cfg)};
  EXPECT_TRUE(drawn_regions[0].ellipse);
  EXPECT_FALSE(drawn_regions[1].ellipse);
  EXPECT_DOUBLE_EQ(covered_fraction(img.truth[1].box, drawn_regions), 1.0);
  EXPECT_LT(covered_fraction(img.truth[0].box, drawn_regions), 0.9);
}

TEST(AveragePrecision, PerfectAndEmpty) {
  EXPECT_DOUBLE_EQ(average_precision({{Box{0, 0, 10, 10}}}, {{{Box{0, 0, 10, 10}, 0.9f}}}), 1.0);
  EXPECT_DOUBLE_EQ(average_precision({{Box{0, 0, 10, 10}}}, {{}}), 0.0);
  // A false positive ranked above the true one halves the precision at full recall.
  EXPECT_DOUBLE_EQ(average_precision({{Box{0, 0, 10, 10}}}, {{{Box{50, 50, 60, 60}, 0.95f}, {Box{0, 0, 10, 10}, 0.9f}}}), 0.5);
}

// A class of one's own model (#15): measured from truth labelled with its name once it is known, with its own
// rows, and its stray regions counted in the strays per image like the others'.
TEST(Coverage, AClassOfOnesOwnIsMeasuredAndItsStraysCount) {
  EXPECT_FALSE(class_for_label("parking-permit").has_value()) << "unknown until a model names it";
  const ObjectClass permit = intern_object_class("parking-permit");
  EXPECT_EQ(class_for_label("Parking-Permit"), permit);
  ImageEval image;
  image.name = "a.jpg";
  image.width = 640;
  image.height = 480;
  image.truth = {{permit, Box{100, 100, 140, 120}}};
  image.regions = {{permit, Box{95, 95, 145, 125}, 0.9f}, {permit, Box{400, 300, 440, 320}, 0.8f}};
  const Report r = evaluate({image}, EvalConfig{});
  const ClassReport& c = r.classes[static_cast<int>(permit)];
  EXPECT_EQ(c.truth, 1);
  EXPECT_EQ(c.hidden, 1);
  EXPECT_EQ(c.stray, 1);
  EXPECT_DOUBLE_EQ(r.stray_per_image(), 1.0) << "the class's stray region counts";
  EXPECT_NE(format_table(r, "t").find("parking-permit"), std::string::npos);
  EXPECT_EQ(to_json(r)["classes"]["parking-permit"]["hidden"], 1);
}
