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
  // Measured (2026-12-02, third session: the tracker joins a jittered box with its neighbours' consensus,
  // carries over a spread of speeds and carries objects leaving the frame until they are out): heads 127/178
  // object-frames = 0.713, 5 of 7 never exposed; plates 323/324 = 0.997, 7 of 8; 2.85% of the frame hidden.
  // (Before: heads 122/178 = 0.685 and 4 of 7, plates 321/324 and 7 of 8, 2.2%; over all 50 clips heads
  // never exposed rose 98 -> 102 and plates 116 -> 119 of 131 and 135, README.)
  // 2026-12-03, searches continue followed objects on weaker evidence (--continue-score 0.5): heads 137/178 =
  // 0.770, 6 of 7 never exposed; plates unchanged; 3.0% of the frame hidden. Then objects seen once borrow
  // their neighbours' motion and carried regions stop at 2x their detection: heads 143/178 = 0.803, 6 of 7;
  // plates unchanged; 3.25%.
  // 2026-12-03 (fourth session): the clips zoom towards a fixed point (the crop was centred on it before), a
  // track followed long is carried as long, and guesses get the margin their track's shake shows: heads
  // 143/178 = 0.803, 6 of 7; plates 323/324, 7 of 8; 2.7% of the frame hidden.
  // 2026-12-04 (eleventh session): 3.24% hidden (the same heads and plates); occupants kept in their vehicles
  // (DetectionSchedule, occupant_keyframes) add a bus passenger kept for two keyframes: 3.46%.
  // 2026-12-05: plates get 0.2 of their width on each side instead of 0.15 (track/padding.hpp): plates
  // 323/324 -> 324/324, 7 -> 8 of 8 never exposed, heads the same, 3.46% -> 3.56% (over all 50 clips one more
  // plate never exposed, 3.66% -> 3.73%).
  // 2026-12-05 (thirteenth session): occupants are kept in a vehicle running off the frame's edge (the bus
  // driver of 196eb840, exposed for 35 frames): heads 143/178 -> 178/178, 6 -> 7 of 7 never exposed, plates
  // the same, 3.56% -> 4.08% (196eb840's bus passengers, and on 1f2c292e two "occupants" of a van cut by the
  // left edge, pedestrians who had crossed in front of it, kept on its side and searched around; over all 50
  // clips 3.73% -> 3.82%).
  EXPECT_GE(j["face"]["recall"].get<double>(), 0.95);
  EXPECT_GE(j["face"]["never_exposed_share"].get<double>(), 0.99);
  EXPECT_GE(j["plate"]["recall"].get<double>(), 0.98);
  EXPECT_GE(j["plate"]["never_exposed_share"].get<double>(), 0.85);
  // 2026-12-05 (fifteenth session): tracks are carried back 48 frames (2 s) instead of 24: heads and plates
  // the same here (all 50 clips: head-frames 4350 -> 4400 of 4614, 120 -> 122 heads never exposed), 4.08% ->
  // 5.36% of the frame: 196eb840's bus windows and a sign taken for a plate, first found in the last second,
  // carried back over the first (all 50 clips 3.8% -> 4.4%).
  EXPECT_LE(j["hidden_area_share"].get<double>(), 0.055);
}
#endif
