#pragma once
// Single-frame flicker in a video's hidden regions, for clips without ground truth: a region that exists
// in one frame only (a blip: the frames before and after hide nothing there), or a hole (something hidden
// in the frames before and after, but not in between). A hole is a frame where a face or plate most likely
// showed; blips are false alarms or missed neighbours. Tracking should remove nearly all of both.
#include <cstdint>
#include <map>

#include "core/region.hpp"

namespace roadveil::eval {

struct FlickerCount {
  std::int64_t frames = 0;
  std::int64_t blips = 0;  // regions with no overlapping region of their class in both neighbouring frames
  std::int64_t holes = 0;  // places hidden in frames t-1 and t+1 but not in t
  double per_1000_frames() const { return frames ? 1000.0 * static_cast<double>(blips + holes) / static_cast<double>(frames) : 0; }
};

// `frames`: frame index -> regions hidden in it; frames missing from the map hide nothing. `frame_count`
// is the number of frames of the video (indexes 0 .. frame_count-1).
FlickerCount count_flicker(const std::map<std::int64_t, Regions>& frames, std::int64_t frame_count);

// The largest region a track carried (interpolated, extended, carried backward) relative to what it was
// detected as: the side of the carried region over the side of the track's largest detected region (square
// roots of the areas). A tracker whose carried regions grow without bound shows here.
struct CarriedGrowth {
  double ratio = 0;          // 0 when no track carried anything
  std::int64_t frame = -1;   // where the largest one is
  int track = -1;
};
CarriedGrowth largest_carried_region(const std::map<std::int64_t, Regions>& frames);

}  // namespace roadveil::eval
