// The side lane that runs one network beside the others (detect/side_lane.hpp), and FrameDetector's video
// passes with networks side by side: the same detections as one network at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "detect/frame_detector.hpp"
#include "detect/side_lane.hpp"
#include "media/image_file.hpp"
#include "test_util.hpp"

using namespace roadveil;
using namespace roadveil::detect;

TEST(SideLane, RunsEachJobOnItsOwnThreadWhileTheCallerGoesOn) {
  SideLane lane;
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id first_job, last_job;
  int sum = 0;
  for (int i = 1; i <= 100; ++i) {
    std::thread::id ran_on;
    auto job = [&] {
      ran_on = std::this_thread::get_id();
      sum += i;
    };
    SideLane::Running running(lane, job);
    running.finish();
    EXPECT_NE(ran_on, caller);
    if (i == 1) first_job = ran_on;
    last_job = ran_on;
  }
  EXPECT_EQ(sum, 5050);
  EXPECT_EQ(first_job, last_job) << "one thread for every job, not one each";
}

TEST(SideLane, FinishRethrowsWhatTheJobThrewAndTheLaneGoesOn) {
  SideLane lane;
  auto failing = [] { throw std::runtime_error("network failed"); };
  SideLane::Running running(lane, failing);
  EXPECT_THROW(running.finish(), std::runtime_error);
  bool ran = false;
  auto next = [&] { ran = true; };
  SideLane::Running again(lane, next);
  again.finish();
  EXPECT_TRUE(ran);
}

TEST(SideLane, TheCallerUnwindingWaitsForTheJobItStarted) {
  SideLane lane;
  std::atomic<bool> done{false};
  auto slow = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
  };
  try {
    SideLane::Running running(lane, slow);
    throw std::runtime_error("the caller's own network failed");
  } catch (const std::runtime_error&) {
    // The job refers to the caller's stack: it must be over before the frame it refers to is gone.
    EXPECT_TRUE(done.load());
  }
}

namespace {
void expect_same(const Detections& a, const Detections& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].cls, b[i].cls) << i;
    EXPECT_EQ(a[i].source, b[i].source) << i;
    EXPECT_EQ(a[i].weak, b[i].weak) << i;
    EXPECT_EQ(a[i].score, b[i].score) << i;
    EXPECT_EQ(a[i].box.x1, b[i].box.x1) << i;
    EXPECT_EQ(a[i].box.y1, b[i].box.y1) << i;
    EXPECT_EQ(a[i].box.x2, b[i].box.x2) << i;
    EXPECT_EQ(a[i].box.y2, b[i].box.y2) << i;
  }
}
}  // namespace

// A dashcam-berlin-dev frame with heads, cars and plates (scaled to 1280x720, where videos run their networks
// side by side): keyframes and glances find the same detections, in the same order, with the same occupants
// and vehicles, whether the face and head networks run beside the others or not; and so does the max
// preset, whose 2x looks keep every network on one thread.
TEST(FrameDetector, NetworksSideBySideFindWhatOneAtATimeFinds) {
  const auto dir = roadveil::testing::shared_dir() / "eval/dashcam-berlin-dev";
  roadveil::testing::TempDir tmp;
  const auto scaled = tmp.path() / "frame.png";
  roadveil::testing::ffmpeg_make("-i " + roadveil::testing::quote(dir / "images/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.jpg") +
                                 " -vf scale=1280:720 " + roadveil::testing::quote(scaled));
  const auto frame = media::decode_image(scaled);
  for (const Quality quality : {Quality::Balanced, Quality::Max}) {
    DetectorConfig cfg;
    cfg.models_dir = roadveil::testing::models_dir();
    cfg.threads = 1;
    apply_quality(quality, cfg);
    // A detector without a side lane: one network after the other, as before there was one.
    FrameDetector one_thread(cfg);
    EXPECT_FALSE(one_thread.set_networks_side_by_side(true));
    const Detections serial = one_thread.detect_whole(*frame, WholeFramePass::video_keyframe());
    const Detections serial_glance = one_thread.detect_glance(*frame, GlancePass{});
    EXPECT_EQ(one_thread.side_lane_jobs(), 0u);
    cfg.networks_side_by_side = true;
    FrameDetector detector(cfg);
    for (int round = 0; round < 2; ++round) {  // and back: the buffers given back and taken again
      EXPECT_TRUE(detector.set_networks_side_by_side(false));
      const Detections keyframe = detector.detect_whole(*frame, WholeFramePass::video_keyframe());
      expect_same(keyframe, serial);
      const auto occupants = std::vector<Occupant>(detector.occupants().begin(), detector.occupants().end());
      const auto vehicles = std::vector<Box>(detector.vehicles().begin(), detector.vehicles().end());
      const Detections glance = detector.detect_glance(*frame, GlancePass{});
      const Detections window = detector.detect_around(*frame, {300, 250, 900, 600}, {.faces = true, .heads = true, .plates = true}, 1.0f);
      expect_same(glance, serial_glance);
      const std::size_t jobs = detector.side_lane_jobs();
      EXPECT_TRUE(detector.set_networks_side_by_side(true));
      expect_same(detector.detect_whole(*frame, WholeFramePass::video_keyframe()), keyframe);
      // The keyframe ran on the lane, except with max's 2x looks, which keep it on one thread.
      EXPECT_EQ(detector.side_lane_jobs(), jobs + (quality == Quality::Max ? 0 : 1));
      ASSERT_EQ(detector.occupants().size(), occupants.size());
      for (std::size_t i = 0; i < occupants.size(); ++i) {
        EXPECT_EQ(detector.occupants()[i].region.x1, occupants[i].region.x1);
        EXPECT_EQ(detector.occupants()[i].region.y2, occupants[i].region.y2);
        EXPECT_EQ(detector.occupants()[i].vehicle.x1, occupants[i].vehicle.x1);
        EXPECT_EQ(detector.occupants()[i].score, occupants[i].score);
        EXPECT_EQ(detector.occupants()[i].source, occupants[i].source);
      }
      ASSERT_EQ(detector.vehicles().size(), vehicles.size());
      for (std::size_t i = 0; i < vehicles.size(); ++i) {
        EXPECT_EQ(detector.vehicles()[i].x1, vehicles[i].x1);
        EXPECT_EQ(detector.vehicles()[i].y2, vehicles[i].y2);
      }
      const std::size_t before_glance = detector.side_lane_jobs();
      expect_same(detector.detect_glance(*frame, GlancePass{}), glance);
      EXPECT_EQ(detector.side_lane_jobs(), before_glance + 1);
      expect_same(detector.detect_around(*frame, {300, 250, 900, 600}, {.faces = true, .heads = true, .plates = true}, 1.0f), window);
      EXPECT_GE(keyframe.size(), 10u);
    }
  }
}
