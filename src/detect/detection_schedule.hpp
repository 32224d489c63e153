#pragma once
// Which detection each video frame gets. Running every network on every whole frame costs many times the
// transcode itself, so:
//  - keyframes (every `keyframe_interval` frames, the last frame, and both sides of a scene cut) get the
//    full detection, the one `roadveil eval --as-video-keyframe` measures on still images;
//  - between two keyframes, every `search_every`-th frame is searched only in windows around the objects
//    already known, at up to twice their resolution (an object whose motion is not known yet also on the
//    frame right after it was found, so that its velocity places the later windows). The frames of an interval are held until its closing
//    keyframe is detected, so each object is followed forward from the keyframe before and backward from
//    the keyframe after: whatever is visible at either keyframe is found in the frames between for as long
//    as the network still sees it. A dashcam approaches what it films, so an object first detected at a
//    keyframe was usually there, smaller, in the frames before: the backward search is what finds it.
//    An object a search misses shortly after its network found it is looked for by its appearance
//    (detect/appearance.hpp): a network's score dips for a frame or ten where the object has not changed.
//  - the tracker (track/) fills the frames that were not searched.
//  - on `glances` frames spread evenly over each interval, the forward pass also glances over the whole
//    frame (GlancePass: the head and plate networks at a half and a third of the resolution, what is large
//    enough to identify); what it finds and nothing followed explains is followed from there, forward and
//    backward like the rest.
// Only an object that appears and disappears between two looks at the whole frame, never near a known one,
// is missed: the keyframe interval and the glances bound how short-lived that is. (A face on screen for
// frames 5-20 of a 25-frame interval, or a car's plate driving through the picture in 15 frames, was never
// hidden before the glances.)
#include <cstdint>
#include <deque>
#include <vector>

#include "core/region.hpp"
#include "detect/appearance.hpp"
#include "detect/frame_detector.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace roadveil::detect {

struct ScheduleConfig {
  int keyframe_interval = 1;     // frames; 1: full detection on every frame
  double keyframe_seconds = 0;   // when > 0, the interval is this long in each video's own frame rate
  int interval_for(double frames_per_second) const;
  int search_every = 2;        // between keyframes, search every n-th frame (0: never; the tracker fills)
  // Whole-frame glances per interval (see above), on frames spread evenly between the keyframes (one: the
  // middle frame); 0: none. Only where the interval is searched (search_every > 0) and at least 4 frames long.
  int glances = 1;
  GlancePass glance_pass{};
  // An object whose position the last search predicted well (IoU >= `predictable_iou`) is looked at half
  // as often, up to every `max_search_gap` frames; one that surprised it or was missed, every `search_every`
  // frames again. Steady motion (a car followed on the motorway) costs little; erratic motion is watched closely.
  float predictable_iou = 0.6f;
  int max_search_gap = 4;
  float search_margin = 0.5f;  // the window adds this share of the object's size on each side...
  float margin_per_frame = 0.1f;  // ...plus this share per frame since the object was last found
  int min_window = 64;         // pixels: a window is at least this wide and high
  // A window is searched at the scale that shows the smallest face or plate it follows at about this size
  // (square root of its area, in detector pixels), between `min_search_scale` and twice the source: a small
  // far plate gets the 2x look, a near one a sixteenth of its cost. People are always searched at 1x.
  float search_object_size = 32.0f;
  float min_search_scale = 0.5f;
  // The plate network needs the vehicle around a plate: a plate window is at least `plate_window_widths`
  // plate widths wide and half as high, scaled so the plate is `search_plate_width` detector pixels wide.
  // Measured on 65 plates of the zoom clips (bench/zoom_clips/plate_window_probe.cpp): windows 1.5-2x the
  // plate found 23-58 of them, 4x found 57-63 (docs/eval.md, "Search windows between keyframes").
  float plate_window_widths = 4.0f;
  float search_plate_width = 32.0f;
  int max_misses = 1;          // an object not found in this many searches in a row is given up
  // An object found once has no motion of its own yet, and its windows and appearance search were placed
  // where it was while a moving camera moved it on (zoom clips: a 32 px plate at the frame's edge, moving
  // 12 px a frame, missed by the network on the next two frames and out of the appearance search's reach
  // after that). It borrows the motion of the followed objects within `borrow_radius` of its sizes whose
  // motion is known (core/borrowed_motion.hpp, as the tracker's `borrow_radius`). 0: off.
  float borrow_radius = 6.0f;
  // Near an object already followed, weaker evidence is enough to keep following it (hysteresis, as
  // ByteTrack continues tracks with low-score boxes): a window accepts scores from this share of each
  // network's threshold, and such a box continues the object it is nearest to or is dropped; it never
  // starts an object. Objects of the zoom clips were found at one keyframe and lost a few frames later
  // while still in view, mostly as the network's score for them dipped under its threshold. The keyframe
  // that closes an interval keeps such a box too where an object followed through the interval arrives.
  float continue_score_factor = 0.5f;
  // When a search misses an object that a network found at most `appearance_frames` frames before, it is
  // looked for by its appearance there (detect/appearance.hpp): where the luma of the object and its
  // surroundings, as the network last found it, correlates with the frame at least `appearance_similarity`
  // around the predicted box, the object is still there, and is hidden and followed as if found. Within an
  // interval only, so that a frame's regions still depend on a bounded stretch of video; objects smaller
  // than `appearance_min_side` pixels are not compared (too few pixels to tell them from their surroundings).
  float appearance_similarity = 0.9f;  // 0: off
  int appearance_frames = 24;
  float appearance_min_side = 8.0f;
  // People seen in a vehicle (detect::Occupant: a face, head or body in its windows, or head and shoulders
  // through its glass) score low behind glass and reflections: one found at a keyframe is often not found
  // at the next while nobody left the vehicle (zoom clip 6f44bf08: a driver found at the first keyframe only,
  // exposed for the other 39 frames). At each of the next `occupant_keyframes` keyframes where its vehicle is
  // found again and nobody is found where it sat, it is kept there (its box in the vehicle's coordinates),
  // as if found, and followed from there like any detection. The vehicle is the one whose box overlaps the
  // one it sat in the most, by IoU `occupant_vehicle_iou` at least: in one interval a near vehicle's box
  // can grow by 1.4x and move by half its width (6f44bf08's car: 1.38x, 0.64 of its width to the left,
  // IoU 0.298 with itself). A vehicle crossing the view is not matched (IoU 0): its occupants are kept
  // only by following. And a place in a vehicle maps to the same place in its new box only if the box shows
  // the same vehicle in the same way: its width-to-height ratio may change by `occupant_vehicle_aspect` at most
  // (one that takes in another part of a bus does not), or it is cut by the frame's edge: narrower (or
  // lower) than before, reaching one edge of the frame, where the vehicle's whole width at the scale its
  // height shows (or whole height at the scale of its width) would reach past it. Then the height (width) gives the scale
  // and the side still in the picture the anchor (zoom clip 196eb840: a bus box 1.45 wide per height, then
  // 1.14 with its front out of the picture; mapped by its change alone, it put the driver 150 px from
  // where they sat).
  int occupant_keyframes = 2;
  float occupant_vehicle_iou = 0.2f;
  float occupant_vehicle_aspect = 0.15f;
  int max_windows = 24;        // per searched frame; the objects found with the highest scores first
  // A cut in edited footage: mean absolute luma difference (0-255) between 32x18 samples of consecutive
  // frames. Objects do not cross a cut, so the frames on both sides become keyframes.
  float scene_cut = 40.0f;
  // Keyframes of a video are not enlarged (small objects grow as they approach) and may guide plates by vehicles.
  WholeFramePass keyframe_pass = WholeFramePass::video_keyframe();
};

enum class FramePass : std::uint8_t { None, Keyframe, Search };

struct ScheduleStats {
  std::int64_t keyframes = 0, searched = 0, windows = 0, scene_cuts = 0, glances = 0;
  std::int64_t by_appearance = 0;  // objects a search missed, continued by their appearance
  double keyframe_seconds = 0, search_seconds = 0, glance_seconds = 0;  // wall time in each kind of detection
};

class DetectionSchedule {
 public:
  DetectionSchedule(Detector& detector, const ScheduleConfig& config);

  // Where a frame's results go; the frame and both pointers must stay valid until the frame is complete.
  struct Slot {
    const AVFrame* frame = nullptr;
    Detections* detections = nullptr;
    FramePass* pass = nullptr;
    // The frame's index in the whole video (-1: the one after the previous frame given). Keyframes fall on
    // multiples of the interval, so a worker that starts in the middle of a file (a part of a split run)
    // detects the same frames in the same way as one run over the whole file, from the keyframe
    // `occupant_keyframes` intervals after its first on (a keyframe keeps the occupants of those before it).
    std::int64_t index = -1;
  };
  // Takes the next frame in presentation order. Returns how many of the frames given so far, oldest first,
  // became complete with this call (their detections are final and the frames are no longer used).
  std::size_t add(const Slot& slot);
  // Completes every frame still held (the last one becomes a keyframe).
  std::size_t finish();

  const ScheduleStats& stats() const { return stats_; }
  std::size_t held() const { return pending_.size(); }

 private:
  struct Known {
    ObjectClass cls;
    RegionSource source;
    Box box;       // where it was last found
    Box velocity;  // per frame, for each box edge
    float score;
    int frame;     // interval index where it was last found
    int seen = 0;  // interval index where a network last found it (`frame` may be a match by appearance)
    Box seen_box;     // the box it found there
    Appearance look;  // as it looked there
    int misses = 0;
    int gap = 0;   // frames between searches for it (0: search_every)
    bool velocity_known = false;
  };
  // A detection that could continue an object (matching in follow and continue_at_keyframe).
  struct Candidate {
    int tier;       // 0: a network's box over its threshold, 1: placed by appearance, 2: weak
    float quality;  // how well it continues the object's prediction (over 1: they overlap)
    int object, detection;
  };
  struct Window {
    Box area;
    SearchTargets targets;
    float scale;  // detector pixels per source pixel
  };
  float search_scale(const Known& o) const;

  std::size_t complete();
  void keyframe(const Slot& slot, float score_factor = 1.0f);
  void keep_occupants(const AVFrame& frame, Detections& found);
  void sample_looks(const AVFrame& frame, const Detections& found, std::vector<Appearance>& looks) const;
  void continue_at_keyframe(const std::vector<Known>& objects, int index);
  // Searches frame `index` of the pending interval for `objects` (forward: records the windows in
  // `searched`; backward: skips the windows in `skip`), and with `glance` glances over it too.
  void follow(std::vector<Known>& objects, int index, std::vector<Window>* searched, const std::vector<Window>* skip,
              bool glance = false);
  // Whether frame `index` of an interval of `m` frames (1..m-1 held) is glanced at.
  bool glances_at(int index, int m) const;
  bool is_scene_cut(const AVFrame& frame);

  Detector& detector_;
  ScheduleConfig config_;
  ScheduleStats stats_;
  std::deque<Slot> pending_;        // frames after the last keyframe, oldest first
  Detections opening_keyframe_;     // the detections of the keyframe that opens the pending interval...
  Detections last_keyframe_;        // ...and of the latest keyframe (scratch until it opens the next one)
  std::vector<Appearance> opening_looks_, last_looks_;  // what each of those detections looks like
  std::vector<Appearance> closing_looks_;  // scratch
  struct SeenOccupant {
    Occupant occupant;
    int kept = 0;  // keyframes since a network found it
  };
  std::vector<SeenOccupant> opening_occupants_, last_occupants_;  // of those two keyframes
  bool have_keyframe_ = false;
  std::int64_t next_index_ = 0;
  std::vector<std::vector<Window>> forward_windows_;  // per interval index: the windows searched going forward
  std::vector<Window> windows_;     // scratch
  std::vector<Known> objects_;      // scratch
  std::vector<Box> predicted_;      // scratch
  std::vector<bool> claimed_;       // scratch
  std::vector<Known> fresh_;        // scratch
  std::vector<Candidate> candidates_;  // scratch
  std::vector<int> assigned_;       // scratch
  std::vector<float> thumbnail_, previous_thumbnail_;
};

}  // namespace roadveil::detect
