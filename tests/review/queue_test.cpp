// The review queue on hand-made regions entries: each signal puts the frames it is about first.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <fstream>
#include <filesystem>

#include "review/queue.hpp"

namespace roadveil::review {
namespace {

pipeline::RegionsEntry entry(std::int64_t frames) {
  pipeline::RegionsEntry e;
  e.info.input = "clip.mp4";
  e.info.output = "out/clip.mp4";
  e.info.width = 1920;
  e.info.height = 1080;
  e.info.frame_rate = 24;
  e.info.frame_count = frames;
  return e;
}

void add(pipeline::RegionsEntry& e, std::int64_t f, RegionSource source, int track, Box box = {900, 500, 960, 560},
         ObjectClass cls = ObjectClass::Face) {
  e.frames[f].push_back({cls, box, 0.8f, source, track});
}

std::int64_t rank_of(const std::vector<QueuedFrame>& q, std::int64_t frame) {
  for (std::size_t i = 0; i < q.size(); ++i)
    if (q[i].frame == frame) return static_cast<std::int64_t>(i);
  return -1;
}

TEST(ReviewQueue, FramesJustBeforeATrackStartsInTheMiddleOfThePictureComeFirst) {
  // A head found from frame 30 to 59 in the middle of the picture, and one entering at the left edge.
  auto e = entry(60);
  for (int f = 30; f < 60; ++f) add(e, f, RegionSource::Detector, 1);
  for (int f = 30; f < 60; ++f) add(e, f, RegionSource::Detector, 2, Box{0, 500, 40, 560});
  const auto q = rank_frames({e}, {});
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.front().frame, 29) << "the frame right before the first detection";
  EXPECT_EQ(q.front().reasons.front().what, "before the track's first region");
  EXPECT_EQ(q.front().reasons.front().track, 1);
  // Risk decays with the distance from the track; nothing before frame 30 - reach.
  EXPECT_LT(rank_of(q, 29), rank_of(q, 20));
  EXPECT_EQ(rank_of(q, 5), -1);
  EXPECT_NEAR(q.front().time, 29.0 / 24.0, 1e-9);
  // Nothing after the last frame of the video.
  EXPECT_TRUE(std::none_of(q.begin(), q.end(), [](const QueuedFrame& f) { return f.frame >= 60; }));
}

// A frame's time was frame / rate: seconds off in a variable-frame-rate video (a phone's, after a pause) and off by
// the start time where the video does not start at 0, so the time the queue gave was not where the editor and
// a player show the frame. It comes from the frame's timestamp in the regions file now.
TEST(ReviewQueue, TimesComeFromTheFramesTimestamps) {
  auto e = entry(60);
  e.info.time_base_num = 1;
  e.info.time_base_den = 90000;
  // 24 fps, with a 5 s pause before frame 30 and a stream that starts at 1.5 s.
  for (int f = 30; f < 60; ++f) {
    add(e, f, RegionSource::Detector, 1);
    e.pts[f] = 135000 + 3750 * f + 450000;
  }
  const auto q = rank_frames({e}, {});
  ASSERT_EQ(q.front().frame, 29);
  // Frame 29 has no regions (no timestamp in the file): counted back at the frame rate from the first frame
  // that has one, 30 (from 0 it was off by the stream's start).
  EXPECT_NEAR(q.front().time, (135000.0 + 3750 * 30 + 450000) / 90000 - 1.0 / 24, 1e-9);
  for (const QueuedFrame& f : q) EXPECT_DOUBLE_EQ(f.time, e.time_of(f.frame)) << f.frame;
  EXPECT_NEAR(e.time_of(45), (135000.0 + 3750 * 45 + 450000) / 90000, 1e-9);
  EXPECT_NEAR(e.time_of(62), (135000.0 + 3750 * 59 + 450000) / 90000 + 3.0 / 24, 1e-9);
}

TEST(ReviewQueue, CarriedRegionsRiskMoreTheFurtherTheyAreFromTheDetection) {
  auto e = entry(100);
  for (int f = 10; f < 20; ++f) add(e, f, RegionSource::Backward, 1);
  for (int f = 20; f < 40; ++f) add(e, f, RegionSource::Detector, 1);
  for (int f = 40; f < 46; ++f) add(e, f, RegionSource::Extended, 1);
  const auto q = rank_frames({e}, {});
  auto risk = [&](std::int64_t f) { return q[static_cast<std::size_t>(rank_of(q, f))].risk; };
  EXPECT_GT(risk(10), risk(19));
  EXPECT_GT(risk(45), risk(40));
  EXPECT_EQ(rank_of(q, 30), -1) << "a frame with the detection itself needs no look";
}

TEST(ReviewQueue, InterpolatedGapsAndGuessedHeadsAreQueued) {
  auto e = entry(50);
  add(e, 0, RegionSource::Detector, 1);
  for (int f = 1; f < 12; ++f) add(e, f, RegionSource::Interpolated, 1);
  add(e, 12, RegionSource::Detector, 1);
  for (int f = 13; f < 50; ++f) add(e, f, RegionSource::Detector, 1);
  // A hand-edited track with a bare gap (no region at all in frames 21-24).
  add(e, 20, RegionSource::Detector, 3, Box{600, 300, 640, 340});
  add(e, 25, RegionSource::Detector, 3, Box{600, 300, 640, 340});
  add(e, 40, RegionSource::Context, 7, Box{100, 100, 200, 180});
  // A body whose head was also found: no reason.
  add(e, 41, RegionSource::Context, 8, Box{300, 100, 400, 180});
  add(e, 41, RegionSource::Head, 9, Box{330, 110, 370, 160});
  const auto q = rank_frames({e}, {}, QueueOptions{.reach_frames = 1});
  ASSERT_GE(rank_of(q, 6), 0);
  EXPECT_EQ(q[static_cast<std::size_t>(rank_of(q, 6))].reasons.front().what, "interpolated over a gap of 11 frames");
  ASSERT_GE(rank_of(q, 22), 0) << "a gap frame without any region";
  EXPECT_TRUE(std::any_of(q[static_cast<std::size_t>(rank_of(q, 22))].reasons.begin(),
                          q[static_cast<std::size_t>(rank_of(q, 22))].reasons.end(),
                          [](const Reason& r) { return r.track == 3 && r.what == "interpolated over a gap of 4 frames"; }));
  bool guessed40 = false, guessed41 = false;
  for (const auto& f : q)
    for (const auto& r : f.reasons)
      if (r.what == "head guessed from a body") (f.frame == 40 ? guessed40 : guessed41) = true;
  EXPECT_TRUE(guessed40);
  EXPECT_FALSE(guessed41);
}

// After a track ends the object is looked for where the track's motion takes it; where another region already
// covers that place (the object found again as another track), the frame needs no look for it.
TEST(ReviewQueue, AfterATrackEndsItsObjectIsLookedForWhereItMovedUnlessARegionCoversIt) {
  auto moving = [](int f) { return Box{100.f + 10 * f, 500, 160.f + 10 * f, 560}; };
  auto e = entry(60);
  for (int f = 0; f < 20; ++f) add(e, f, RegionSource::Detector, 1, moving(f));
  const auto q = rank_frames({e}, {});
  const auto at = [&](const std::vector<QueuedFrame>& queue, std::int64_t frame) -> const Reason* {
    const std::int64_t rank = rank_of(queue, frame);
    return rank < 0 ? nullptr : &queue[static_cast<std::size_t>(rank)].reasons.front();
  };
  const Reason* lost = at(q, 25);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->what, "after the track's last region");
  EXPECT_NEAR(lost->box.x1, moving(25).x1, 0.01f) << "where its motion took it, not where it was last seen";
  // The same object found again from frame 22 on as track 2: nothing left to look at there.
  auto again = e;
  for (int f = 22; f < 60; ++f) add(again, f, RegionSource::Detector, 2, moving(f));
  const auto q2 = rank_frames({again}, {});
  EXPECT_EQ(rank_of(q2, 25), -1);
  ASSERT_NE(at(q2, 21), nullptr) << "frame 21, before track 2 starts, still needs a look";
}

TEST(ReviewQueue, WhatVerifyFoundGoesFirstMatchedByTheOutputsName) {
  auto e = entry(100);
  for (int f = 30; f < 60; ++f) add(e, f, RegionSource::Detector, 1);
  const auto q = rank_frames({e}, {{"elsewhere/clip.mp4", 77, ObjectClass::Plate, Box{10, 10, 50, 30}, 0.6f}});
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.front().frame, 77);
  EXPECT_EQ(q.front().reasons.front().what, "verify found it exposed");
  EXPECT_EQ(q.front().reasons.front().cls, ObjectClass::Plate);
}


// A folder run's a/x.jpg and b/x.jpg: a verify finding of out/b/x.jpg went to the first entry of that name.
// Then findings were matched by file name only, apart from render's and verify's matching: a finding in a
// delivered copy of the folder (final/b/x.jpg) was of no entry, and dropped from the queue.
TEST(ReviewQueue, AFindingIsOfTheFileItNamesNotOfAnotherOfTheSameName) {
  std::vector<pipeline::RegionsEntry> entries(3);
  entries[0].info.input = "in/a/x.jpg";
  entries[0].info.output = "out/a/x.jpg";
  entries[1].info.input = "in/b/x.jpg";
  entries[1].info.output = "out/b/x.jpg";
  entries[2].info.input = "in/clip.mp4";
  entries[2].info.output = "out/clip.mp4";
  ExposedFinding b;
  b.file = "out/b/x.jpg";
  EXPECT_EQ(entry_of_finding(b, entries), 1U);
  b.file = "in/b/x.jpg";  // verify run on the input
  EXPECT_EQ(entry_of_finding(b, entries), 1U);
  ExposedFinding delivered;
  delivered.file = "final/b/x.jpg";  // the output folder copied elsewhere: b/x.jpg says which
  EXPECT_EQ(entry_of_finding(delivered, entries), 1U);
  delivered.file = "/mnt/final/a/x.jpg";
  EXPECT_EQ(entry_of_finding(delivered, entries), 0U);
  ExposedFinding moved;
  moved.file = "elsewhere/x.jpg";
  EXPECT_EQ(entry_of_finding(moved, entries), std::nullopt) << "ambiguous by name";
  ExposedFinding clip;
  clip.file = "copied/clip.mp4";
  EXPECT_EQ(entry_of_finding(clip, entries), 2U) << "unique by name";
  ExposedFinding other;
  other.file = "out/other.mp4";
  EXPECT_EQ(entry_of_finding(other, entries), std::nullopt);
  // Ranked: the delivered copy's finding is queued on b's entry.
  delivered.file = "final/b/x.jpg";
  delivered.frame = 0;
  const auto q = rank_frames(entries, {delivered});
  ASSERT_EQ(q.size(), 1U);
  EXPECT_EQ(q.front().entry, 1U);
}

}  // namespace
// A verify report lists files it could not check (an "error", no findings) and findings on cover art (on no
// frame of the video): reading one that has both failed as "malformed", and a cover's finding would have
// been queued as frame 0.
TEST(ReviewQueue, AVerifyReportsUncheckedFilesAndCoverFindingsAreNotFrames) {
  const auto path = std::filesystem::temp_directory_path() / ("roadveil_queue_verify_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << R"({"files": [
      {"file": "broken.jpg", "error": "broken.jpg: file is empty"},
      {"file": "out/clip.mp4", "findings": [
        {"kind": "exposed", "class": "face", "frame": 7, "box": [1, 2, 3, 4], "score": 0.9},
        {"kind": "exposed", "class": "plate", "frame": 0, "attached_picture": 2, "box": [5, 6, 7, 8], "score": 0.8},
        {"kind": "readable", "class": "face", "frame": 9, "box": [1, 2, 3, 4], "score": 0.5}]}]})";
  }
  const std::vector<ExposedFinding> found = read_verify_report(path);
  std::filesystem::remove(path);
  // The readable region is queued too (it was dropped: "what verify found goes first" held for exposures only).
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].frame, 7);
  EXPECT_FALSE(found[0].readable);
  EXPECT_EQ(found[0].file, "out/clip.mp4");
  EXPECT_EQ(found[1].frame, 9);
  EXPECT_TRUE(found[1].readable);
}

}  // namespace roadveil::review
