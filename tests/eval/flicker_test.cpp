#include <gtest/gtest.h>

#include "eval/flicker.hpp"

using namespace roadveil;
using namespace roadveil::eval;

namespace {
Region plate(float x) { return {ObjectClass::Plate, Box{x, 100, x + 40, 112}, 0.9f}; }
Region face(float x) { return {ObjectClass::Face, Box{x, 100, x + 20, 120}, 0.9f}; }
}  // namespace

TEST(Flicker, SteadyMovingRegionsDoNotFlicker) {
  std::map<std::int64_t, Regions> frames;
  for (int i = 0; i < 10; ++i) frames[i] = {plate(100.0f + 10 * i)};
  const auto c = count_flicker(frames, 10);
  EXPECT_EQ(c.blips, 0);
  EXPECT_EQ(c.holes, 0);
}

TEST(Flicker, CountsBlipsAndHolesPerClass) {
  std::map<std::int64_t, Regions> frames;
  for (int i = 0; i < 10; ++i) frames[i] = {plate(100)};
  frames.erase(4);                      // a one-frame hole in the plate track
  frames[6].push_back(plate(600));      // a plate seen in one frame only
  frames[8].push_back(face(100));       // a face over the plate: other class, so a blip too
  const auto c = count_flicker(frames, 10);
  EXPECT_EQ(c.holes, 1);
  EXPECT_EQ(c.blips, 2);
  EXPECT_NEAR(c.per_1000_frames(), 300.0, 1e-9);
  // A two-frame gap is not single-frame flicker.
  frames.erase(5);
  EXPECT_EQ(count_flicker(frames, 10).holes, 0);
}

TEST(Flicker, FirstAndLastFramesAreNotJudged) {
  std::map<std::int64_t, Regions> frames{{0, {plate(0)}}, {4, {plate(0)}}};
  EXPECT_EQ(count_flicker(frames, 5).blips, 0);
  EXPECT_EQ(count_flicker({}, 0).frames, 0);
}
