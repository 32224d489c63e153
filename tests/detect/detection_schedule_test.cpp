// The video detection schedule against a scripted world: a fake detector that "sees" scripted objects,
// only when they are large enough for the search (whole frame: a coarse look; window: a sharp one).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

#include "detect/detection_schedule.hpp"
#include "textured_picture.hpp"

namespace roadveil::detect {
namespace {

using media::FramePtr;

constexpr int kW = 640, kH = 360;

FramePtr grey_frame(std::int64_t index, int luma) {
  FramePtr f(av_frame_alloc());
  f->format = AV_PIX_FMT_YUV420P;
  f->width = kW;
  f->height = kH;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  for (int y = 0; y < kH; ++y) std::memset(f->data[0] + y * f->linesize[0], luma, kW);
  f->pts = index;
  return f;
}

// Each scripted object: where it is in a frame (an empty box: not in the frame).
using Script = std::function<Box(std::int64_t frame)>;

class ScriptedDetector final : public Detector {
 public:
  explicit ScriptedDetector(std::vector<Script> objects) : objects_(std::move(objects)) {}
  float whole_min_width = 30;   // the whole-frame pass finds objects at least this wide
  float window_min_width = 10;  // a window, searched at twice the resolution, finds smaller ones
  // A window misses what it shows wider than this (detector pixels: width x scale), as the plate network
  // misses plates looked at far larger than its windows show them.
  float window_max_seen_width = 1e9f;
  int whole_calls = 0, window_calls = 0;
  std::vector<float> window_scales;
  std::vector<Box> windows;
  float aspect = 1.0f;
  float pixel_aspect() const override { return aspect; }

  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override {
    ++whole_calls;
    return visible(frame.pts, Box{0, 0, kW, kH}, whole_min_width);
  }
  // With `glances`, the glance sees what the whole-frame pass sees (and records the frames it looked at),
  // each box moved by `glance_shift` (a coarser look places boxes less exactly).
  bool glances = false;
  std::vector<std::int64_t> glanced;
  float glance_factor = 0;
  float glance_shift = 0;
  Detections detect_glance(const AVFrame& frame, const GlancePass& pass) override {
    if (!glances) return {};
    glanced.push_back(frame.pts);
    glance_factor = pass.score_factor;
    Detections found = visible(frame.pts, Box{0, 0, kW, kH}, whole_min_width);
    for (Detection& d : found) d.box = {d.box.x1 + glance_shift, d.box.y1, d.box.x2 + glance_shift, d.box.y2};
    return found;
  }
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets, float scale) override {
    ++window_calls;
    window_scales.push_back(scale);
    windows.push_back(window);
    EXPECT_TRUE(targets.plates);
    Detections found = visible(frame.pts, window, window_min_width);
    std::erase_if(found, [&](const Detection& d) { return d.box.width() * scale > window_max_seen_width; });
    return found;
  }

 private:
  Detections visible(std::int64_t frame, const Box& area, float min_width) const {
    Detections out;
    for (const Script& s : objects_) {
      const Box b = intersection(s(frame), Box{0, 0, kW, kH});
      if (b.empty() || b.width() < min_width) continue;
      if (intersection(b, area).area() < 0.9f * b.area()) continue;  // not inside the searched area
      out.push_back({ObjectClass::Plate, b, 0.9f});
    }
    return out;
  }
  std::vector<Script> objects_;
};

struct ScheduledRun {
  std::vector<FramePtr> frames;
  std::vector<Detections> detections;
  std::vector<FramePass> passes;
  std::size_t completed = 0;
};

// Feeds `count` frames (frame i made by `frame_of(i)`) through a schedule, checking that every frame is
// completed in order and never before it was added.
ScheduledRun run_schedule_on(Detector& detector, const ScheduleConfig& config, int count,
                             const std::function<FramePtr(int)>& frame_of) {
  ScheduledRun r;
  r.detections.resize(count);
  r.passes.assign(count, FramePass::None);
  DetectionSchedule schedule(detector, config);
  for (int i = 0; i < count; ++i) {
    r.frames.push_back(frame_of(i));
    r.completed += schedule.add({r.frames.back().get(), &r.detections[i], &r.passes[i]});
    EXPECT_LE(r.completed, static_cast<std::size_t>(i + 1));
    EXPECT_EQ(r.completed + schedule.held(), static_cast<std::size_t>(i + 1));
  }
  r.completed += schedule.finish();
  EXPECT_EQ(r.completed, static_cast<std::size_t>(count));
  return r;
}

// The same on grey frames (luma from `luma_of`).
ScheduledRun run_schedule(Detector& detector, const ScheduleConfig& config, int count,
                          const std::function<int(int)>& luma_of = [](int) { return 100; }) {
  return run_schedule_on(detector, config, count, [&](int i) { return grey_frame(i, luma_of(i)); });
}

// A part of a split run: frames `from`..`count - 1` only, numbered as in the whole file (vectors indexed by
// that number; frames before `from` stay empty).
ScheduledRun run_part(Detector& detector, const ScheduleConfig& config, int from, int count) {
  ScheduledRun r;
  r.detections.resize(count);
  r.passes.assign(count, FramePass::None);
  DetectionSchedule part(detector, config);
  for (int i = from; i < count; ++i) {
    r.frames.push_back(grey_frame(i, 100));
    r.completed += part.add({r.frames.back().get(), &r.detections[i], &r.passes[i], i});
  }
  r.completed += part.finish();
  return r;
}

// Every frame from `from` on gets the same pass and the same boxes in `part` as in `whole`.
void expect_same_from(const ScheduledRun& part, const ScheduledRun& whole, int from) {
  for (std::size_t i = static_cast<std::size_t>(from); i < whole.detections.size(); ++i) {
    EXPECT_EQ(part.passes[i], whole.passes[i]) << i;
    ASSERT_EQ(part.detections[i].size(), whole.detections[i].size()) << i;
    for (std::size_t k = 0; k < part.detections[i].size(); ++k) EXPECT_EQ(part.detections[i][k].box, whole.detections[i][k].box) << i;
  }
}

TEST(DetectionSchedule, IntervalOfOneDetectsEveryFrameWhole) {
  ScriptedDetector detector({[](std::int64_t) { return Box{100, 100, 160, 130}; }});
  ScheduleConfig config;
  config.keyframe_interval = 1;
  const ScheduledRun r = run_schedule(detector, config, 12);
  EXPECT_EQ(detector.whole_calls, 12);
  EXPECT_EQ(detector.window_calls, 0);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(r.passes[i], FramePass::Keyframe) << i;
    EXPECT_EQ(r.detections[i].size(), 1u) << i;
  }
}

TEST(DetectionSchedule, KeyframesOpenAndCloseEachIntervalAndTheLastFrameIsOne) {
  ScriptedDetector detector({});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  const ScheduledRun r = run_schedule(detector, config, 26);
  for (int i = 0; i < 26; ++i) {
    const bool key = i == 0 || i == 10 || i == 20 || i == 25;
    EXPECT_EQ(r.passes[i] == FramePass::Keyframe, key) << i;
  }
  EXPECT_EQ(detector.whole_calls, 4);
}

TEST(DetectionSchedule, FollowsAMovingObjectForwardFromTheKeyframeBefore) {
  // 40 px wide, moving right 6 px a frame: found at keyframe 0, leaves the frame around frame 100.
  ScriptedDetector detector({[](std::int64_t f) {
    const float x = 20.0f + 6.0f * static_cast<float>(f);
    return Box{x, 200, x + 40, 220};
  }});
  ScheduleConfig config;
  config.keyframe_interval = 30;
  config.search_every = 2;
  config.predictable_iou = 2;  // never predictable: searched on every search frame
  const ScheduledRun r = run_schedule(detector, config, 30);
  // Frame 1: the first look, where it has barely moved, gives its velocity; then every 2nd frame.
  for (int i : {1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28}) {
    ASSERT_EQ(r.detections[i].size(), 1u) << "frame " << i;
    EXPECT_NEAR(r.detections[i][0].box.x1, 20.0f + 6.0f * i, 0.01f) << i;
    EXPECT_EQ(r.passes[i], FramePass::Search) << i;
  }
  for (int i = 3; i < 29; i += 2) EXPECT_TRUE(r.detections[i].empty()) << "frame " << i << " is left to the tracker";
  EXPECT_EQ(r.passes[29], FramePass::Keyframe) << "the last frame";
  EXPECT_EQ(r.detections[29].size(), 1u);
}

TEST(DetectionSchedule, FindsAnApproachingObjectBackwardFromTheKeyframeAfter) {
  // Grows 2 px a frame: too small for the whole-frame pass until frame 13 (31 px), so keyframe 0 misses
  // it and keyframe 20 finds it; the backward search (even frames) finds it back to frame 4 (12 px).
  ScriptedDetector detector({[](std::int64_t f) {
    const float w = 4.0f + 2.0f * static_cast<float>(f);
    return Box::from_center(320, 200, w, 0.4f * w);
  }});
  ScheduleConfig config;
  config.keyframe_interval = 20;
  config.search_every = 2;
  config.predictable_iou = 2;
  const ScheduledRun r = run_schedule(detector, config, 21);
  EXPECT_TRUE(r.detections[0].empty());
  ASSERT_EQ(r.detections[20].size(), 1u);
  for (int i = 4; i < 20; i += 2) EXPECT_EQ(r.detections[i].size(), 1u) << "frame " << i;
  EXPECT_TRUE(r.detections[2].empty()) << "8 px: too small even for a window";
}

// Keyframes every 4th frame, every 2nd frame between searched whatever the motion: the windows' scales and
// shapes tests look at each window the schedule makes.
ScheduleConfig every_second_frame_searched() {
  ScheduleConfig config;
  config.keyframe_interval = 4;
  config.search_every = 2;
  config.predictable_iou = 2;
  return config;
}

TEST(DetectionSchedule, WindowsAreSearchedAtTheScaleThatShowsTheirObjectAtTheConfiguredSize) {
  auto scales_for = [](Box box) {
    ScriptedDetector detector({[box](std::int64_t) { return box; }});
    detector.whole_min_width = 1;
    run_schedule(detector, every_second_frame_searched(), 5);
    return detector.window_scales;
  };
  ScheduleConfig defaults;
  // 12 x 6 (size 8.5 px): a far plate gets the sharpest look, twice the source.
  for (float s : scales_for(Box{300, 200, 312, 206})) EXPECT_FLOAT_EQ(s, 2.0f);
  // A plate 32 px wide: exactly the configured plate width at 1x.
  for (float s : scales_for(Box{300, 200, 332, 210})) EXPECT_NEAR(s, defaults.search_plate_width / 32.0f, 1e-5f);
  // 200 x 100 (141 px): a near plate is shrunk, but never below the floor.
  const auto near = scales_for(Box{200, 100, 400, 200});
  ASSERT_FALSE(near.empty());
  for (float s : near) EXPECT_FLOAT_EQ(s, defaults.min_search_scale);
}

// Pixels shown twice as wide as high (anamorphic video): a plate stored 16 px wide is shown 32 px wide, so it
// is looked at at 1x, and its window is half as high as wide as shown (the scale was computed from the stored
// width: the plate reached the network twice as large as intended, the window at 156% of the pixels).
TEST(DetectionSchedule, AWindowsScaleAndShapeAreThoseOfItsObjectAsShown) {
  ScriptedDetector detector({[](std::int64_t) { return Box{300, 200, 316, 210}; }});
  detector.whole_min_width = 1;
  detector.aspect = 2.0f;
  ScheduleConfig config = every_second_frame_searched();
  config.min_window = 1;
  run_schedule(detector, config, 5);
  ASSERT_FALSE(detector.window_scales.empty());
  for (float s : detector.window_scales) EXPECT_NEAR(s, config.search_plate_width / 32.0f, 1e-5f);
  for (const Box& w : detector.windows) EXPECT_NEAR(w.height(), 0.5f * w.width() * 2.0f, 1.0f) << w.width() << "x" << w.height();
}

TEST(DetectionSchedule, ANearPlatesWindowIsNotMergedIntoAFarPlatesAtItsScale) {
  // A 100 px plate and, inside its window, a 12 px one. Their windows overlap; looked at as one at the far
  // plate's scale (2x), the near plate would be 200 detector pixels wide, where the network misses it: it
  // was lost between keyframes. Each is looked at at its own scale, so both are found in every frame.
  ScriptedDetector detector({[](std::int64_t) { return Box{200, 200, 300, 230}; },
                             [](std::int64_t) { return Box{320, 210, 332, 216}; }});
  detector.whole_min_width = 1;
  detector.window_max_seen_width = 120;
  ScheduleConfig config;
  config.keyframe_interval = 6;
  config.search_every = 1;
  config.predictable_iou = 2;
  const ScheduledRun r = run_schedule(detector, config, 7);
  for (int i = 0; i <= 6; ++i) EXPECT_EQ(r.detections[i].size(), 2u) << i;
  for (float s : detector.window_scales) EXPECT_TRUE(s == 2.0f || s == ScheduleConfig{}.min_search_scale) << s;
}

TEST(DetectionSchedule, SteadyMotionIsSearchedLessOftenThanErraticMotion) {
  auto steady = [](std::int64_t f) {
    const float x = 20.0f + 3.0f * static_cast<float>(f);
    return Box{x, 100, x + 40, 120};
  };
  auto erratic = [](std::int64_t f) {  // zig-zags 12 px every 2 frames
    const float x = 300.0f + ((f / 2) % 2 ? 12.0f : 0.0f);
    return Box{x, 250, x + 40, 270};
  };
  ScheduleConfig config;
  config.keyframe_interval = 80;
  config.search_every = 2;
  config.max_search_gap = 8;
  int steady_windows = 0, erratic_windows = 0;
  for (const Script& script : {Script(steady), Script(erratic)}) {
    ScriptedDetector detector({script});
    const ScheduledRun r = run_schedule(detector, config, 81);
    std::vector<int> found;
    for (int i = 0; i <= 80; ++i)
      if (!r.detections[i].empty()) {
        EXPECT_NEAR(r.detections[i][0].box.x1, script(i).x1, 0.01f) << i;
        found.push_back(i);
      }
    for (size_t k = 1; k < found.size(); ++k) EXPECT_LE(found[k] - found[k - 1], 8) << "frame " << found[k];
    if (script(1) == steady(1)) {
      steady_windows = detector.window_calls;
    } else {
      // The 39 even frames between the keyframes, both keyframes, and the first look from each (1 and 79).
      EXPECT_EQ(found.size(), 43u) << "every search frame, keyframes and first looks included";
      erratic_windows = detector.window_calls;
    }
  }
  // About half: the first looks from both keyframes cost the same for both.
  EXPECT_LE(steady_windows, 0.55 * erratic_windows) << steady_windows << " vs " << erratic_windows;
}

TEST(DetectionSchedule, AnObjectSeenAtBothKeyframesIsSearchedOncePerFrame) {
  ScriptedDetector detector({[](std::int64_t) { return Box{300, 150, 360, 180}; }});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  config.search_every = 1;
  config.predictable_iou = 2;
  const ScheduledRun r = run_schedule(detector, config, 11);
  // Forward windows cover the backward ones: 9 windows, not 18, and one detection per frame.
  EXPECT_EQ(detector.window_calls, 9);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(r.detections[i].size(), 1u) << i;
}

TEST(DetectionSchedule, WithoutAGlanceAnObjectOnlyBetweenKeyframesIsMissed) {
  // The limit of keyframes and windows alone, stated: visible in frames 3..7 only, near nothing known.
  ScriptedDetector detector({[](std::int64_t f) { return f >= 3 && f <= 7 ? Box{300, 150, 360, 180} : Box{}; }});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  const ScheduledRun r = run_schedule(detector, config, 11);
  for (const Detections& d : r.detections) EXPECT_TRUE(d.empty());
  EXPECT_EQ(detector.window_calls, 0);
}

// Regression (exploratory test of 2026-12-07): a face on screen for frames 5-20 of a 25-frame interval, or a
// plate driving through the picture in 15 frames, was never hidden: no keyframe saw it, and windows only
// look around what is known. The glance in the middle of the interval finds it; it is then followed forward
// to where it leaves and backward to where it appeared.
TEST(DetectionSchedule, AGlanceFindsAnObjectSeenOnlyBetweenKeyframesAndItIsFollowedBothWays) {
  const auto on_screen = [](std::int64_t f) { return f >= 5 && f <= 20; };
  ScriptedDetector detector({[&](std::int64_t f) { return on_screen(f) ? Box{200.f + 4 * f, 150, 260.f + 4 * f, 180} : Box{}; }});
  detector.glances = true;
  ScheduleConfig config;
  config.keyframe_interval = 25;
  config.search_every = 2;
  config.predictable_iou = 2;  // searched every 2nd frame throughout (the tracker fills the frames between)
  const ScheduledRun r = run_schedule(detector, config, 26);
  EXPECT_EQ(detector.glanced, std::vector<std::int64_t>{13}) << "one glance, in the middle of the interval";
  EXPECT_FLOAT_EQ(detector.glance_factor, 1.0f) << "a glance starts objects: boxes over the thresholds only";
  EXPECT_EQ(r.passes[13], FramePass::Search);
  int first = -1, last = -1;
  for (int i = 0; i <= 25; ++i) {
    if (r.detections[i].empty()) continue;
    EXPECT_TRUE(on_screen(i)) << "frame " << i;
    if (first < 0) first = i;
    last = i;
  }
  EXPECT_LE(first, 6) << "followed back to where it appeared";
  EXPECT_GE(last, 19) << "followed on to where it left";
  ASSERT_FALSE(r.detections[13].empty());
  EXPECT_NEAR(r.detections[13][0].box.x1, 252.0f, 0.01f);
  // Without the glance, the same world: nothing.
  ScriptedDetector blind({[&](std::int64_t f) { return on_screen(f) ? Box{200.f + 4 * f, 150, 260.f + 4 * f, 180} : Box{}; }});
  for (const Detections& d : run_schedule(blind, config, 26).detections) EXPECT_TRUE(d.empty());
  config.glances = 0;
  ScriptedDetector switched_off({[&](std::int64_t f) { return on_screen(f) ? Box{200.f + 4 * f, 150, 260.f + 4 * f, 180} : Box{}; }});
  switched_off.glances = true;
  for (const Detections& d : run_schedule(switched_off, config, 26).detections) EXPECT_TRUE(d.empty());
  EXPECT_TRUE(switched_off.glanced.empty());
}

// What a glance sees of an object already followed is that object: its coarser box neither continues it nor
// starts a second one, so the object is followed as without the glance (taking such boxes cost 58 head-frames
// on the zoom clips).
TEST(DetectionSchedule, AGlanceLeavesWhatIsAlreadyFollowedToTheWindows) {
  ScheduleConfig config;
  config.keyframe_interval = 10;
  config.search_every = 1;
  config.predictable_iou = 2;
  ScriptedDetector detector({[](std::int64_t f) { return Box{300.f + 2 * f, 150, 360.f + 2 * f, 180}; }});
  detector.glances = true;
  detector.glance_shift = 12;
  const ScheduledRun r = run_schedule(detector, config, 11);
  ASSERT_EQ(detector.glanced, std::vector<std::int64_t>{5});
  for (int i = 0; i <= 10; ++i) {
    ASSERT_EQ(r.detections[i].size(), 1u) << i;
    EXPECT_NEAR(r.detections[i][0].box.x1, 300.0f + 2 * i, 0.01f) << i;
  }
  ScriptedDetector without({[](std::int64_t f) { return Box{300.f + 2 * f, 150, 360.f + 2 * f, 180}; }});
  run_schedule(without, config, 11);
  EXPECT_EQ(detector.window_calls, without.window_calls);
}

TEST(DetectionSchedule, GlancesAreSpreadEvenlyOverIntervalsOfFourFramesOrMore) {
  ScriptedDetector detector({});
  detector.glances = true;
  ScheduleConfig config;
  config.keyframe_interval = 25;
  config.glances = 2;
  run_schedule(detector, config, 51);
  EXPECT_EQ(detector.glanced, (std::vector<std::int64_t>{8, 17, 33, 42}));
  ScriptedDetector short_intervals({});
  short_intervals.glances = true;
  config.keyframe_interval = 3;
  config.glances = 1;
  run_schedule(short_intervals, config, 10);
  EXPECT_TRUE(short_intervals.glanced.empty()) << "keyframes 3 frames apart need no glance between them";
  config.keyframe_interval = 4;
  run_schedule(short_intervals, config, 9);
  EXPECT_EQ(short_intervals.glanced, (std::vector<std::int64_t>{2, 6}));
  config.search_every = 0;
  ScriptedDetector not_searched({});
  not_searched.glances = true;
  config.keyframe_interval = 25;
  run_schedule(not_searched, config, 26);
  EXPECT_TRUE(not_searched.glanced.empty()) << "without searches between keyframes, nothing would follow what a glance finds";
}

TEST(DetectionSchedule, ASceneCutMakesBothSidesKeyframesAndNothingIsSearchedAcrossIt) {
  ScriptedDetector detector({[](std::int64_t f) { return f < 15 ? Box{300, 150, 360, 180} : Box{}; }});
  ScheduleConfig config;
  config.keyframe_interval = 50;
  config.search_every = 1;
  config.predictable_iou = 2;
  const ScheduledRun r = run_schedule(detector, config, 30, [](int i) { return i < 15 ? 40 : 220; });
  EXPECT_EQ(r.passes[14], FramePass::Keyframe);
  EXPECT_EQ(r.passes[15], FramePass::Keyframe);
  EXPECT_EQ(r.passes[29], FramePass::Keyframe);
  for (int i = 15; i < 30; ++i) EXPECT_TRUE(r.detections[i].empty()) << i;
  for (int i = 0; i < 15; ++i) EXPECT_EQ(r.detections[i].size(), 1u) << i;
}

TEST(DetectionSchedule, NoSearchWhenSearchEveryIsZero) {
  ScriptedDetector detector({[](std::int64_t) { return Box{300, 150, 360, 180}; }});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  config.search_every = 0;
  const ScheduledRun r = run_schedule(detector, config, 21);
  EXPECT_EQ(detector.window_calls, 0);
  EXPECT_EQ(detector.whole_calls, 3);
}

TEST(DetectionSchedule, IntervalFromSecondsUsesTheVideosFrameRate) {
  ScheduleConfig config;
  config.keyframe_seconds = 2;
  EXPECT_EQ(config.interval_for(25), 50);
  EXPECT_EQ(config.interval_for(29.97), 60);
  EXPECT_EQ(config.interval_for(0), 50) << "unknown rate: 25 fps assumed";
  config.keyframe_seconds = 0;
  config.keyframe_interval = 7;
  EXPECT_EQ(config.interval_for(25), 7);
}

// Weak and strong boxes are judged against different thresholds (another network, another source): a weak
// box scoring higher than a strong duplicate must not replace it.
TEST(MergeDuplicates, AStrongBoxIsKeptOverAWeakDuplicateThatScoresHigher) {
  Detections d = {{ObjectClass::Face, {0, 0, 10, 10}, 0.3f, RegionSource::Context, false},
                  {ObjectClass::Face, {1, 0, 11, 10}, 0.35f, RegionSource::Context, true}};
  merge_duplicates(d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].weak);
  EXPECT_FLOAT_EQ(d[0].score, 0.3f);
}

TEST(MergeDuplicates, KeepsTheHigherScoreOfTheSameKindOnly) {
  Detections d = {{ObjectClass::Plate, {0, 0, 10, 10}, 0.5f},
                  {ObjectClass::Plate, {1, 0, 11, 10}, 0.8f},
                  {ObjectClass::Face, {0, 0, 10, 10}, 0.6f},
                  {ObjectClass::Face, {0, 0, 10, 10}, 0.7f, RegionSource::Context},
                  {ObjectClass::Plate, {50, 50, 60, 60}, 0.4f}};
  merge_duplicates(d);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_FLOAT_EQ(d[0].score, 0.8f);
  EXPECT_EQ(std::count_if(d.begin(), d.end(), [](const Detection& x) { return x.cls == ObjectClass::Plate; }), 2);
}


// A part of a split run (pipeline/segments.hpp) starts on the keyframe grid in the middle of a file: from there
// on each frame gets the same pass and the same detections as in one run over the whole file.
TEST(DetectionSchedule, AScheduleStartedOnTheGridMidFileDetectsAsOneRun) {
  ScriptedDetector detector({[](std::int64_t f) { return Box{100.f + 4 * f, 150, 160.f + 4 * f, 180}; },
                             [](std::int64_t f) { return f > 33 ? Box{500, 200, 520.f + f, 230} : Box{}; }});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  const ScheduledRun whole = run_schedule(detector, config, 60);
  const ScheduledRun part = run_part(detector, config, 20, 60);
  expect_same_from(part, whole, 20);
}

// After a scene cut the keyframes return to the file's grid (multiples of the interval), so that where a run
// started does not move them.
TEST(DetectionSchedule, AfterASceneCutKeyframesReturnToTheGrid) {
  ScriptedDetector detector({});
  ScheduleConfig config;
  config.keyframe_interval = 10;
  const ScheduledRun r = run_schedule(detector, config, 32, [](int i) { return i < 15 ? 40 : 220; });
  for (int i = 0; i < 32; ++i) {
    const bool key = i == 0 || i == 10 || i == 14 || i == 15 || i == 20 || i == 30 || i == 31;
    EXPECT_EQ(r.passes[i] == FramePass::Keyframe, key) << i;
  }
}

// A network whose score for a plate dips under its threshold (0.5) between keyframes, as small objects'
// scores do, and which also scores a weak false plate beside it. The searches may continue the plate on
// the weak evidence; the false one, near no followed object, must not become a region.
class DippingDetector final : public Detector {
 public:
  static constexpr float kThreshold = 0.5f;
  std::vector<float> factors;
  Detections detect_whole(const AVFrame&, const WholeFramePass&) override { return {{ObjectClass::Plate, plate, 0.9f}}; }
  Detections detect_around(const AVFrame&, const Box&, const SearchTargets& targets, float) override {
    factors.push_back(targets.score_factor);
    Detections out;
    const float floor = kThreshold * targets.score_factor;
    for (const Box& b : {plate, Box{plate.x1 + 70, plate.y1, plate.x2 + 70, plate.y2}})
      if (0.3f >= floor) out.push_back({ObjectClass::Plate, b, 0.3f, RegionSource::Detector, 0.3f < kThreshold});
    return out;
  }
  Box plate{300, 200, 340, 220};
};

TEST(DetectionSchedule, WeakEvidenceContinuesAFollowedObjectButNeverStartsOne) {
  ScheduleConfig config;
  config.keyframe_interval = 12;
  config.search_every = 2;
  config.predictable_iou = 2;
  {
    DippingDetector detector;
    const ScheduledRun r = run_schedule(detector, config, 13);
    ASSERT_FALSE(detector.factors.empty());
    for (float f : detector.factors) EXPECT_FLOAT_EQ(f, config.continue_score_factor);
    for (int i : {1, 2, 4, 6, 8, 10}) {
      ASSERT_EQ(r.detections[i].size(), 1u) << "frame " << i << ": the plate, and not the weak box beside it";
      EXPECT_NEAR(r.detections[i][0].box.x1, 300.0f, 0.01f);
      EXPECT_FALSE(r.detections[i][0].weak) << "it continues a followed object: a region like any other";
    }
  }
  config.continue_score_factor = 1.0f;  // no weaker evidence: the plate is lost between the keyframes
  DippingDetector detector;
  const ScheduledRun r = run_schedule(detector, config, 13);
  for (int i = 1; i < 12; ++i) EXPECT_TRUE(r.detections[i].empty()) << i;
}

// A plate moving right, scored 0.3 (under the 0.5 threshold) by the whole-frame pass at the keyframes 10, 30
// and 50 and 0.9 everywhere else, beside a weak false plate (0.3) that every keyframe scores far from it.
class DippingAtKeyframesDetector final : public Detector {
 public:
  static constexpr float kThreshold = 0.5f;
  std::vector<float> keyframe_factors;
  bool strong_beside = false;  // at the dipping keyframes, also a strong box 8 px to the right of the plate
  static Box plate_at(std::int64_t f) { return Box{100.f + 2 * f, 200, 140.f + 2 * f, 220}; }
  Detections detect_whole(const AVFrame& frame, const WholeFramePass& pass) override {
    keyframe_factors.push_back(pass.score_factor);
    Detections out;
    const float floor = kThreshold * pass.score_factor;
    const bool dip = frame.pts % 20 == 10;
    const float score = dip ? 0.3f : 0.9f;
    if (score >= floor) out.push_back({ObjectClass::Plate, plate_at(frame.pts), score, RegionSource::Detector, score < kThreshold});
    if (dip && strong_beside) {
      const Box b = plate_at(frame.pts);
      out.push_back({ObjectClass::Plate, {b.x1 + 8, b.y1, b.x2 + 8, b.y2}, 0.6f});
    }
    if (0.3f >= floor) out.push_back({ObjectClass::Plate, {500, 300, 540, 320}, 0.3f, RegionSource::Detector, true});
    return out;
  }
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets&, float) override {
    const Box b = plate_at(frame.pts);
    if (intersection(b, window).area() < 0.9f * b.area()) return {};
    return {{ObjectClass::Plate, b, 0.9f}};
  }
};

// A keyframe keeps a weak box where an object followed through the interval arrives, as a window between
// keyframes does; a weak box that continues nothing is dropped there too.
TEST(DetectionSchedule, AKeyframeKeepsAWeakBoxThatContinuesAFollowedObject) {
  ScheduleConfig config;
  config.keyframe_interval = 10;
  {
    DippingAtKeyframesDetector detector;
    const ScheduledRun r = run_schedule(detector, config, 60);
    for (int k : {10, 30, 50}) {
      ASSERT_EQ(r.passes[k], FramePass::Keyframe);
      ASSERT_EQ(r.detections[k].size(), 1u) << "keyframe " << k << ": the plate, not the weak box far from it";
      EXPECT_EQ(r.detections[k][0].box, DippingAtKeyframesDetector::plate_at(k)) << k;
      EXPECT_FALSE(r.detections[k][0].weak) << k;
    }
    // The first keyframe has nothing followed into it: it asks for no weak boxes.
    EXPECT_FLOAT_EQ(detector.keyframe_factors.front(), 1.0f);
    EXPECT_FLOAT_EQ(detector.keyframe_factors[1], config.continue_score_factor);
  }
  config.continue_score_factor = 1.0f;  // no weaker evidence: the keyframes where the score dips lose the plate
  DippingAtKeyframesDetector detector;
  const ScheduledRun r = run_schedule(detector, config, 60);
  for (int k : {10, 30, 50}) EXPECT_TRUE(r.detections[k].empty()) << k;
}

// An object the keyframe found over its threshold takes no weak box, even one nearer its prediction: a weak
// box beside a strong one would be a second region (and track) for one object.
TEST(DetectionSchedule, AtAKeyframeAFollowedObjectTakesAStrongBoxBeforeAWeakOne) {
  ScheduleConfig config;
  config.keyframe_interval = 10;
  DippingAtKeyframesDetector detector;
  detector.strong_beside = true;
  const ScheduledRun r = run_schedule(detector, config, 60);
  for (int k : {10, 30, 50}) {
    ASSERT_EQ(r.detections[k].size(), 1u) << k;
    EXPECT_FLOAT_EQ(r.detections[k][0].box.x1, DippingAtKeyframesDetector::plate_at(k).x1 + 8) << k;
    EXPECT_FALSE(r.detections[k][0].weak) << k;
  }
}

// The same in a search window: a weak box at the prediction and a strong one 8 px beside it are one object,
// continued by the strong box; the weak one must not become a second object.
class StrongBesideWeakInWindows final : public Detector {
 public:
  static Box plate_at(std::int64_t f) { return Box{100.f + 2 * f, 200, 140.f + 2 * f, 220}; }
  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override { return {{ObjectClass::Plate, plate_at(frame.pts), 0.9f}}; }
  Detections detect_around(const AVFrame& frame, const Box&, const SearchTargets& targets, float) override {
    const Box b = plate_at(frame.pts);
    Detections out{{ObjectClass::Plate, {b.x1 + 8, b.y1, b.x2 + 8, b.y2}, 0.6f}};
    if (targets.score_factor < 1) out.push_back({ObjectClass::Plate, b, 0.3f, RegionSource::Detector, true});
    return out;
  }
};

TEST(DetectionSchedule, InAWindowAFollowedObjectTakesAStrongBoxBeforeAWeakOne) {
  ScheduleConfig config;
  config.keyframe_interval = 12;
  StrongBesideWeakInWindows detector;
  const ScheduledRun r = run_schedule(detector, config, 13);
  int searched = 0;
  for (int i = 1; i < 12; ++i) {
    if (r.passes[i] != FramePass::Search) continue;
    ++searched;
    ASSERT_EQ(r.detections[i].size(), 1u) << i;
    EXPECT_FLOAT_EQ(r.detections[i][0].box.x1, StrongBesideWeakInWindows::plate_at(i).x1 + 8) << i;
  }
  EXPECT_GT(searched, 3);
}

// What a keyframe keeps of its weak boxes depends on the interval before it only (the next one is followed
// from its own detections), so a part of a split run that starts on the grid detects every frame after its
// first keyframe as one run over the whole file does.
TEST(DetectionSchedule, WeakBoxesKeptAtKeyframesDependOnTheIntervalBeforeOnly) {
  ScheduleConfig config;
  config.keyframe_interval = 10;
  DippingAtKeyframesDetector detector;
  const ScheduledRun whole = run_schedule(detector, config, 60);
  ASSERT_EQ(whole.detections[30].size(), 1u);
  const ScheduledRun part = run_part(detector, config, 10, 60);
  EXPECT_TRUE(part.detections[10].empty()) << "the part's first keyframe follows nothing into it";
  expect_same_from(part, whole, 11);
}

// Keyframes see every object in the picture; windows miss `moving` between frames 3 and 17 (its score dips)
// and see `leaving` until it is gone after frame 3 (driven away behind something: the background shows).
struct DippingInWindowsDetector final : public Detector {
  static Box moving(std::int64_t f) { return Box::from_xywh(100.0f + 2.0f * static_cast<float>(f), 100, 48, 16); }
  static Box leaving(std::int64_t f) { return f <= 3 ? Box::from_xywh(400, 250, 48, 16) : Box{}; }
  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override { return seen(frame.pts, true); }
  Detections detect_around(const AVFrame& frame, const Box&, const SearchTargets&, float) override {
    return seen(frame.pts, false);
  }
  Detections seen(std::int64_t f, bool whole) const {
    Detections out;
    if (whole || f < 3 || f > 17) out.push_back({ObjectClass::Plate, moving(f), 0.9f});
    if (!leaving(f).empty()) out.push_back({ObjectClass::Plate, leaving(f), 0.9f});
    return out;
  }
};

// The appearance tests' schedule: every frame of a 20-frame interval searched (none skipped as predictable),
// a missed object looked for again on every frame; the 21 frames textured, with both scripted objects.
struct DippingRun {
  std::vector<FramePtr> frames;
  std::vector<Detections> detections;
  ScheduleStats stats;
  bool found_moving(int i) const {
    const Box truth = DippingInWindowsDetector::moving(i);
    return std::any_of(detections[i].begin(), detections[i].end(), [&](const Detection& d) { return iou(d.box, truth) > 0.7f; });
  }
};
DippingRun run_dipping(ScheduleConfig config) {
  config.keyframe_interval = 20;
  config.search_every = 1;
  config.max_misses = 20;
  config.predictable_iou = 2.0f;
  DippingInWindowsDetector detector;
  DetectionSchedule schedule(detector, config);
  DippingRun r;
  r.detections.resize(21);
  std::vector<FramePass> passes(21, FramePass::None);
  for (int i = 0; i <= 20; ++i) {
    r.frames.push_back(textured_picture(kW, kH, {DippingInWindowsDetector::moving(i), DippingInWindowsDetector::leaving(i)}, i));
    schedule.add({r.frames.back().get(), &r.detections[i], &passes[i]});
  }
  schedule.finish();
  r.stats = schedule.stats();
  return r;
}

// An object a window misses is still found where it looks as it did when the network last found it (within
// appearance_frames); one that left the picture is not found in the background it leaves behind.
TEST(DetectionSchedule, AnObjectTheNetworkMissesIsFollowedByItsAppearance) {
  for (const bool by_appearance : {true, false}) {
    ScheduleConfig config;
    if (!by_appearance) config.appearance_similarity = 0;
    const DippingRun r = run_dipping(config);
    int moving_found = 0;
    for (int i = 1; i < 20; ++i) {
      if (i > 3) {
        for (const Detection& d : r.detections[i])
          EXPECT_LT(d.box.y2, 200) << "frame " << i << ": the object that left is not followed into the background";
      }
      moving_found += r.found_moving(i);
      if (by_appearance) {
        EXPECT_TRUE(r.found_moving(i)) << "frame " << i;
      }
    }
    if (by_appearance) EXPECT_GT(r.stats.by_appearance, 10);
    else EXPECT_EQ(moving_found, 2 + 2);  // frames 1-2 and 18-19 only
  }
}

// An object is followed by its appearance for at most appearance_frames after a network found it, in each
// direction (windows blind for frames 3-17, appearance_frames 5: frames 8-12 stay unfound).
TEST(DetectionSchedule, AnObjectIsFollowedByItsAppearanceOnlyShortlyAfterItsNetworkFoundIt) {
  ScheduleConfig config;
  config.appearance_frames = 5;
  const DippingRun r = run_dipping(config);
  for (int i = 1; i < 20; ++i) {
    // The network found it last at frame 2 going forward and at frame 18 going backward.
    const bool expected = i <= 2 + 5 || i >= 18 - 5;
    EXPECT_EQ(r.found_moving(i), expected) << "frame " << i;
  }
}

// The camera pans: everything moves 14 px a frame to the left. Keyframes see both objects; windows see
// `guide` (wherever a window shows it) but never `dim` (a dim plate whose score stays low). `dim` is small
// enough that 14 px is beyond the appearance search's reach around where it was last found.
struct PanningDetector final : public Detector {
  static Box guide(std::int64_t f) { return Box::from_xywh(520.0f - 14.0f * static_cast<float>(f), 60, 48, 48); }
  static Box dim(std::int64_t f) { return Box::from_xywh(530.0f - 14.0f * static_cast<float>(f), 160, 24, 24); }
  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override {
    return {{ObjectClass::Plate, guide(frame.pts), 0.9f}, {ObjectClass::Plate, dim(frame.pts), 0.9f}};
  }
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets&, float) override {
    const Box b = guide(frame.pts);
    if (intersection(b, window).area() < 0.9f * b.area()) return {};
    return {{ObjectClass::Plate, b, 0.9f}};
  }
};

// An object found once has no motion of its own: it borrows the motion of the followed objects near it, so
// that its windows and its appearance search look where the camera moved it (regression: a 32 px plate at
// the edge of a zoom clip, moving 12 px a frame, found at one keyframe only).
TEST(DetectionSchedule, AnObjectOfUnknownMotionIsLookedForWhereItsNeighboursMotionMovedIt) {
  for (const float radius : {6.0f, 0.0f}) {
    ScheduleConfig config;
    config.keyframe_interval = 20;
    config.borrow_radius = radius;
    PanningDetector detector;
    const ScheduledRun r = run_schedule_on(detector, config, 21, [](int i) {
      return textured_picture(kW, kH, {PanningDetector::guide(i), PanningDetector::dim(i)}, i);
    });
    const std::vector<Detections>& detections = r.detections;
    int dim_found = 0;
    for (int i = 2; i <= 18; ++i)
      dim_found += std::any_of(detections[i].begin(), detections[i].end(),
                               [&](const Detection& d) { return iou(d.box, PanningDetector::dim(i)) > 0.7f; });
    if (radius > 0) EXPECT_EQ(dim_found, 17) << "found by its appearance where its neighbour's motion puts it";
    else EXPECT_EQ(dim_found, 0) << "looked for where it was last found: out of reach";
  }
}


// Two objects close together, the stronger one missed by its windows: it must not take its neighbour's box
// because it is near, before the neighbour takes it because it overlaps (regression: zoom clip cd84ae0e, a
// 27x8 plate took the box of a marker 22 px above it, was predicted moving up 22 px a frame and was never
// found again). Both are static; each window finds `marker` only, and `missed` is found by its appearance.
struct NeighbourDetector final : public Detector {
  static Box missed() { return Box::from_xywh(300, 200, 30, 10); }
  static Box marker() { return Box::from_xywh(300, 180, 30, 10); }
  Detections detect_whole(const AVFrame&, const WholeFramePass&) override {
    return {{ObjectClass::Plate, missed(), 0.95f}, {ObjectClass::Plate, marker(), 0.9f}};
  }
  Detections detect_around(const AVFrame&, const Box& window, const SearchTargets&, float) override {
    if (intersection(marker(), window).area() < 0.9f * marker().area()) return {};
    return {{ObjectClass::Plate, marker(), 0.9f}};
  }
};

TEST(DetectionSchedule, AnObjectMissedByItsWindowDoesNotTakeItsNeighboursBox) {
  ScheduleConfig config;
  config.keyframe_interval = 20;
  NeighbourDetector detector;
  const ScheduledRun r = run_schedule_on(detector, config, 21, [](int i) {
    return textured_picture(kW, kH, {NeighbourDetector::missed(), NeighbourDetector::marker()}, i);
  });
  const std::vector<Detections>& detections = r.detections;
  int missed_found = 0, marker_found = 0, elsewhere = 0;
  for (int i = 1; i <= 19; ++i) {
    for (const Detection& d : detections[i]) {
      if (iou(d.box, NeighbourDetector::missed()) > 0.7f) ++missed_found;
      else if (iou(d.box, NeighbourDetector::marker()) > 0.7f) ++marker_found;
      else ++elsewhere;
    }
  }
  EXPECT_EQ(missed_found, 19) << "followed by its appearance where it is";
  EXPECT_EQ(marker_found, 19);
  EXPECT_EQ(elsewhere, 0);
}

// A vehicle (scripted per frame) whose occupant the whole-frame pass finds only on the keyframes given, as
// drivers behind glass are found at one keyframe and not the next; windows find nothing.
class OccupantDetector final : public Detector {
 public:
  OccupantDetector(Script vehicle, std::vector<std::int64_t> occupant_seen_on)
      : vehicle_(std::move(vehicle)), seen_on_(std::move(occupant_seen_on)) {}
  // The occupant's box in the vehicle's coordinates (shares of its width and height).
  Box seat{0.55f, 0.15f, 0.7f, 0.45f};

  Detections detect_whole(const AVFrame& frame, const WholeFramePass&) override {
    occupants_.clear();
    vehicles_.clear();
    Detections out;
    const Box v = vehicle_(frame.pts);
    if (v.empty()) return out;
    vehicles_.push_back(v);
    if (std::find(seen_on_.begin(), seen_on_.end(), frame.pts) != seen_on_.end()) {
      const Box r = in_vehicle(v);
      out.push_back({ObjectClass::Face, r, 0.3f, RegionSource::Context});
      occupants_.push_back({r, v, 0.3f});
    }
    return out;
  }
  Detections detect_around(const AVFrame&, const Box&, const SearchTargets&, float) override {
    occupants_.clear();
    vehicles_.clear();
    return {};
  }
  std::span<const Occupant> occupants() const override { return occupants_; }
  std::span<const Box> vehicles() const override { return vehicles_; }
  Box in_vehicle(const Box& v) const {
    return {v.x1 + seat.x1 * v.width(), v.y1 + seat.y1 * v.height(), v.x1 + seat.x2 * v.width(), v.y1 + seat.y2 * v.height()};
  }

 private:
  Script vehicle_;
  std::vector<std::int64_t> seen_on_;
  std::vector<Occupant> occupants_;
  std::vector<Box> vehicles_;
};

// The occupant regions (Context faces) of a keyframe.
std::vector<Box> occupant_regions(const ScheduledRun& r, int frame) {
  std::vector<Box> out;
  for (const Detection& d : r.detections[static_cast<size_t>(frame)])
    if (d.source == RegionSource::Context) out.push_back(d.box);
  return out;
}

TEST(DetectionSchedule, AnOccupantFoundOnceIsKeptInItsVehicleAtTheNextKeyframes) {
  // A car ahead growing as the camera closes in (2 px a frame on each side), its driver found at keyframe 0 only.
  const Script car = [](std::int64_t f) { return Box{200.0f - 2 * f, 100.0f - f, 400.0f + 2 * f, 250.0f + f}; };
  ScheduleConfig config;
  config.keyframe_interval = 10;
  OccupantDetector detector(car, {0});
  const ScheduledRun r = run_schedule(detector, config, 41);
  for (int k : {10, 20}) {
    const std::vector<Box> found = occupant_regions(r, k);
    ASSERT_EQ(found.size(), 1u) << "keyframe " << k;
    // Where the driver sits in the car as it is now, not where it was.
    const Box expected = detector.in_vehicle(car(k));
    EXPECT_NEAR(found[0].x1, expected.x1, 0.5f) << k;
    EXPECT_NEAR(found[0].y2, expected.y2, 0.5f) << k;
  }
  // `occupant_keyframes` (2) after a network last found them, no longer.
  EXPECT_TRUE(occupant_regions(r, 30).empty());
  EXPECT_TRUE(occupant_regions(r, 40).empty());

  // Found again at keyframe 20: kept two keyframes from there.
  OccupantDetector again(car, {0, 20});
  const ScheduledRun r2 = run_schedule(again, config, 41);
  for (int k : {10, 20, 30, 40}) EXPECT_EQ(occupant_regions(r2, k).size(), 1u) << "keyframe " << k;

  // Off: only where found.
  config.occupant_keyframes = 0;
  const ScheduledRun off = run_schedule(detector, config, 41);
  EXPECT_TRUE(occupant_regions(off, 10).empty());
}

// A part of a split run keeps the same occupants as one run from `occupant_keyframes` intervals after its
// first keyframe (segment_context_frames gives it that much more context).
TEST(DetectionSchedule, APartKeepsTheOccupantsOfOneRunAfterItsFirstKeyframes) {
  const Script car = [](std::int64_t f) { return Box{200.0f - f, 100.0f - 0.5f * f, 400.0f + f, 250.0f + 0.5f * f}; };
  ScheduleConfig config;
  config.keyframe_interval = 10;
  OccupantDetector detector(car, {0, 30});
  const ScheduledRun whole = run_schedule(detector, config, 60);
  // One run: found at 0, kept at 10 and 20, found at 30, kept at 40 and 50.
  for (int k : {10, 20, 40, 50}) EXPECT_EQ(occupant_regions(whole, k).size(), 1u) << k;
  // A part that starts at 10 has no keyframe 0 to keep from: nobody at 20, the same as one run from 30 on.
  const ScheduledRun part = run_part(detector, config, 10, 60);
  EXPECT_TRUE(occupant_regions(part, 20).empty());
  expect_same_from(part, whole, 10 + config.occupant_keyframes * config.keyframe_interval);
}

TEST(DetectionSchedule, AnOccupantIsNotKeptInAVehicleThatMovedOnOrAcrossACut) {
  ScheduleConfig config;
  config.keyframe_interval = 10;
  // Oncoming: 20 px a frame, 200 px between keyframes, its box at the next keyframe no longer overlapping
  // the one the driver was seen in: another vehicle as far as the keyframes tell.
  const Script passing = [](std::int64_t f) { return Box{20.0f * f, 100, 20.0f * f + 150, 200}; };
  OccupantDetector oncoming(passing, {0});
  EXPECT_TRUE(occupant_regions(run_schedule(oncoming, config, 21), 10).empty());

  // A parked car across a scene cut at frame 5 (a keyframe on each side of it): the driver seen before the
  // cut is not put into the car after it.
  const Script parked = [](std::int64_t) { return Box{200, 100, 400, 250}; };
  OccupantDetector across(parked, {0});
  const ScheduledRun cut = run_schedule(across, config, 21, [](int i) { return i < 5 ? 40 : 200; });
  ASSERT_EQ(cut.passes[5], FramePass::Keyframe);
  EXPECT_TRUE(occupant_regions(cut, 5).empty());
  EXPECT_TRUE(occupant_regions(cut, 10).empty());
  // Without the cut it is kept.
  EXPECT_EQ(occupant_regions(run_schedule(across, config, 21), 10).size(), 1u);
}

TEST(DetectionSchedule, AnOccupantIsKeptInAVehicleRunningOffTheFrame) {
  // A bus ahead and to the right, growing as the camera closes in: 1.5x between keyframes 0 and 10, by
  // which time its right part is out of the picture and its box ends at the frame's right edge. Its driver,
  // seen at keyframe 0 only, sits where the uncut left side and the height of the bus place them.
  ScheduleConfig config;
  config.keyframe_interval = 10;
  const float right = static_cast<float>(kW);
  const Box at0{right - 260, 40, right - 20, 160};  // 240 x 120
  const auto whole_at = [&](std::int64_t f) {  // the whole bus, growing about its left edge's neighbourhood
    const float s = 1.0f + 0.05f * static_cast<float>(f);
    return Box{at0.x1 - 20 * (s - 1), at0.y1 - 10 * (s - 1), at0.x1 - 20 * (s - 1) + at0.width() * s,
               at0.y1 - 10 * (s - 1) + at0.height() * s};
  };
  const Script bus = [&](std::int64_t f) {
    Box b = whole_at(f);
    b.x2 = std::min(b.x2, right);
    return b;
  };
  OccupantDetector detector(bus, {0});
  detector.seat = {0.1f, 0.2f, 0.25f, 0.5f};  // the driver's seat at the left, still in the picture
  ASSERT_LT(bus(10).width() / bus(10).height(), 0.8f * at0.width() / at0.height()) << "cut at keyframe 10";
  const ScheduledRun r = run_schedule(detector, config, 21);
  const std::vector<Box> found = occupant_regions(r, 10);
  ASSERT_EQ(found.size(), 1u);
  const Box expected = detector.in_vehicle(whole_at(10));
  EXPECT_NEAR(found[0].x1, expected.x1, 0.5f);
  EXPECT_NEAR(found[0].x2, expected.x2, 0.5f);
  EXPECT_NEAR(found[0].y1, expected.y1, 0.5f);
  EXPECT_NEAR(found[0].y2, expected.y2, 0.5f);

  // A box as narrow for its height whose vehicle would not reach past the frame's edge at that scale is not a
  // cut view but another part of the vehicle, or another vehicle: nothing is kept there.
  const Script narrower = [&](std::int64_t f) {
    if (f < 10) return at0;
    return Box{at0.x1, at0.y1, at0.x1 + 120, at0.y2};  // 120 x 120, IoU 0.5: its whole width at 1x ends in view
  };
  OccupantDetector other(narrower, {0});
  other.seat = detector.seat;
  EXPECT_TRUE(occupant_regions(run_schedule(other, config, 21), 10).empty());
  // Nor is one whose vehicle would reach past the edge at that scale but whose box stops far inside it.
  const Script short_of_the_edge = [&](std::int64_t f) {
    if (f < 10) return Box{330, 40, 630, 140};  // 300 x 100
    return Box{330, 40, 450, 150};               // 120 x 110: 330 px wide at 1.1x would reach 660 > 640
  };
  OccupantDetector inside(short_of_the_edge, {0});
  inside.seat = detector.seat;
  EXPECT_TRUE(occupant_regions(run_schedule(inside, config, 21), 10).empty());
}

}  // namespace
}  // namespace roadveil::detect
