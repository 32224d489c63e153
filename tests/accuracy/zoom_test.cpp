// Video floors on clips with exact per-frame truth: annotated dashcam stills turned into "driving forward"
// clips (a steady 1.8x zoom over 48 frames at 24 fps) by bench/zoom_clips, measured by `roadveil eval` with
// the default settings (keyframes, searches, tracking). A small subset keeps CI short; the README's table
// covers the whole sets (bench/zoom_clips/zoom_bench.cpp). Floors are measured values rounded down.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

using namespace roadveil::testing;

#ifdef ROADVEIL_ZOOM_BENCH
namespace {
nlohmann::json zoom(const std::string& set, int clips, const std::string& motion) {
  TempDir dir;
  const auto r = run_command(std::string(ROADVEIL_ZOOM_BENCH) + " --annotations " +
                             quote(shared_dir() / "eval" / set / "annotations") + " --work " + quote(dir / "clips") +
                             " --limit " + std::to_string(clips) + " --motion " + motion + " --json " +
                             quote(dir / "zoom.json") + " --roadveil " + quote(ROADVEIL_CLI) + " -- --models " +
                             quote(models_dir()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::printf("%s", r.output.c_str());
  return nlohmann::json::parse(read_text(dir / "zoom.json"));
}
}  // namespace

TEST(VideoFloor, DashcamBerlinZoomIn) {
  const auto j = zoom("dashcam-berlin-dev", 4, "in");
  EXPECT_EQ(j["clips"], 4);
  // Measured (2026-12-02, search windows with plate context and a first look on the next frame): heads
  // 122/178 object-frames = 0.685, 4 of 7 never exposed; plates 321/324 = 0.991, 7 of 8 never exposed; 2.2% of
  // the frame hidden. (Before: heads 0.730 and 5 of 7, plates 0.978 and 5 of 8. On these 7 heads one head of
  // 196eb840 lost 7 frames and one of 1e0826e6 one frame; over all 50 clips heads rose 0.853 -> 0.867 and
  // 95 -> 98 of 131 never exposed, README.)
  EXPECT_GE(j["face"]["recall"].get<double>(), 0.65);
  EXPECT_GE(j["face"]["never_exposed_share"].get<double>(), 0.55);
  EXPECT_GE(j["plate"]["recall"].get<double>(), 0.97);
  EXPECT_GE(j["plate"]["never_exposed_share"].get<double>(), 0.85);
  EXPECT_LE(j["hidden_area_share"].get<double>(), 0.03);
}
#endif
