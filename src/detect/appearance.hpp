#pragma once
// What an object looks like, to find it again where its network no longer does. A network's score for a
// head or a plate dips from frame to frame (blur, a turn, a reflection, an upscaled picture), and an object
// followed by the video schedule is lost at the first search that misses it, while it is still in view,
// as large as before, in the same place: on the zoom clips, most heads and plates exposed in some frames
// were found at one keyframe and lost a few frames later (README, zoom table). Its appearance a few frames
// earlier tells whether it is still where its motion predicts: the luma of the object and a margin of its
// surroundings, sampled on a fixed grid scaled to the box (so a growing object is compared with itself),
// compared by normalised cross-correlation (insensitive to exposure and contrast changes).
#include <array>

#include "core/geometry.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace roadveil::detect {

struct Appearance {
  static constexpr int kGrid = 16;                  // samples per side
  static constexpr float kContext = 0.1f;           // margin around the box on each side, in box sizes
  std::array<float, kGrid * kGrid> samples{};       // zero mean, unit norm
  bool valid = false;                               // false: outside the picture, too small or flat
};

// Samples the first component (luma, or red for RGB) of `frame` over `box` and its margin. Invalid when the
// box is smaller than `min_side` pixels on either side, or the area is too flat to be told from its
// surroundings (a standard deviation under 4 levels of 255), or it leaves the picture.
Appearance sample_appearance(const AVFrame& frame, const Box& box, float min_side = 8.0f);

struct AppearanceMatch {
  Box box;                 // `predicted` moved to where the object matched best
  float similarity = -1;   // normalised cross-correlation, -1..1 (-1: nothing compared)
};

// Where around `predicted` (a box of the object's expected size) `look` matches best: every shift by whole
// sample cells up to about `reach` of the box's size in each direction (5 cells, 0.375 of it, for 0.4),
// then half and quarter cells around the best.
AppearanceMatch match_appearance(const AVFrame& frame, const Appearance& look, const Box& predicted, float reach = 0.4f);

}  // namespace roadveil::detect
