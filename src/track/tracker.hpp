#pragma once
// Links per-frame detections into tracks and decides, for each frame, every region to hide: detections,
// gaps filled between two detections of a track, tracks carried past their last detection (as long as they
// were followed, up to a second),
// and (because a dashcam approaches what it films) tracks carried back in time to frames where the object
// was still too small to detect. Works on a bounded look-ahead window: a frame is final once `lookahead`
// later frames have been seen.
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/region.hpp"
#include "track/padding.hpp"

namespace roadveil::track {

struct TrackerConfig {
  bool enabled = true;
  float match_iou = 0.1f;          // a detection continues a track when it overlaps the prediction this much...
  float match_center_dist = 1.0f;  // ...or its centre is within this many box sizes of the predicted centre
  int max_gap = 12;                // fill gaps up to this many frames between two detections of a track
  int extend_forward = 6;          // carry a track this many frames past its last detection...
  // ...or, when it was followed longer, for this share of the frames from its first to its last detection, up
  // to `max_extend_forward`. A track followed for a second is an object the detectors know; when it stops being
  // found away from the frame edge, a detector lost it (blur, a turn, a dip in its score) far more often than
  // the object vanished, and an occluder it is carried over costs a little hidden area. Zoom clips: plates
  // followed over 28 frames and lost 20 frames before the end of the clip, fully in view and as large as ever
  // (50 clips: head-frames 0.898 -> 0.903, plates never exposed 115 -> 116 of 135, 0.1% more of the frame).
  float extend_forward_share = 1.0f;
  int max_extend_forward = 24;
  // Carry a track this many frames before its first detection. A camera driving forward finds a head or a
  // plate once it has grown to what the network sees (a head from ~10 px), and it was in the picture, smaller,
  // for seconds before: 2 s at 24 fps, where 1 s (24) left the first second of heads first found late in the
  // zoom clips exposed (a593a409 #1 first found at frame 45, exposed over frames 0-20; e1ae5ec7 #6 at 28,
  // exposed 0-3). The region stays within `max_region_scale` of the detection it is carried from. Zoom clips
  // (50): head-frames 4350 -> 4400 of 4614 (0.943 -> 0.954), heads never exposed 120 -> 122 of 131, 3.8% ->
  // 4.4% of the frame; 36 gave 4382. The cost is memory: every frame waits this much longer to be encoded
  // (lookahead(), 32 -> 56 frames held; 1080p peak 583 -> 656 MB, --low-memory holds none of them).
  int extend_backward = 48;
  float growth_per_frame = 0.02f;  // carried boxes grow by this fraction per frame of uncertainty
  // A box carried past its track's detections is extrapolated from two observations; its size may change by
  // at most this fraction a frame, and this factor overall, against the observation it is carried from
  // (two noisy boxes a few frames apart once made 24-frame carries several times the object's size).
  float max_scale_per_frame = 0.03f;
  float max_carry_scale = 1.5f;
  // The image speed of what a moving camera passes is not constant: it grows as the object comes closer (and
  // falls as it recedes), fastest near the frame edges. A carried box covers every position between
  // (1 - speed_spread) and (1 + speed_spread) times the measured velocity, not only the linear guess (on the
  // zoom clips linear carries lagged the plates leaving the frame by a third of their width; small heads
  // carried back from a velocity measured on two noisy boxes missed by a few pixels). The spread is at most
  // `max_spread` of the box's size on each edge, so that a carried region stays near its object's size
  // (zoom clips, first 16: 0.5 of the size hid no more objects than 0.25 but 0.5% more of the frame).
  float speed_spread = 0.5f;
  float max_spread = 0.25f;
  // A detector's box is off by a few pixels from frame to frame, most for small objects (on the zoom clips a
  // 46x14 plate once came back 35 px wide between two good boxes). Where a track was seen shortly before and
  // after a frame, the region is the union of that frame's box and the box interpolated from its
  // neighbours, unless the two disagree so much (union over `max_consensus_growth` times the box) that one is
  // more likely another object. At a track's first and last detection, the path of the detections on its one
  // side, extrapolated to it, is that second box (zoom clips, 50: plates never exposed 123 -> 125 of 135,
  // heads 113 -> 114 of 131, hidden area 3.65% -> 3.66% of the frame).
  bool consensus = true;
  float max_consensus_growth = 2.0f;
  // Detectors lose objects cut by the frame edge, and a camera passing by carries them out of view. A track
  // whose predicted box reaches the frame edge within `extend_forward` frames of its last detection is
  // carried on, along that prediction, until it has left the frame, for at most `exit_frames` frames.
  int exit_frames = 24;
  // An object detected only once has no motion of its own, and was carried where it was seen while a moving
  // camera moved it away (zoom clips: a 37x10 plate seen once drifted out of its carried region within three
  // frames). What the camera does to one object it does to what is near it in the picture: such an object
  // borrows the motion (centre velocity and growth rate) of the tracks within `borrow_radius` of its sizes,
  // weighted by nearness, seen within two gaps of it. 0: off. Zoom clips (50, with max_region_scale below):
  // head-frames 0.897 -> 0.909, plate-frames 0.948 -> 0.951, 0.1% more of the frame hidden; receding and
  // panning clips no worse (README, zoom table).
  float borrow_radius = 6.0f;
  // However a carried region's uncertainties add up (size change, speed spread, growth per frame), it is never
  // more than this many times as wide or tall as the detection it is carried from.
  float max_region_scale = 2.0f;
  // A track is carried (forward, backward, out of the frame) with the motion of its detections within
  // `velocity_baseline` frames of its newest (oldest, to carry it back) one, a line through all of them
  // (Track::fit), not between the last two: a detector's box moves by a few pixels from frame to frame, and a
  // velocity from two boxes one frame apart, carried 24 frames, multiplies that noise by 24. A frame is final only once the
  // detections of that baseline are known for a track first seen `extend_backward` frames later (before, a
  // region carried back 22 frames held still where the object was first seen: zoom clips, a 7x7 head).
  // Zoom clips (50): head-frames 0.909 -> 0.912, heads never exposed 111 -> 112 of 131, 0.1% less of the
  // frame hidden; receding and panning clips no worse (README).
  int velocity_baseline = 8;
  // Where a track was not detected (filled between detections, carried), its box is a guess from the
  // detections around it, which do not see what moved the picture in that frame alone: a camera shakes on
  // the road by a few pixels, whatever the object's size, and a detector's box jitters. The region is grown
  // on each side by `jitter_margin` times the RMS deviation of the track's detections from the path their
  // own neighbours interpolate (per axis; at most `max_jitter_share` of the box), so that steady footage pays
  // nothing and shaky footage gets the margin its own detections show. The detections measured (each with
  // both neighbours) lie within two baselines of a filled frame, and within one baseline on the track's side
  // of the detection a carried box comes from (which the look-ahead already waits for).
  // Zoom clips: plates exposed in one or two frames between two detections, 2 px below the interpolated box
  // (50 clips: head-frames 0.903 -> 0.914, plates never exposed 116 -> 123 of 135, 0.3% more of the frame).
  // A carried region stays within `max_region_scale` of its detection with the margin.
  float jitter_margin = 1.0f;  // 0: off
  float max_jitter_share = 0.5f;
  int lookahead() const {
    return enabled ? std::max({max_gap, extend_backward + velocity_baseline, jitter_margin > 0 ? 2 * velocity_baseline : 0}) : 0;
  }
  // How many frames before a frame its regions depend on: a forward carry (at most longest_forward_carry()
  // frames) from a detection whose motion and jitter are measured over `velocity_baseline` frames before it,
  // and whose length depends on the span it was followed (up to max_extend_forward / extend_forward_share).
  int history_frames() const {
    const int followed = extend_forward_share > 0
                             ? max_extend_forward + static_cast<int>(std::ceil(static_cast<float>(max_extend_forward) / extend_forward_share))
                             : 0;
    return std::max({longest_forward_carry() + velocity_baseline, followed, max_gap, 2 * velocity_baseline});
  }
  // The most frames a track can be carried past its last detection (forward or out of the frame).
  int longest_forward_carry() const { return std::max({extend_forward, max_extend_forward, exit_frames}); }
};

struct FrameRegions {
  std::int64_t frame = 0;
  Regions regions;  // padded, clamped to the frame
};

class Tracker {
 public:
  Tracker(const TrackerConfig& config, const PaddingConfig& padding, int frame_w, int frame_h);

  // Detections of the next frame (frames are numbered 0,1,2,... in presentation order).
  void push(const Detections& detections);
  // The next final frame, once enough later frames are known (or after finish()).
  std::optional<FrameRegions> pop();
  void finish() { finished_ = true; }
  std::int64_t frames_pushed() const { return next_frame_; }

 private:
  struct Observation {
    std::int64_t frame;
    Box box;
    float score;
  };
  struct Track {
    int id;
    ObjectClass cls;
    std::vector<Observation> obs;  // increasing frame
    RegionSource kind = RegionSource::Detector;  // what found it: Detector, Head or Context (tracked apart)
    // A straight path of each edge: where it puts the box at a frame, and its motion per frame.
    struct Fit {
      Box box;
      Box velocity;
    };
    static constexpr std::size_t kFitObservations = 12;
    // The path through observations first..last (at most kFitObservations of them), robust to a stray box.
    Fit fit(size_t first, size_t last, std::int64_t at) const;
    // The path at observation `i` through it and the observations at most `baseline` frames before it (after
    // it, to carry it back; see TrackerConfig::velocity_baseline); zero motion without such observations.
    Fit fit_before(size_t i, int baseline) const;
    Fit fit_after(size_t i, int baseline) const;
    Box velocity_before(size_t i, int baseline) const { return fit_before(i, baseline).velocity; }
    Box velocity(int baseline) const { return obs.empty() ? Box{} : velocity_before(obs.size() - 1, baseline); }
    Box predict(std::int64_t frame, int baseline) const;
  };
  std::optional<Region> region_for(const Track& t, std::int64_t frame) const;
  // The box of observation `i` carried `dt` frames (negative: back in time) with the motion measured on its
  // side of the track, or borrowed when it has none.
  Box carried(const Track& t, size_t i, std::int64_t dt) const;
  // How many frames past its last detection the track is carried when it is not found again (see config).
  std::int64_t forward_frames(const Track& t) const;
  // `box` grown by the jitter of the track's detections between frames `from` and `to` (see config).
  Box with_jitter_margin(const Track& t, std::int64_t from, std::int64_t to, const Box& box) const;
  bool leaving_frame(const Track& t) const;
  // The motion of an object seen only once at `o`, borrowed from the tracks near it in the picture (see config).
  Box borrowed_velocity(const Track& t, const Observation& o) const;
  void prune(std::int64_t oldest_pending);

  TrackerConfig config_;
  PaddingConfig padding_;
  int w_, h_;
  std::vector<Track> tracks_;
  int next_id_ = 0;
  std::int64_t next_frame_ = 0;   // frames pushed
  std::int64_t next_pop_ = 0;     // frames popped
  bool finished_ = false;
};

}  // namespace roadveil::track
