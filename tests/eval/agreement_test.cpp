#include <gtest/gtest.h>

#include "eval/agreement.hpp"

using namespace roadveil;
using namespace roadveil::eval;

namespace {
Region plate(float x, float w = 40) { return {ObjectClass::Plate, Box{x, 100, x + w, 112}, 0.9f}; }
Region face(float x) { return {ObjectClass::Face, Box{x, 100, x + 20, 124}, 0.9f}; }
EvalConfig boxes() {
  EvalConfig c;
  c.ellipse = {false, false};
  return c;
}
}  // namespace

TEST(Agreement, IdenticalRunsAgreeFully) {
  std::map<std::int64_t, Regions> ref;
  for (int i = 0; i < 5; ++i) ref[i] = {plate(10.0f * i), face(300)};
  const Agreement a = compare_regions(ref, ref, 5);
  EXPECT_EQ(a.classes[0].reference, 5);
  EXPECT_EQ(a.classes[0].hidden, 5);
  EXPECT_EQ(a.classes[1].hidden, 5);
  EXPECT_EQ(a.frames_with_miss, 0);
  EXPECT_EQ(a.longest_miss_run, 0);
}

TEST(Agreement, CountsMissesAndTheLongestRunOfFramesWithOne) {
  std::map<std::int64_t, Regions> ref, cand;
  for (int i = 0; i < 10; ++i) ref[i] = {plate(100)};
  for (int i : {0, 1, 5, 9}) cand[i] = {plate(100)};
  const Agreement a = compare_regions(ref, cand, 10, boxes());
  EXPECT_EQ(a.classes[1].reference, 10);
  EXPECT_EQ(a.classes[1].hidden, 4);
  EXPECT_EQ(a.frames_with_miss, 6);
  EXPECT_EQ(a.longest_miss_run, 3);  // frames 2, 3, 4
}

TEST(Agreement, ToleratesTheReferencesEdgeSlackButNotAShift) {
  std::map<std::int64_t, Regions> ref{{0, {plate(100)}}}, inside{{0, {plate(103, 34)}}}, shifted{{0, {plate(112)}}};
  // 3 px in from each 40 px side (7.5%): the central 80% is still covered.
  EXPECT_EQ(compare_regions(ref, inside, 1, boxes()).classes[1].hidden, 1);
  // 12 px to the right: a quarter of the plate shows.
  EXPECT_EQ(compare_regions(ref, shifted, 1, boxes()).classes[1].hidden, 0);
}

TEST(Agreement, OtherClassesDoNotCover) {
  std::map<std::int64_t, Regions> ref{{0, {face(100)}}};
  std::map<std::int64_t, Regions> cand{{0, {{ObjectClass::Plate, Box{0, 0, 500, 500}, 1.0f}}}};
  EXPECT_EQ(compare_regions(ref, cand, 1).classes[0].hidden, 0);
}

TEST(Agreement, SumsFilesAndKeepsTheLongestRun) {
  Agreement a, b;
  a.frames = 10;
  a.longest_miss_run = 4;
  a.classes[1] = {8, 6};
  b.frames = 5;
  b.longest_miss_run = 2;
  b.classes[1] = {2, 2};
  a.add(b);
  EXPECT_EQ(a.frames, 15);
  EXPECT_EQ(a.longest_miss_run, 4);
  EXPECT_DOUBLE_EQ(a.classes[1].share(), 0.8);
}

// A reference region guessed from a person or body box (Context) was hidden as its whole box: a candidate
// must cover its core (the box less the edge slack) corners included. A candidate region exactly that core
// covers it when hidden whole, not as its ellipse (pi/4 of it); against a network's box (drawn as an
// ellipse) the same ellipse is enough.
TEST(Agreement, AGuessedReferenceRegionIsComparedAsItsWholeBox) {
  const Box b{100, 100, 140, 140}, core{104, 104, 136, 136};  // kEdgeTolerance 0.1 of 40 px a side
  const std::map<std::int64_t, Regions> ref_guess{{0, {{ObjectClass::Face, b, 0.9f, RegionSource::Context}}}};
  const std::map<std::int64_t, Regions> ref_found{{0, {{ObjectClass::Face, b, 0.9f, RegionSource::Detector}}}};
  const std::map<std::int64_t, Regions> cand_ellipse{{0, {{ObjectClass::Face, core, 0.9f, RegionSource::Detector}}}};
  const std::map<std::int64_t, Regions> cand_whole{{0, {{ObjectClass::Face, core, 0.9f, RegionSource::Context}}}};
  EXPECT_EQ(compare_regions(ref_guess, cand_ellipse, 1).classes[0].hidden, 0);
  EXPECT_EQ(compare_regions(ref_guess, cand_whole, 1).classes[0].hidden, 1);
  EXPECT_EQ(compare_regions(ref_found, cand_ellipse, 1).classes[0].hidden, 1);
}
