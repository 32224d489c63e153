// The readers on the real third-party annotations in ../shared/eval: counts, coordinates, names, sizes.
#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"
#include "dataset/read.hpp"
#include "dataset/stats.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

std::map<std::string, std::size_t> class_counts(const std::vector<AnnotatedImage>& images) {
  std::map<std::string, std::size_t> counts;
  for (const auto& i : images) {
    for (const auto& b : i.boxes) ++counts[b.label];
  }
  return counts;
}

TEST(RealVoc, DashcamBerlinIntegerBoxes) {
  const auto images = by_name(read_annotations(shared_eval() / "dashcam-berlin-dev" / "annotations", {}));
  ASSERT_EQ(images.size(), 50u);
  const auto counts = class_counts(images);
  EXPECT_EQ(counts.at("Human face"), 131u);
  EXPECT_EQ(counts.at("Vehicle registration plate"), 135u);
  const AnnotatedImage& first = images.front();
  EXPECT_EQ(first.image, "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg");
  EXPECT_EQ(first.width, 1920);
  EXPECT_EQ(first.height, 1080);
  EXPECT_FALSE(first.normalized);
  ASSERT_FALSE(first.boxes.empty());
  EXPECT_EQ(first.boxes[0].label, "Vehicle registration plate");
  EXPECT_EQ(first.boxes[0].box, (Box{363, 660, 402, 669}));
}

TEST(RealVoc, PlatesDashcamFloatBoxesAndHashNames) {
  const auto images = by_name(read_annotations(shared_eval() / "plates-dashcam-ro" / "annotations", Format::voc, {}));
  ASSERT_EQ(images.size(), 107u);
  EXPECT_EQ(box_count(images), 131u);
  const auto it = std::find_if(images.begin(), images.end(),
                               [](const auto& i) { return i.image == "dayride_type1_001.mp4#t=1055.jpg"; });
  ASSERT_NE(it, images.end());
  ASSERT_EQ(it->boxes.size(), 2u);
  EXPECT_FLOAT_EQ(it->boxes[0].box.x1, 113.10026892047637f);
  EXPECT_FLOAT_EQ(it->boxes[0].box.y1, 399.8360655737705f);
  EXPECT_FLOAT_EQ(it->boxes[0].box.x2, 192.76219746446407f);
  EXPECT_FLOAT_EQ(it->boxes[0].box.y2, 420.0f);
  EXPECT_EQ(it->boxes[0].label, "license-plate");
}

TEST(RealVoc, FacesStreetClampsBoxesOnePixelPastTheEdge) {
  // Twelve faces in this set end at xmax = width + 1 (VOC counts pixels from 1): clamped, not rejected.
  Report report;
  ReadOptions options;
  options.report = &report;
  const auto images = read_annotations(shared_eval() / "faces-street" / "annotations", Format::voc, options);
  EXPECT_EQ(report.problem_total(), 0u) << report.problem_summary();
  ASSERT_EQ(images.size(), 853u);
  EXPECT_EQ(box_count(images), 4072u);
  for (const auto& i : images) {
    for (const auto& b : i.boxes) {
      ASSERT_LE(b.box.x2, static_cast<float>(i.width)) << i.image;
      ASSERT_LE(b.box.y2, static_cast<float>(i.height)) << i.image;
    }
  }
  const auto counts = class_counts(images);
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_TRUE(counts.count("con_mascarilla"));
}

TEST(RealVoc, ImagesFolderIsCheckedWhenGiven) {
  ReadOptions options;
  options.images_dir = shared_eval() / "dashcam-berlin-dev" / "images";
  EXPECT_EQ(read_annotations(shared_eval() / "dashcam-berlin-dev" / "annotations", Format::voc, options).size(), 50u);
  options.images_dir = shared_eval() / "faces-street" / "images";
  try {
    read_annotations(shared_eval() / "dashcam-berlin-dev" / "annotations", Format::voc, options);
    FAIL() << "images of another set accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not in"), std::string::npos) << e.what();
  }
}

TEST(RealOpenAlpr, PlatesWithTextAndHeaderSizes) {
  const auto images = by_name(read_annotations(shared_eval() / "plates-closeup-openalpr", Format::openalpr, {}));
  ASSERT_EQ(images.size(), 330u);
  EXPECT_EQ(box_count(images), 330u);
  const auto eu1 = std::find_if(images.begin(), images.end(), [](const auto& i) { return i.image == "eu/eu1.jpg"; });
  ASSERT_NE(eu1, images.end());
  ASSERT_EQ(eu1->boxes.size(), 1u);
  EXPECT_EQ(eu1->boxes[0].box, (Box{396, 340, 599, 386}));
  EXPECT_EQ(eu1->boxes[0].text, "M5XSX");
  EXPECT_EQ(eu1->boxes[0].label, "license-plate");
  for (const auto& i : images) {
    EXPECT_GT(i.width, 0) << i.image;  // sized from the JPEG beside the txt
    EXPECT_FALSE(i.normalized);
  }
}

TEST(RealStats, BerlinCountsAndHistograms) {
  const auto stats = compute_stats(shared_eval() / "dashcam-berlin-dev" / "annotations", Format::voc, {});
  EXPECT_EQ(stats.images, 50u);
  EXPECT_EQ(stats.boxes, 266u);
  ASSERT_EQ(stats.classes.size(), 2u);
  EXPECT_EQ(stats.classes[0].name, "Human face");
  EXPECT_EQ(stats.classes[0].boxes, 131u);
  EXPECT_EQ(stats.classes[1].boxes, 135u);
  for (const ClassStats* c : {&stats.classes[0], &stats.classes[1], &stats.all}) {
    std::size_t w = 0, h = 0;
    for (std::size_t b = 0; b < kSizeBins; ++b) {
      w += c->width[b];
      h += c->height[b];
    }
    EXPECT_EQ(w, c->boxes) << c->name;
    EXPECT_EQ(h, c->boxes) << c->name;
  }
  // The set is described as faces with a median near 16 px: most face boxes are under 32 px wide.
  EXPECT_GT(stats.classes[0].width[0] + stats.classes[0].width[1] + stats.classes[0].width[2], 131u / 2);
  const std::string text = stats_text(stats);
  EXPECT_NE(text.find("50 images"), std::string::npos);
  EXPECT_NE(text.find("Vehicle registration plate"), std::string::npos);
  EXPECT_NE(stats_json(stats).find("\"width_histogram\""), std::string::npos);
}

TEST(DetectFormat, RealFoldersAndFiles) {
  EXPECT_EQ(detect_format(shared_eval() / "faces-street" / "annotations"), Format::voc);
  EXPECT_EQ(detect_format(shared_eval() / "plates-closeup-openalpr"), Format::openalpr);
  EXPECT_EQ(detect_format(shared_eval() / "plates-closeup-openalpr" / "eu" / "eu1.txt"), Format::openalpr);
  EXPECT_EQ(detect_format(shared_eval() / "no-such-thing"), std::nullopt);
  TempDir dir;
  write_text(dir / "a.csv", "ImageID,Source\n");
  write_text(dir / "a.manifest", "{}\n");
  write_text(dir / "coco.json", "{\"images\": []}");
  write_text(dir / "gt.json", "{\"source-ref\": \"s3://b/a.jpg\"}\n");
  write_text(dir / "yolo" / "a.txt", "0 0.5 0.5 0.1 0.2\n");
  write_text(dir / "oid" / "Label" / "a.txt", "Vehicle registration plate 1 2 30 40\n");
  write_text(dir / "oid2" / "a.txt", "Human face 1.5 2 30 40.25\n");
  write_text(dir / "ultra" / "labels" / "a.txt", "0 0.5 0.5 0.1 0.2\n");
  EXPECT_EQ(detect_format(dir / "a.csv"), Format::openimages);
  EXPECT_EQ(detect_format(dir / "a.manifest"), Format::gt_manifest);
  EXPECT_EQ(detect_format(dir / "coco.json"), Format::coco);
  EXPECT_EQ(detect_format(dir / "gt.json"), Format::gt_manifest);
  EXPECT_EQ(detect_format(dir / "yolo"), Format::yolo);
  EXPECT_EQ(detect_format(dir / "oid"), Format::oid_txt);
  EXPECT_EQ(detect_format(dir / "oid2"), Format::oid_txt);
  EXPECT_EQ(detect_format(dir / "ultra"), Format::yolo);
}

TEST(FormatNames, ParseAndPrintAgree) {
  for (const char* name : {"openimages", "oid-txt", "gt-manifest", "voc", "yolo", "coco", "openalpr"}) {
    const auto f = parse_format(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(format_name(*f), name);
  }
  EXPECT_FALSE(parse_format("pascal"));
  EXPECT_FALSE(can_write(Format::openimages));
  EXPECT_TRUE(can_write(Format::gt_manifest));
}

}  // namespace
}  // namespace roadveil::dataset
