#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "track/padding.hpp"
#include "track/tracker.hpp"

using namespace roadveil;
using namespace roadveil::track;

namespace {
PaddingConfig no_padding() {
  PaddingConfig p;
  p.face = p.plate = Padding{};
  p.min_margin_px = 0;
  return p;
}
Detections plate_at(float x, float y, float w = 40, float h = 12) {
  return {{ObjectClass::Plate, Box::from_xywh(x, y, w, h), 0.9f}};
}
std::vector<FrameRegions> drain(Tracker& t) {
  t.finish();
  std::vector<FrameRegions> out;
  while (auto f = t.pop()) out.push_back(*f);
  return out;
}
}  // namespace

TEST(Padding, FaceBecomesHeadSizedAndStaysInFrame) {
  PaddingConfig p;
  const Box head = pad_box(Box::from_xywh(100, 100, 20, 20), p.face, 1.0f, 2.0f, 1920, 1080);
  EXPECT_LT(head.y1, 100 - 8);          // more room above (hair)...
  EXPECT_LT(100 - head.y1, 0.8f * 20 + 0.01f);
  EXPECT_GT(head.y2, 120 + 3);          // ...than below (chin)
  EXPECT_LT(head.y2 - 120, 100 - head.y1);
  const Box edge = pad_box(Box{0, 0, 10, 10}, p.face, 1.0f, 2.0f, 11, 11);
  EXPECT_EQ(edge.x1, 0);
  EXPECT_EQ(edge.y1, 0);
  EXPECT_LE(edge.x2, 11);
  EXPECT_LE(edge.y2, 11);
}

TEST(Tracker, FillsAGapBetweenTwoDetections) {
  TrackerConfig cfg;
  cfg.extend_backward = 0;
  cfg.extend_forward = 0;
  cfg.extend_forward_share = 0;
  Tracker t(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 10; ++f) t.push(f == 0 || f == 6 ? plate_at(100 + 10 * f, 300) : Detections{});
  auto frames = drain(t);
  ASSERT_EQ(frames.size(), 10u);
  for (int f = 0; f <= 6; ++f) {
    ASSERT_EQ(frames[f].regions.size(), 1u) << "frame " << f;
    EXPECT_EQ(frames[f].regions[0].source, f == 0 || f == 6 ? RegionSource::Detector : RegionSource::Interpolated);
    EXPECT_NEAR(frames[f].regions[0].box.cx(), 120 + 10 * f, 8.0f) << "frame " << f;
  }
  for (int f = 7; f < 10; ++f) EXPECT_TRUE(frames[f].regions.empty()) << "frame " << f;
}

// A detection more than `max_gap` frames after a track's last one starts a new track: the frames between are
// the first track carried forward and the second carried back, never a path interpolated over the long gap.
TEST(Tracker, ADetectionAfterALongGapStartsANewTrack) {
  TrackerConfig cfg;
  cfg.max_gap = 4;
  cfg.extend_forward = 2;
  cfg.extend_forward_share = 0;
  cfg.extend_backward = 3;
  cfg.jitter_margin = 0;
  Tracker t(cfg, no_padding(), 1280, 720);
  // Detected at 0-3, then from 15: an 11-frame gap, more than max_gap.
  for (int f = 0; f < 20; ++f) t.push(f <= 3 || f >= 15 ? plate_at(100 + 10 * f, 300) : Detections{});
  auto frames = drain(t);
  ASSERT_EQ(frames.size(), 20u);
  std::set<int> ids;
  for (int f = 0; f < 20; ++f) {
    const bool forward = f >= 4 && f <= 5, backward = f >= 12 && f <= 14, detected = f <= 3 || f >= 15;
    ASSERT_EQ(frames[f].regions.size(), forward || backward || detected ? 1u : 0u) << "frame " << f;
    if (frames[f].regions.empty()) continue;
    const Region& r = frames[f].regions[0];
    EXPECT_NE(r.source, RegionSource::Interpolated) << "frame " << f;
    if (forward) {
      EXPECT_EQ(r.source, RegionSource::Extended) << "frame " << f;
    }
    if (backward) {
      EXPECT_EQ(r.source, RegionSource::Backward) << "frame " << f;
    }
    ids.insert(r.track_id);
  }
  EXPECT_EQ(ids.size(), 2u);
}

// A detection's region holds the path of its neighbours only where they are close enough to fill the frames
// between them (at most max_gap apart): with detections 10 frames apart (searches off, max_gap 12) a detection's
// neighbours are 20 frames apart and are not joined.
TEST(Tracker, ConsensusJoinsOnlyNeighboursCloseEnoughToFillTheGap) {
  for (const int spacing : {5, 10}) {
    TrackerConfig cfg;
    cfg.max_gap = 12;
    cfg.jitter_margin = 0;
    Tracker t(cfg, no_padding(), 1280, 720);
    // Three detections `spacing` frames apart, the middle one 12 px below the line through the others.
    for (int f = 0; f <= 2 * spacing; ++f)
      t.push(f == 0 || f == 2 * spacing ? plate_at(300, 300) : f == spacing ? plate_at(300, 312) : Detections{});
    auto frames = drain(t);
    ASSERT_EQ(frames[spacing].regions.size(), 1u);
    const Box& middle = frames[spacing].regions[0].box;
    const float expected_top = spacing == 5 ? 300.0f : 312.0f;  // joined with its neighbours' path, or alone
    EXPECT_NEAR(middle.y1, expected_top, 0.01f) << "detections " << spacing << " frames apart";
  }
}

// A track's last (and first) detection has no neighbour on its other side to check it: its region also holds
// the path of the detections on its one side, extrapolated to it. A plate moving 4 px a frame to the left
// whose last box comes back 9 px too far right keeps its region over the plate's left edge.
TEST(Tracker, ATracksEndDetectionsAreJoinedWithThePathOfTheDetectionsBeforeThem) {
  for (const bool consensus : {true, false}) {
    TrackerConfig cfg;
    cfg.consensus = consensus;
    cfg.jitter_margin = 0;
    Tracker t(cfg, no_padding(), 1280, 720);
    // Frames 0-10: the plate at x = 500 - 4f; the last box (frame 10) at 469 instead of 460, 40 px wide.
    // Frames 20-30: a second plate far below whose first box (frame 20) is 9 px left of its path.
    for (int f = 0; f <= 30; ++f) {
      Detections d;
      if (f < 10) d = plate_at(500.0f - 4.0f * static_cast<float>(f), 300);
      if (f == 10) d = plate_at(469, 300);
      if (f == 20) d = plate_at(291, 600);
      if (f > 20) d = plate_at(300.0f + 4.0f * static_cast<float>(f - 20), 600);
      t.push(d);
    }
    auto frames = drain(t);
    auto region_near = [&](int f, float y) {
      for (const Region& r : frames[f].regions)
        if (std::abs(r.box.y1 - y) < 20) return r.box;
      return Box{};
    };
    const float last_left = region_near(10, 300).x1, first_right = region_near(20, 600).x2;
    if (consensus) {
      EXPECT_NEAR(last_left, 460.0f, 0.01f);   // the path of frames 2-9, extrapolated one frame
      EXPECT_NEAR(first_right, 340.0f, 0.01f);  // the path of frames 21-29, extrapolated back one frame
    } else {
      EXPECT_NEAR(last_left, 469.0f, 0.01f);
      EXPECT_NEAR(first_right, 331.0f, 0.01f);
    }
  }
}

// The second opinion on a track's last box is the line through the boxes before it, not the box just before it
// moved on: that one may be off too (regression: zoom clip 5650236e, a plate's last box 7 px short of its
// left edge and the one before it 4 px, so the plate was exposed on that frame).
TEST(Tracker, ATracksLastBoxIsCheckedAgainstTheLineThroughSeveralBoxes) {
  TrackerConfig cfg;
  cfg.jitter_margin = 0;
  Tracker t(cfg, no_padding(), 1280, 720);
  // The plate at x = 500 - 4f; the box of frame 9 at 470 instead of 464, the last one (frame 10) at 469
  // instead of 460.
  for (int f = 0; f <= 10; ++f) t.push(plate_at(f == 9 ? 470.0f : f == 10 ? 469.0f : 500.0f - 4.0f * static_cast<float>(f), 300));
  auto frames = drain(t);
  ASSERT_FALSE(frames[10].regions.empty());
  EXPECT_NEAR(frames[10].regions[0].box.x1, 460.0f, 0.01f);  // the line through frames 2-9: 9's box moves it not
}

TEST(Tracker, CarriesTracksForwardAndBackward) {
  TrackerConfig cfg;
  cfg.extend_forward = 3;
  cfg.extend_forward_share = 0;
  cfg.extend_backward = 5;
  Tracker t(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 30; ++f) t.push(f >= 10 && f < 20 ? plate_at(200 + 2 * f, 400 + f) : Detections{});
  auto frames = drain(t);
  for (int f = 0; f < 30; ++f) {
    const bool expect = f >= 5 && f < 23;
    EXPECT_EQ(!frames[f].regions.empty(), expect) << "frame " << f;
    if (f >= 5 && f < 10) {
      EXPECT_EQ(frames[f].regions[0].source, RegionSource::Backward);
    }
    if (f >= 20 && f < 23) {
      EXPECT_EQ(frames[f].regions[0].source, RegionSource::Extended);
    }
  }
  // Carried boxes follow the motion: the backward box is left of the first detection.
  EXPECT_LT(frames[5].regions[0].box.cx(), frames[10].regions[0].box.cx());
}

TEST(Tracker, KeepsOneIdPerObjectAndSeparatesTwoObjects) {
  Tracker t(TrackerConfig{}, no_padding(), 1280, 720);
  for (int f = 0; f < 20; ++f) {
    Detections d = plate_at(100 + 3 * f, 300);
    d.push_back({ObjectClass::Face, Box::from_xywh(800 - 2 * f, 200, 20, 24), 0.8f});
    t.push(d);
  }
  auto frames = drain(t);
  std::set<int> plate_ids, face_ids;
  for (const auto& fr : frames)
    for (const auto& r : fr.regions) (r.cls == ObjectClass::Plate ? plate_ids : face_ids).insert(r.track_id);
  EXPECT_EQ(plate_ids.size(), 1u);
  EXPECT_EQ(face_ids.size(), 1u);
}

TEST(Tracker, WaitsForItsLookAheadBeforeReleasingAFrame) {
  TrackerConfig cfg;
  Tracker t(cfg, no_padding(), 640, 480);
  for (int f = 0; f < cfg.lookahead(); ++f) {
    t.push({});
    EXPECT_FALSE(t.pop().has_value());
  }
  t.push({});
  EXPECT_TRUE(t.pop().has_value());
}

TEST(Tracker, DisabledTrackingReturnsOnlyDetections) {
  TrackerConfig cfg;
  cfg.enabled = false;
  Tracker t(cfg, no_padding(), 640, 480);
  t.push(plate_at(10, 10));
  t.push({});
  auto frames = drain(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].regions.size(), 1u);
  EXPECT_TRUE(frames[1].regions.empty());
}

TEST(Tracker, ContextRegionsAreNotPaddedAndTrackedApart) {
  PaddingConfig p;  // real face padding
  p.min_margin_px = 0;
  Tracker t(TrackerConfig{}, p, 1920, 1080);
  const Box head{100, 100, 140, 130};
  // A face detection inside the head region in the same frame: two tracks, two regions.
  t.push({{ObjectClass::Face, head, 0.6f, RegionSource::Context}, {ObjectClass::Face, {110, 105, 130, 125}, 0.9f}});
  const auto frames = drain(t);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].regions.size(), 2u);
  int context = 0;
  for (const Region& r : frames[0].regions) {
    if (r.source != RegionSource::Context) continue;
    ++context;
    EXPECT_EQ(r.box, head);  // already head-sized: no class padding
  }
  EXPECT_EQ(context, 1);
}

// A head detector's box is the whole head: padded by a quarter on each side (so that the rendered ellipse
// holds it), not grown like a tight face box, and tracked apart from face and context boxes.
TEST(Tracker, HeadBoxesGetHeadPaddingAndTheirOwnTrack) {
  PaddingConfig p;
  p.min_margin_px = 0;
  Tracker t(TrackerConfig{}, p, 1920, 1080);
  const Box head{100, 100, 140, 140};
  t.push({{ObjectClass::Face, head, 0.6f, RegionSource::Head}, {ObjectClass::Face, head, 0.6f, RegionSource::Detector}});
  const auto frames = drain(t);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].regions.size(), 2u);
  for (const Region& r : frames[0].regions) {
    if (r.source != RegionSource::Head) {
      EXPECT_GT(r.box.width(), 80);  // face padding: ~2.2x
      continue;
    }
    EXPECT_EQ(r.box, (Box{90, 90, 150, 150}));
  }
  EXPECT_EQ(to_string(RegionSource::Head), "head");
  EXPECT_EQ(region_source_from_string("head"), RegionSource::Head);
}

// Regions carried backward and forward stay plausible (issue #12: on a 640x360 clip, face regions carried
// back in time grew to 380x360 for seconds). Two detections a frame apart whose sizes differ by a third
// extrapolate, edge by edge, to a box of the whole frame 24 frames back; the carried box may change its size
// only within the bound, plus the uncertainty growth.
TEST(Tracker, CarriedRegionsStayNearTheSizeOfTheirObject) {
  TrackerConfig cfg;
  Tracker t(cfg, no_padding(), 640, 360);
  const int first = cfg.extend_backward + 6;
  for (int f = 0; f < first + 30; ++f) {
    Detections d;
    if (f == first) d.push_back({ObjectClass::Face, Box::from_center(320, 180, 30, 30), 0.9f});
    if (f == first + 1) d.push_back({ObjectClass::Face, Box::from_center(320, 180, 20, 20), 0.9f});
    t.push(d);
  }
  const auto frames = drain(t);
  // The size bound, the spread over speeds (at most max_spread of the size on each side) and the growth.
  const float limit = (cfg.max_carry_scale + 2 * cfg.max_spread) * (1.0f + cfg.growth_per_frame * static_cast<float>(cfg.extend_backward));
  float largest = 0;
  int carried = 0;
  for (const FrameRegions& fr : frames)
    for (const Region& r : fr.regions) {
      if (r.source != RegionSource::Backward && r.source != RegionSource::Extended) continue;
      ++carried;
      largest = std::max(largest, r.box.width() / 30.0f);
      EXPECT_LE(r.box.width(), 30.0f * limit + 0.5f) << "frame " << fr.frame;
      EXPECT_LE(r.box.height(), 30.0f * limit + 0.5f) << "frame " << fr.frame;
      // However long the carry: within max_region_scale of the detection it is carried from (30x30).
      EXPECT_LE(r.box.width(), 30.0f * cfg.max_region_scale + 0.5f) << "frame " << fr.frame;
      EXPECT_LE(r.box.height(), 30.0f * cfg.max_region_scale + 0.5f) << "frame " << fr.frame;
    }
  EXPECT_EQ(carried, cfg.extend_backward + cfg.extend_forward);
  std::printf("largest carried region: %.2fx its object (bound %.2fx)\n", largest, limit);
}

// A detector's box jitters by a few pixels from frame to frame (a 46x14 plate on a zoom clip came back 35 px
// wide between two good boxes, and that frame was exposed): where neighbours agree, the region also holds
// the box they interpolate; a box that disagrees wildly (another object) is not merged.
TEST(Tracker, JitteredBoxIsJoinedWithItsNeighboursConsensus) {
  TrackerConfig cfg;
  Tracker t(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 12; ++f) {
    const float x = 300 + 6.0f * f;
    if (f == 5) t.push(plate_at(x + 8, 400, 30, 10));           // shifted and too small
    else if (f == 8)
      t.push(plate_at(x - 20, 400, 90, 40));     // another object's box
    else t.push(plate_at(x, 400));
  }
  const auto frames = drain(t);
  auto of_track = [](const FrameRegions& fr, int track) {
    for (const Region& r : fr.regions)
      if (r.track_id == track) return r.box;
    return Box{};
  };
  const int plate = frames[0].regions.at(0).track_id;
  const Box truth5 = Box::from_xywh(330, 400, 40, 12);
  EXPECT_GE(intersection(of_track(frames[5], plate), truth5).area(), truth5.area() - 0.5f);
  // Frame 8's box is no plausible continuation: a track of its own, kept as detected.
  const auto other = std::find_if(frames[8].regions.begin(), frames[8].regions.end(),
                                  [&](const Region& r) { return r.track_id != plate; });
  ASSERT_NE(other, frames[8].regions.end());
  EXPECT_EQ(other->box, Box::from_xywh(328, 400, 90, 40));
  EXPECT_LT(of_track(frames[8], plate).area(), 2 * 480.0f);

  cfg.consensus = false;
  Tracker off(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 12; ++f) off.push(f == 5 ? plate_at(300 + 6.0f * f + 8, 400, 30, 10) : plate_at(300 + 6.0f * f, 400));
  EXPECT_LT(intersection(of_track(drain(off)[5], plate), truth5).area(), 0.8f * truth5.area());
}

// What a passing camera carries out of view speeds up as it comes closer and is lost by the detector once
// the frame edge cuts it. A plate last seen accelerating towards the right edge stays hidden where it really
// is (ahead of the linear guess) until it has left the frame; one that stops being detected in the middle of
// the frame is carried as long as it was followed (at least `extend_forward` frames).
TEST(Tracker, CarriesAnObjectLeavingTheFrameUntilItIsOut) {
  TrackerConfig cfg;
  auto x_at = [](int f) { return 1000 + 6.0f * f + 0.3f * f * f; };  // accelerating to the right
  Tracker t(cfg, no_padding(), 1280, 720);
  const int last_seen = 9;  // x 1078..1118: 162 px from the edge, 11 px/frame; out from frame 23
  for (int f = 0; f < 40; ++f) t.push(f <= last_seen ? plate_at(x_at(f), 400) : Detections{});
  const auto frames = drain(t);
  int carried = 0;
  for (int f = last_seen + 1; f < 40; ++f) {
    const Box truth = intersection(Box::from_xywh(x_at(f), 400, 40, 12), Box{0, 0, 1280, 720});
    if (truth.empty()) continue;
    ASSERT_EQ(frames[f].regions.size(), 1u) << "frame " << f;
    EXPECT_EQ(frames[f].regions[0].source, RegionSource::Extended);
    if (f <= last_seen + 3) {  // the spread covers the acceleration for a few frames
      EXPECT_GE(intersection(frames[f].regions[0].box, truth).area(), truth.area() - 0.5f) << "frame " << f;
    }
    ++carried;
  }
  EXPECT_EQ(carried, 13);
  EXPECT_TRUE(frames[last_seen + cfg.exit_frames + 1].regions.empty());  // carried out, not on forever

  Tracker middle(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 40; ++f) middle.push(f <= last_seen ? plate_at(400 + 2.0f * f, 400) : Detections{});
  const auto still = drain(middle);
  // Followed over 9 frames: carried as long (TrackerConfig::extend_forward_share), at least extend_forward.
  const int forward = std::max(cfg.extend_forward, static_cast<int>(std::lround(cfg.extend_forward_share * last_seen)));
  for (int f = last_seen + 1; f < 40; ++f) EXPECT_EQ(still[f].regions.empty(), f > last_seen + forward) << "frame " << f;

  cfg.speed_spread = 0;  // the linear guess alone lags behind
  Tracker linear(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 40; ++f) linear.push(f <= last_seen ? plate_at(x_at(f), 400) : Detections{});
  const Box truth = Box::from_xywh(x_at(last_seen + 3), 400, 40, 12);
  EXPECT_LT(intersection(drain(linear)[last_seen + 3].regions[0].box, truth).area(), truth.area() - 0.5f);
}

// Zoom clip ba3a17cc: a plate followed to the right edge, then a small false box 60 px below at the closing
// keyframe nine frames later, within the gate a long gap allows: it continued the plate's track, so the plate's
// last frames were filled towards it, down and away from the plate leaving the frame. A track whose prediction
// has left the frame is not continued; it is carried out of the frame.
TEST(Tracker, ADetectionDoesNotContinueATrackPredictedOutOfTheFrame) {
  TrackerConfig cfg;
  auto x_at = [](int f) { return 1180 + 9.0f * f; };  // 40 px wide: out from frame 12
  const int last_seen = 8, stray_at = 17;
  const Detections stray{{ObjectClass::Plate, Box::from_xywh(1240, 440, 19, 16), 0.5f}};
  Tracker t(cfg, no_padding(), 1280, 720);
  for (int f = 0; f < 40; ++f) t.push(f <= last_seen ? plate_at(x_at(f), 400) : f == stray_at ? stray : Detections{});
  const auto frames = drain(t);
  // The region of a frame that covers most of the plate (the stray's track is carried back over it too).
  auto on_plate = [&](const std::vector<FrameRegions>& run, int f, float offset) {
    const Box truth = intersection(Box::from_xywh(x_at(f) + offset, 400, 40, 12), Box{0, 0, 1280, 720});
    const Region* best = nullptr;
    for (const Region& r : run[f].regions)
      if (!best || intersection(r.box, truth).area() > intersection(best->box, truth).area()) best = &r;
    EXPECT_TRUE(best && intersection(best->box, truth).area() >= truth.area() - 0.5f) << "frame " << f;
    return best ? best->track_id : -1;
  };
  const int plate_track = on_plate(frames, last_seen, 0);
  for (int f = last_seen + 1; f < 12; ++f) EXPECT_EQ(on_plate(frames, f, 0), plate_track) << "frame " << f;
  ASSERT_FALSE(frames[stray_at].regions.empty());
  for (const Region& r : frames[stray_at].regions) EXPECT_NE(r.track_id, plate_track);

  // The same plate and stray 600 px further left, the plate's prediction still in view: one track, what the
  // gate of a nine-frame gap lets through.
  Tracker inside(cfg, no_padding(), 1280, 720);
  const Detections stray_left{{ObjectClass::Plate, Box::from_xywh(640, 440, 19, 16), 0.5f}};
  for (int f = 0; f < 40; ++f)
    inside.push(f <= last_seen ? plate_at(x_at(f) - 600, 400) : f == stray_at ? stray_left : Detections{});
  const auto joined = drain(inside);
  ASSERT_EQ(joined[stray_at].regions.size(), 1u);
  EXPECT_EQ(joined[stray_at].regions[0].track_id, on_plate(joined, last_seen, -600));
}

TEST(Tracker, AnObjectSeenOnceBorrowsTheMotionOfItsNeighbours) {
  // The camera pans: everything moves 6 px a frame to the right. Plate A is seen on frames 0-10; plate B,
  // 120 px below it, only on frame 10. Carried forward, B must move with A, not stay where it was seen.
  auto run = [](float borrow_radius, float b_offset_y) {
    TrackerConfig cfg;
    cfg.borrow_radius = borrow_radius;
    Tracker t(cfg, no_padding(), 1920, 1080);
    for (int f = 0; f < 20; ++f) {
      Detections d = f <= 10 ? plate_at(200 + 6.0f * f, 300) : Detections{};
      if (f == 10) {
        const Detections b = plate_at(200 + 6.0f * f, 300 + b_offset_y);
        d.insert(d.end(), b.begin(), b.end());
      }
      t.push(d);
    }
    return drain(t);
  };
  auto b_region = [](const FrameRegions& f, float y) {
    for (const Region& r : f.regions)
      if (r.box.y1 <= y && r.box.y2 >= y) return r.box;
    return Box{};
  };
  const int f = 14;  // 4 frames after B was seen: it is 24 px further right
  const Box truth = Box::from_xywh(200 + 6.0f * f, 420, 40, 12);
  const Box borrowed = b_region(run(6, 120)[f], 426);
  EXPECT_GE(intersection(borrowed, truth).area(), truth.area() - 0.5f) << "borrowed motion keeps it covered";
  EXPECT_GT(borrowed.cx(), 200 + 6.0f * 10 + 20 + 12) << "carried to the right";
  const Box still = b_region(run(0, 120)[f], 426);
  EXPECT_LT(intersection(still, truth).area(), truth.area() - 0.5f) << "without it B stays where it was seen";
  // A neighbour 900 px away (over 6 of B's sizes) lends nothing: B stays.
  EXPECT_NEAR(b_region(run(6, 700)[f], 1006).cx(), 200 + 6.0f * 10 + 20, 2.0f);
}

// Zoom clip 64a9caff: a head seen once, on the first frame, at the left edge while everything around it moved
// left; carried with its neighbours' motion for `extend_forward` frames, then shown for the five frames it
// took to leave. Its borrowed motion takes it out of the frame, so it is carried until it is out.
TEST(Tracker, AnObjectSeenOnceIsCarriedOutOfTheFrameWithItsNeighboursMotion) {
  TrackerConfig cfg;
  auto run = [&](float borrow_radius) {
    cfg.borrow_radius = borrow_radius;
    Tracker t(cfg, no_padding(), 1280, 720);
    for (int f = 0; f < 50; ++f) {
      Detections d = f <= 10 ? plate_at(1100 + 6.0f * f, 300) : Detections{};
      if (f == 10) {  // B, 120 px below A, seen once: 1160..1200, out of the frame from frame 30
        const Detections b = plate_at(1160, 420);
        d.insert(d.end(), b.begin(), b.end());
      }
      t.push(d);
    }
    return drain(t);
  };
  auto covered = [](const FrameRegions& f, const Box& truth) {
    for (const Region& r : f.regions)
      if (intersection(r.box, truth).area() >= truth.area() - 0.5f) return true;
    return false;
  };
  const auto frames = run(6);
  for (int f = 11; f < 30; ++f) {
    const Box truth = intersection(Box::from_xywh(1160 + 6.0f * (f - 10), 420, 40, 12), Box{0, 0, 1280, 720});
    EXPECT_TRUE(covered(frames[f], truth)) << "frame " << f;
  }
  for (const Region& r : frames[10 + cfg.exit_frames + 1].regions) EXPECT_LT(r.box.y2, 410) << "carried out, not on";
  // Without neighbours it has no motion: carried where it was seen for `extend_forward` frames only.
  const auto alone = run(0);
  for (int f = 11; f < 20; ++f) {
    bool b_region = false;
    for (const Region& r : alone[f].regions) b_region |= r.box.y1 > 410;
    EXPECT_EQ(b_region, f <= 10 + cfg.extend_forward) << "frame " << f;
  }
}

TEST(Tracker, ACarriedRegionIsNeverMoreThanTwiceItsDetection) {
  // Fast motion (10 px a frame) carried 24 frames back: the speed spread (a quarter of the size on each edge)
  // and the growth of 2% a frame add up to 2.2x the plate's width; the region stops at 2x.
  TrackerConfig cfg;
  Tracker t(cfg, no_padding(), 1920, 1080);
  for (int f = 0; f < 40; ++f) t.push(f >= 24 && f <= 30 ? plate_at(600 + 10.0f * f, 500) : Detections{});
  const auto frames = drain(t);
  ASSERT_EQ(frames[0].regions.size(), 1u);
  EXPECT_EQ(frames[0].regions[0].source, RegionSource::Backward);
  EXPECT_LE(frames[0].regions[0].box.width(), 2 * 40.0f + 0.01f);
  EXPECT_LE(frames[0].regions[0].box.height(), 2 * 12.0f + 0.01f);
  EXPECT_GT(frames[0].regions[0].box.width(), 1.9f * 40.0f) << "the bound, not a smaller carry, decided";
  for (const auto& f : frames)
    for (const Region& r : f.regions) EXPECT_LE(r.box.width(), 80.01f) << "frame " << f.frame;
  cfg.max_region_scale = 0;  // without the bound
  Tracker unbounded(cfg, no_padding(), 1920, 1080);
  for (int f = 0; f < 40; ++f) unbounded.push(f >= 24 && f <= 30 ? plate_at(600 + 10.0f * f, 500) : Detections{});
  EXPECT_GT(drain(unbounded)[0].regions.at(0).box.width(), 2.1f * 40.0f);
}

TEST(Tracker, ARegionCarriedBackMovesAsSeveralDetectionsSayNotAsTwoNoisyOnes) {
  // A plate moving 3 px a frame to the right is first seen on frame 30, then every 2nd frame; its first box
  // is 3 px too far right and its second 3 px too far left, so those two alone say it stood still. Carried
  // back 24 frames, as the pipeline pops frames (while later ones are still being pushed), the region must
  // follow the motion measured over 8 frames.
  auto run = [](int baseline) {
    TrackerConfig cfg;
    cfg.velocity_baseline = baseline;
    Tracker t(cfg, no_padding(), 1920, 1080);
    std::vector<FrameRegions> out;
    for (int f = 0; f < 60; ++f) {
      const float jitter = f == 30 ? 3.0f : f == 32 ? -3.0f : 0.0f;
      t.push(f >= 30 && f % 2 == 0 ? plate_at(400 + 3.0f * f + jitter, 500) : Detections{});
      while (auto fr = t.pop()) out.push_back(*fr);
    }
    t.finish();
    while (auto fr = t.pop()) out.push_back(*fr);
    return out;
  };
  const int f = 6;
  const Box truth = Box::from_xywh(400 + 3.0f * f, 500, 40, 12);
  const auto frames = run(8);
  ASSERT_EQ(frames[f].regions.size(), 1u);
  EXPECT_EQ(frames[f].regions[0].source, RegionSource::Backward);
  EXPECT_GE(intersection(frames[f].regions[0].box, truth).area(), truth.area() - 0.5f) << "covered 24 frames back";
  // From the first two boxes only (what the tracker did before), the region stays near frame 30's box.
  const auto two = run(1);
  ASSERT_EQ(two[f].regions.size(), 1u);
  EXPECT_LT(intersection(two[f].regions[0].box, truth).area(), 0.5f * truth.area());
}

// A detector loses an object it followed for a second (blur, a dip in its score) more often than the object
// vanishes: a track followed over many frames is carried for as many once it is no longer found, where it
// moves, up to max_extend_forward; one seen over a few frames only extend_forward frames.
TEST(Tracker, ATrackFollowedLongIsCarriedLongerWhereItMoves) {
  TrackerConfig cfg;
  auto x_at = [](int f) { return 300 + 4.0f * f; };
  for (const int followed : {4, 20, 40, 80}) {
    Tracker t(cfg, no_padding(), 1280, 720);
    const int last_seen = 10 + followed;
    for (int f = 0; f < last_seen + 60; ++f) t.push(f >= 10 && f <= last_seen ? plate_at(x_at(f), 400) : Detections{});
    const auto frames = drain(t);
    const int expected = std::max(cfg.extend_forward, std::min(cfg.max_extend_forward, static_cast<int>(std::lround(cfg.extend_forward_share * followed))));
    int carried = 0;
    for (int f = last_seen + 1; f < last_seen + 60; ++f) {
      if (frames[f].regions.empty()) continue;
      ++carried;
      const Box truth = Box::from_xywh(x_at(f), 400, 40, 12);
      EXPECT_GE(intersection(frames[f].regions[0].box, truth).area(), truth.area() - 0.5f) << "followed " << followed << ", frame " << f;
    }
    EXPECT_EQ(carried, expected) << "followed " << followed;
  }
}

// A camera shakes on the road: the whole picture moves by a few pixels from one frame to the next, which the
// detections two frames apart cannot show for the frame between them. A track whose detections deviate
// from their neighbours' path gets that deviation as a margin where it is guessed; a steady one gets none.
TEST(Tracker, AGuessBetweenShakyDetectionsHasTheMarginTheirShakeShows) {
  auto shake = [](int f) { return static_cast<float>((f * 7919) % 7 - 3); };  // -3..3 px, every frame
  auto truth_at = [&](int f) { return Box::from_xywh(300 + 4.0f * f, 400 + shake(f), 40, 10); };
  auto run = [&](const TrackerConfig& cfg, bool shaky) {
    Tracker t(cfg, no_padding(), 1280, 720);
    for (int f = 0; f < 40; ++f) {
      const Box b = shaky ? truth_at(f) : Box::from_xywh(300 + 4.0f * f, 400, 40, 10);
      t.push(f % 2 == 0 ? Detections{{ObjectClass::Plate, b, 0.9f}} : Detections{});
    }
    return drain(t);
  };
  TrackerConfig cfg;
  int uncovered = 0, uncovered_without = 0;
  cfg.jitter_margin = 0;
  const auto without = run(cfg, true);
  cfg.jitter_margin = TrackerConfig{}.jitter_margin;
  const auto with = run(cfg, true);
  for (int f = 1; f < 38; f += 2) {
    const Box truth = truth_at(f);
    ASSERT_EQ(with[f].regions.size(), 1u);
    EXPECT_EQ(with[f].regions[0].source, RegionSource::Interpolated);
    uncovered += intersection(with[f].regions[0].box, truth).area() < 0.9f * truth.area();
    uncovered_without += intersection(without[f].regions[0].box, truth).area() < 0.9f * truth.area();
    // The shake's RMS deviation from the neighbours' path is 3.2-3.35 px here: a margin of that on each side.
    EXPECT_GE(with[f].regions[0].box.height(), 15.5f) << "frame " << f;
    EXPECT_LE(with[f].regions[0].box.height(), 17.2f) << "frame " << f;
  }
  EXPECT_EQ(uncovered, 0);
  EXPECT_GE(uncovered_without, 5);
  // Steady detections: the guess between them is what it was without the margin.
  const auto steady = run(cfg, false);
  cfg.jitter_margin = 0;
  const auto steady_without = run(cfg, false);
  for (int f = 1; f < 38; f += 2) EXPECT_EQ(steady[f].regions[0].box, steady_without[f].regions[0].box) << "frame " << f;
}

// A frame's regions depend only on the detections from history_frames() before it to lookahead() after it:
// popped as soon as the tracker allows, they are those of a run that knew every detection first, and a part
// of a split run that starts history_frames() earlier gives the same regions (a carry's length depends on
// how long its track was followed, its margin on the jitter before it was lost).
TEST(Tracker, AFramesRegionsDependOnlyOnItsHistoryAndLookAhead) {
  TrackerConfig cfg;
  auto shake = [](int f) { return static_cast<float>((f * 7919) % 7 - 3); };
  auto detections = [&](int f) {
    Detections d;
    if (f <= 100 && f % 2 == 0) d.push_back({ObjectClass::Plate, Box::from_xywh(200 + 3.0f * f, 300 + shake(f), 40, 12), 0.9f});
    if (f >= 60 && f <= 70) d.push_back({ObjectClass::Face, Box::from_xywh(800 - 2.0f * f, 200, 30, 30), 0.8f});
    if (f >= 130 && f % 2 == 0) d.push_back({ObjectClass::Plate, Box::from_xywh(900 + 2.0f * f, 500 + shake(f), 30, 10), 0.9f});
    return d;
  };
  const int frames = 170;
  auto streamed = [&](int first) {
    Tracker t(cfg, no_padding(), 1920, 1080);
    std::vector<FrameRegions> out;
    for (int f = first; f < frames; ++f) {
      t.push(detections(f));
      while (auto fr = t.pop()) out.push_back(*fr);
    }
    t.finish();
    while (auto fr = t.pop()) out.push_back(*fr);
    return out;
  };
  Tracker all(cfg, no_padding(), 1920, 1080);
  for (int f = 0; f < frames; ++f) all.push(detections(f));
  const auto known = drain(all);
  const auto whole = streamed(0);
  ASSERT_EQ(whole.size(), known.size());
  auto boxes = [](const FrameRegions& fr) {
    std::vector<Box> b;
    for (const Region& r : fr.regions) b.push_back(r.box);
    return b;
  };
  int carried = 0;
  for (int f = 0; f < frames; ++f) {
    EXPECT_EQ(boxes(whole[f]), boxes(known[f])) << "frame " << f;
    for (const Region& r : whole[f].regions) carried += r.source == RegionSource::Extended;
  }
  EXPECT_GE(carried, 20);  // the first plate, followed 100 frames, is carried 24 past frame 100
  for (const int start : {90, 110, 120}) {
    const int first = start - cfg.history_frames();
    const auto part = streamed(first);
    for (int f = start; f < frames; ++f) EXPECT_EQ(boxes(part[f - first]), boxes(whole[f])) << "part from " << first << ", frame " << f;
  }
}

// A zoom clip's plate (e1663ee1 #4): seen from frame 16, slowly moving down, its first box placed 13 px too
// high. Carried back from that box with the motion between it and the box 8 frames later (2.5 instead of
// 0.85 px a frame), the region drifted 45 px above the plate by frame 0, which stayed exposed for 16 frames.
// Carried along the path of all its first boxes (Theil-Sen), every frame back to 0 keeps it covered.
TEST(Tracker, OneStrayBoxDoesNotSteerACarry) {
  auto y_at = [](int f) { return 531.0f + 0.85f * static_cast<float>(f); };
  Tracker t(TrackerConfig{}, no_padding(), 1920, 1080);
  for (int f = 0; f < 40; ++f) {
    if (f < 16 || f > 26) {
      t.push({});
      continue;
    }
    t.push(plate_at(960, y_at(f) - (f == 16 ? 13.0f : 0.0f), 30, 9));
  }
  const auto frames = drain(t);
  for (int f = 0; f < 16; ++f) {
    const Box truth = Box::from_xywh(960, y_at(f), 30, 9);
    ASSERT_EQ(frames[f].regions.size(), 1u) << "frame " << f;
    EXPECT_GE(intersection(frames[f].regions[0].box, truth).area(), 0.9f * truth.area()) << "frame " << f;
    EXPECT_LT(frames[f].regions[0].box.height(), 2.0f * 9 + 13) << "frame " << f << ": bounded, not everything around";
  }
}
