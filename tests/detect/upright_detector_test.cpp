// A sideways video is searched upright (#16 item 13): the wrapped detector sees turned frames and turned
// windows, and what it finds comes back in stored pixels.
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "detect/upright_detector.hpp"

namespace roadveil::detect {
namespace {

// Finds one face at a fixed upright box; remembers what it was shown.
class FakeDetector final : public Detector {
 public:
  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override {
    seen_w = frame.width, seen_h = frame.height;
    ++turned_frames_seen;
    return {{ObjectClass::Face, Box{10, 5, 30, 35}, 0.9f, RegionSource::Detector}};
  }
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets&, float scale) override {
    seen_w = frame.width, seen_h = frame.height;
    last_window = window;
    last_scale = scale;
    return {{ObjectClass::Face, window, 0.9f, RegionSource::Detector}};
  }
  Detections detect_glance(const AVFrame& frame, const GlancePass&) override {
    seen_w = frame.width, seen_h = frame.height;
    return {{ObjectClass::Plate, Box{40, 100, 80, 140}, 0.8f, RegionSource::Detector}};
  }
  void set_pixel_aspect(float aspect) override { pixel_aspect = aspect; }
  int seen_w = 0, seen_h = 0, turned_frames_seen = 0;
  float pixel_aspect = 0, last_scale = 0;
  Box last_window;
  // A driver in a car, in upright pixels.
  std::span<const Occupant> occupants() const override { return occupants_; }
  std::span<const Box> vehicles() const override { return vehicles_; }
  std::vector<Occupant> occupants_{{Box{10, 5, 30, 35}, Box{0, 0, 60, 60}, 0.5f, RegionSource::Head}};
  std::vector<Box> vehicles_{Box{0, 0, 60, 60}};
};

TEST(UprightDetector, SearchesTurnedFramesAndReturnsStoredBoxes) {
  media::FramePtr frame = media::make_frame();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = 160;  // stored 160x90, shown upright as 90x160 (turn 90 clockwise)
  frame->height = 90;
  ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  FakeDetector fake;
  UprightDetector upright(fake, 90, 160, 90);
  const Detections whole = upright.detect_whole(*frame, WholeFramePass::video_keyframe());
  EXPECT_EQ(fake.seen_w, 90);
  EXPECT_EQ(fake.seen_h, 160);
  ASSERT_EQ(whole.size(), 1u);
  // Upright (10,5)-(30,35) is stored at x in [5, 35], y in [90-30, 90-10].
  EXPECT_EQ(whole[0].box, (Box{5, 60, 35, 80}));
  // So are the occupants and vehicles of the call (the schedule keeps occupants in stored pixels).
  ASSERT_EQ(upright.occupants().size(), 1u);
  EXPECT_EQ(upright.occupants()[0].region, (Box{5, 60, 35, 80}));
  EXPECT_EQ(upright.occupants()[0].vehicle, (Box{0, 30, 60, 90}));
  EXPECT_EQ(upright.occupants()[0].source, RegionSource::Head);
  ASSERT_EQ(upright.vehicles().size(), 1u);
  EXPECT_EQ(upright.vehicles()[0], (Box{0, 30, 60, 90}));
  // A window in stored pixels reaches the detector turned, and comes back as it was.
  const Box window{100, 10, 140, 50};
  const Detections around = upright.detect_around(*frame, window, SearchTargets{.faces = true}, 1.0f);
  EXPECT_EQ(fake.last_window, (Box{40, 100, 80, 140}));
  ASSERT_EQ(around.size(), 1u);
  EXPECT_EQ(around[0].box, window);
  // The glance between keyframes too (a sideways video had none: found by a review on 2026-12-07).
  fake.seen_w = fake.seen_h = 0;
  const Detections glance = upright.detect_glance(*frame, GlancePass{});
  EXPECT_EQ(fake.seen_w, 90);
  EXPECT_EQ(fake.seen_h, 160);
  ASSERT_EQ(glance.size(), 1u);
  EXPECT_EQ(glance[0].box, window);
}

// A stored pixel shown twice as wide as high is shown twice as high as wide once the frame is turned a
// quarter: the wrapped detector gets the upright frame's aspect (a half turn keeps it).
TEST(UprightDetector, GivesTheUprightFramesPixelAspect) {
  FakeDetector fake;
  UprightDetector quarter(fake, 90, 160, 90);
  quarter.set_pixel_aspect(2.0f);
  EXPECT_FLOAT_EQ(fake.pixel_aspect, 0.5f);
  EXPECT_FLOAT_EQ(quarter.pixel_aspect(), 2.0f);  // what the schedule measures stored boxes with
  // A window's scale, per stored row, becomes one per upright row: a stored column, shown twice as long.
  media::FramePtr frame = media::make_frame();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = 160;
  frame->height = 90;
  ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  quarter.detect_around(*frame, Box{100, 10, 140, 50}, SearchTargets{.faces = true}, 0.75f);
  EXPECT_FLOAT_EQ(fake.last_scale, 1.5f);
  UprightDetector half(fake, 180, 160, 90);
  half.set_pixel_aspect(2.0f);
  EXPECT_FLOAT_EQ(fake.pixel_aspect, 2.0f);
}

}  // namespace
}  // namespace roadveil::detect
