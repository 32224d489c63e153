#pragma once
// From what a detector returns to what must be hidden: a tight face box becomes a head-sized region, a
// plate box gets a margin for localisation error.
#include <array>

#include "core/region.hpp"

namespace roadveil::track {

// Margins as fractions of the box's own width/height, per side.
struct Padding {
  float left = 0, top = 0, right = 0, bottom = 0;
};

struct PaddingConfig {
  // Heads extend more above and to the sides of the face than below it (hair, ears, chin is near).
  Padding face{0.35f, 0.45f, 0.35f, 0.2f};
  Padding plate{0.15f, 0.25f, 0.15f, 0.25f};
  float scale = 1.0f;       // multiplies every margin (--padding)
  float min_margin_px = 2;  // at least this many pixels on every side, for tiny boxes and rounding
  const Padding& of(ObjectClass c) const { return c == ObjectClass::Face ? face : plate; }
};

Box pad_box(const Box& box, const Padding& p, float scale, float min_margin_px, int frame_w, int frame_h);

}  // namespace roadveil::track
