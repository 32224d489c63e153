// Head regions and occupants derived from person and vehicle boxes, the --quality presets, and the
// context pass on a real dashcam frame.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "detect/frame_detector.hpp"
#include "media/image_file.hpp"
#include "test_util.hpp"

using namespace roadveil;
using namespace roadveil::detect;

TEST(HeadRegion, SitsAtTheTopOfThePersonAndSpansItsWidth) {
  const HeadGeometry g;
  const Box person{100, 200, 140, 300};  // 40 x 100, standing
  const Box head = head_region(person, g);
  EXPECT_FLOAT_EQ(head.x1, 100);
  EXPECT_FLOAT_EQ(head.x2, 140);
  EXPECT_FLOAT_EQ(head.y1, 200 + g.top * 100);
  EXPECT_FLOAT_EQ(head.height(), g.height * 100);
  // A wide box (arms out, a group) does not hide its whole width: at most max_width person heights.
  const Box wide = head_region(Box{0, 0, 200, 100}, g);
  EXPECT_FLOAT_EQ(wide.width(), g.max_width * 100);
  EXPECT_FLOAT_EQ(wide.cx(), 100);
  // In proportion as shown: where a pixel is shown twice as wide as high, as many person heights are half
  // as many stored pixels (a 2:1 clip's head regions were 1.29 times those of the same picture square).
  EXPECT_FLOAT_EQ(head_region(Box{0, 0, 200, 100}, g, 2.0f).width(), g.max_width * 50);
}

TEST(Occupant, HeadAndShouldersInTheUpperPartOfAVehicle) {
  const std::vector<Box> cars = {{400, 500, 800, 800}};
  EXPECT_TRUE(is_occupant({600, 540, 650, 580}, cars, 1.6f));    // 50x40, centre in the window area
  EXPECT_FALSE(is_occupant({600, 700, 650, 740}, cars, 1.6f));   // lower part of the car: not a window
  EXPECT_FALSE(is_occupant({600, 520, 630, 600}, cars, 1.6f));   // tall box: a pedestrian in front
  EXPECT_FALSE(is_occupant({100, 540, 150, 580}, cars, 1.6f));   // outside every vehicle
  EXPECT_FALSE(is_occupant({600, 540, 650, 580}, {}, 1.6f));
}

TEST(GuidedPlates, PlateAreaIsTheLowerTwoThirdsOfTheVehicleWithMargins) {
  const Box area = plate_area_of_vehicle({100, 300, 300, 450});  // 200 x 150
  EXPECT_FLOAT_EQ(area.x1, 80);
  EXPECT_FLOAT_EQ(area.x2, 320);
  EXPECT_FLOAT_EQ(area.y1, 350);
  EXPECT_FLOAT_EQ(area.y2, 465);
}

// Regression: merging two search windows dropped the head target (and shifted the others) when the head
// network was added, so heads were not searched between keyframes (zoom clips: heads 0.47 -> 1.0 hidden).
TEST(SearchTargets, MergingKeepsEveryTarget) {
  const SearchTargets merged = SearchTargets{.heads = true} | SearchTargets{.plates = true, .persons = true};
  EXPECT_FALSE(merged.faces);
  EXPECT_TRUE(merged.heads);
  EXPECT_TRUE(merged.plates);
  EXPECT_TRUE(merged.persons);
  EXPECT_TRUE((SearchTargets{.faces = true} | SearchTargets{}).faces);
  const SearchTargets own = SearchTargets{.own_classes = 1u << 2} | SearchTargets{.own_classes = 1u << 5};
  EXPECT_TRUE(own.any());
  EXPECT_TRUE(own.wants_own(static_cast<ObjectClass>(2)));
  EXPECT_TRUE(own.wants_own(static_cast<ObjectClass>(5)));
  EXPECT_FALSE(own.wants_own(static_cast<ObjectClass>(3)));
}

TEST(Quality, PresetsTradeResolutionAndPasses) {
  DetectorConfig c;
  apply_quality(Quality::Fast, c);
  EXPECT_TRUE(c.heads.enabled);
  EXPECT_FALSE(c.face_network) << "fast: the head network alone, at 1280 px";
  EXPECT_EQ(c.heads.max_side, 1280);
  EXPECT_FALSE(c.context.enabled);
  EXPECT_FALSE(c.context.guided_plates);
  EXPECT_FALSE(c.context.refine_photos);
  EXPECT_EQ(c.plate_max_side, 1280);
  apply_quality(Quality::Max, c);
  EXPECT_TRUE(c.context.enabled);
  EXPECT_TRUE(c.context.refine);
  EXPECT_FALSE(c.context.guided_plates) << "max keeps the full plate pass on video keyframes";
  EXPECT_EQ(c.plate_max_side, 1920);
  apply_quality(Quality::Balanced, c);
  EXPECT_TRUE(c.heads.enabled);
  EXPECT_TRUE(c.face_network);
  EXPECT_EQ(c.heads.max_side, 1920);
  EXPECT_TRUE(c.context.enabled);
  EXPECT_FALSE(c.context.refine) << "balanced: no 2x looks on video keyframes...";
  EXPECT_TRUE(c.context.refine_photos) << "...but on photos";
  EXPECT_TRUE(c.context.guided_plates);
  EXPECT_EQ(quality_from_string("max"), Quality::Max);
  EXPECT_FALSE(quality_from_string("best").has_value());
}

// dashcam-berlin-dev frame with annotated pedestrians: bodies and people must add head regions (marked as
// context, so the tracker does not pad them again), and disabling them must remove them.
TEST(FrameDetector, ContextAddsHeadRegionsOnADashcamFrame) {
  const auto frame = media::decode_image(roadveil::testing::shared_dir() /
                                         "eval/dashcam-berlin-dev/images/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.jpg");
  DetectorConfig cfg;
  cfg.models_dir = roadveil::testing::models_dir();
  cfg.plates = false;
  int context_heads = 0;
  for (const Detection& d : FrameDetector(cfg).detect(*frame)) {
    if (d.source != RegionSource::Context) continue;
    ++context_heads;
    EXPECT_EQ(d.cls, ObjectClass::Face);
    EXPECT_LE(d.box.x2, frame->width);
    EXPECT_GE(d.box.y1, 0);
  }
  EXPECT_GE(context_heads, 5);  // 18 annotated heads
  // Head regions of bodies come from the head network, of people from the person detector when the head
  // network's bodies are not used: both off, none.
  cfg.heads.body_regions = false;
  int person_heads = 0;
  for (const Detection& d : FrameDetector(cfg).detect(*frame)) person_heads += d.source == RegionSource::Context;
  EXPECT_GE(person_heads, 5);
  cfg.context.enabled = false;
  for (const Detection& d : FrameDetector(cfg).detect(*frame)) EXPECT_NE(d.source, RegionSource::Context);
}

// The boxes of one class in a Pascal VOC file (the shared sets' annotation format).
std::vector<Box> voc_boxes(const std::filesystem::path& xml, const std::string& name) {
  const std::string text = roadveil::testing::read_text(xml);
  const std::regex object("<object>[^]*?<name>([^<]*)</name>[^]*?<xmin>([0-9.]+)</xmin>[^]*?<ymin>([0-9.]+)</ymin>"
                          "[^]*?<xmax>([0-9.]+)</xmax>[^]*?<ymax>([0-9.]+)</ymax>");
  std::vector<Box> boxes;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), object); it != std::sregex_iterator(); ++it)
    if ((*it)[1] == name)
      boxes.push_back({std::stof((*it)[2]), std::stof((*it)[3]), std::stof((*it)[4]), std::stof((*it)[5])});
  return boxes;
}

// A 1080p dashcam-berlin-dev frame with six annotated plates: the video keyframe pass (plates looked for
// on vehicles at full resolution and over the whole frame at half) must hide at least as many of them as
// the photo pass (the full-resolution plate network over the whole frame), and both must find most.
TEST(FrameDetector, VideoKeyframeFindsThePlatesThePhotoPassFinds) {
  const auto dir = roadveil::testing::shared_dir() / "eval/dashcam-berlin-dev";
  const auto frame = media::decode_image(dir / "images/1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg");
  const std::vector<Box> plates = voc_boxes(dir / "annotations/1325ef8d-ce4b-46a9-9a90-67d90245fb1c.xml",
                                            "Vehicle registration plate");
  ASSERT_EQ(plates.size(), 6u);
  DetectorConfig cfg;
  cfg.models_dir = roadveil::testing::models_dir();
  cfg.faces = false;
  apply_quality(Quality::Balanced, cfg);
  FrameDetector detector(cfg);
  auto hidden = [&](const Detections& found) {
    int n = 0;
    for (const Box& truth : plates)
      n += std::any_of(found.begin(), found.end(), [&](const Detection& d) {
        return d.cls == ObjectClass::Plate && intersection(d.box, truth).area() >= 0.5f * truth.area();
      });
    return n;
  };
  const int photo = hidden(detector.detect_whole(*frame, WholeFramePass::photo()));
  const int keyframe = hidden(detector.detect_whole(*frame, WholeFramePass::video_keyframe()));
  EXPECT_GE(photo, 5);
  EXPECT_GE(keyframe, photo);
}

// The same frame: the head network boxes heads from any side (18 annotated, many seen from behind or the
// side, where the face network finds few), as Head detections that the tracker pads as whole heads.
TEST(FrameDetector, HeadNetworkFindsHeadsTheFaceNetworkMisses) {
  const auto dir = roadveil::testing::shared_dir() / "eval/dashcam-berlin-dev";
  const auto frame = media::decode_image(dir / "images/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.jpg");
  const std::vector<Box> heads = voc_boxes(dir / "annotations/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.xml", "Human face");
  ASSERT_GE(heads.size(), 10u);
  DetectorConfig cfg;
  cfg.models_dir = roadveil::testing::models_dir();
  cfg.plates = false;
  cfg.context.enabled = false;
  cfg.heads.body_regions = false;
  auto found = [&](const DetectorConfig& c, RegionSource source) {
    int n = 0;
    const Detections all = FrameDetector(c).detect(*frame);
    for (const Box& truth : heads)
      n += std::any_of(all.begin(), all.end(), [&](const Detection& d) {
        return d.source == source && iou(d.box, truth) > 0.3f;
      });
    return n;
  };
  DetectorConfig heads_only = cfg;
  heads_only.face_network = false;
  DetectorConfig faces_only = cfg;
  faces_only.heads.enabled = false;
  const int by_head_network = found(heads_only, RegionSource::Head);
  const int by_face_network = found(faces_only, RegionSource::Detector);
  std::printf("heads matched: head network %d, face network %d of %zu\n", by_head_network, by_face_network, heads.size());
  EXPECT_GE(by_head_network, static_cast<int>(heads.size()) / 2);
  EXPECT_GT(by_head_network, by_face_network);
}
