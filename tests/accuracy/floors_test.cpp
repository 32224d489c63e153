// Accuracy floors on the shared annotated sets, through the real `roadveil eval` command with default
// settings. Each floor is a measured value rounded down (see README, Accuracy): a change that hides less
// fails here. The ceilings on stray regions (hidden areas that match nothing annotated) are measured
// values rounded up: a change that hides much more than it needs to fails too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {
nlohmann::json run_eval(const std::string& set, const std::string& options = "") {
  TempDir dir;
  const auto json_path = dir / "report.json";
  const auto r = run_command(std::string(ROADVEIL_CLI) + " eval --models " + quote(models_dir()) + " --ground-truth " +
                             quote(shared_dir() / "eval" / set / "annotations") + " --json " + quote(json_path) + " " + options);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(read_text(json_path));
}
}  // namespace

TEST(AccuracyFloor, PlatesDashcamRo) {
  const auto j = run_eval("plates-dashcam-ro");
  EXPECT_EQ(j["classes"]["plate"]["truth"], 131);
  EXPECT_GE(j["classes"]["plate"]["recall"].get<double>(), 0.98);
  EXPECT_LE(j["stray_regions_per_image"].get<double>(), 2.2);  // 1.87 with the 2x looks on photos
}

TEST(AccuracyFloor, FacesStreet) {
  const auto j = run_eval("faces-street");
  EXPECT_EQ(j["classes"]["face"]["truth"], 4072);
  // 3894/4072 = 0.956 with guessed head regions hidden whole (drawn_as_ellipse), 35.3% -> 36.4% of the frame.
  EXPECT_GE(j["classes"]["face"]["recall"].get<double>(), 0.945);
  // Crowd photos: most stray regions are unannotated heads (backs of heads, background); area is the cost.
  EXPECT_LE(j["stray_regions_per_image"].get<double>(), 7.0);  // 6.55
  EXPECT_LE(j["hidden_area_share"].get<double>(), 0.37);
}

TEST(AccuracyFloor, DashcamBerlinDev) {
  const auto j = run_eval("dashcam-berlin-dev");
  EXPECT_EQ(j["classes"]["face"]["truth"], 131);
  EXPECT_EQ(j["classes"]["plate"]["truth"], 135);
  // 112/131 = 0.855 and 132/135 = 0.978 with the 2x looks at person tops and small vehicles on photos
  // (the targets: 0.85 and 0.97 at most 2% of the frame hidden); before them 0.847 and 0.956.
  // 113/131 = 0.863 with guessed head regions hidden whole (1.1% of the frame).
  EXPECT_GE(j["classes"]["face"]["recall"].get<double>(), 0.85);
  EXPECT_GE(j["classes"]["plate"]["recall"].get<double>(), 0.97);
  EXPECT_LE(j["stray_regions_per_image"].get<double>(), 7.0);  // 6.78; mostly real heads the annotation lacks
  EXPECT_LE(j["hidden_area_share"].get<double>(), 0.012);
}

// Video keyframes look for plates on vehicles (and over the whole frame at half resolution) instead of the
// full-resolution pass photos get: on the same images they must hide as much.
TEST(AccuracyFloor, DashcamBerlinDevAsVideoKeyframes) {
  const auto j = run_eval("dashcam-berlin-dev", "--as-video-keyframe");
  EXPECT_GE(j["classes"]["face"]["recall"].get<double>(), 0.84);
  EXPECT_GE(j["classes"]["plate"]["recall"].get<double>(), 0.94);
  EXPECT_LE(j["stray_regions_per_image"].get<double>(), 6.0);
  EXPECT_LE(j["hidden_area_share"].get<double>(), 0.012);
}

TEST(AccuracyFloor, PlatesDashcamRoAsVideoKeyframes) {
  const auto j = run_eval("plates-dashcam-ro", "--as-video-keyframe");
  EXPECT_GE(j["classes"]["plate"]["recall"].get<double>(), 0.98);
}
