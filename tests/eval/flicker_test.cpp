#include <gtest/gtest.h>

#include "eval/flicker.hpp"

using namespace roadveil;
using namespace roadveil::eval;

namespace {
Region plate_at(float x) { return {ObjectClass::Plate, Box{x, 100, x + 40, 112}, 0.9f}; }
Region face_at(float x) { return {ObjectClass::Face, Box{x, 100, x + 20, 120}, 0.9f}; }
}  // namespace

TEST(Flicker, SteadyMovingRegionsDoNotFlicker) {
  std::map<std::int64_t, Regions> frames;
  for (int i = 0; i < 10; ++i) frames[i] = {plate_at(100.0f + 10 * i)};
  const auto c = count_flicker(frames, 10);
  EXPECT_EQ(c.blips, 0);
  EXPECT_EQ(c.holes, 0);
}

TEST(Flicker, CountsBlipsAndHolesPerClass) {
  std::map<std::int64_t, Regions> frames;
  for (int i = 0; i < 10; ++i) frames[i] = {plate_at(100)};
  frames.erase(4);                         // a one-frame hole in the plate track
  frames[6].push_back(plate_at(600));      // a plate seen in one frame only
  frames[8].push_back(face_at(100));       // a face over the plate: other class, so a blip too
  const auto c = count_flicker(frames, 10);
  EXPECT_EQ(c.holes, 1);
  EXPECT_EQ(c.blips, 2);
  EXPECT_NEAR(c.per_1000_frames(), 300.0, 1e-9);
  // A two-frame gap is not single-frame flicker.
  frames.erase(5);
  EXPECT_EQ(count_flicker(frames, 10).holes, 0);
}

TEST(Flicker, FirstAndLastFramesAreNotJudged) {
  std::map<std::int64_t, Regions> frames{{0, {plate_at(0)}}, {4, {plate_at(0)}}};
  EXPECT_EQ(count_flicker(frames, 5).blips, 0);
  EXPECT_EQ(count_flicker({}, 0).frames, 0);
}

TEST(CarriedGrowth, LargestCarriedRegionAgainstItsTracksDetections) {
  std::map<std::int64_t, Regions> frames;
  auto region = [](float side, RegionSource source, int track) {
    return Region{ObjectClass::Face, Box::from_center(200, 200, side, side), 0.9f, source, track};
  };
  frames[0] = {region(40, RegionSource::Backward, 1), region(10, RegionSource::Detector, 2)};
  frames[1] = {region(20, RegionSource::Detector, 1)};
  frames[2] = {region(30, RegionSource::Detector, 1), region(11, RegionSource::Extended, 2)};
  const CarriedGrowth g = largest_carried_region(frames);
  EXPECT_NEAR(g.ratio, 40.0 / 30.0, 1e-6);  // against the track's largest detected region
  EXPECT_EQ(g.frame, 0);
  EXPECT_EQ(g.track, 1);
  EXPECT_EQ(largest_carried_region({{0, {region(10, RegionSource::Detector, 1)}}}).frame, -1);
}
