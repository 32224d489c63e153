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
  // A head is about 1.5x wider and 1.4x taller than the detector's tight face box and sits higher (hair
  // above, chin near the box bottom). Faces are hidden by an ellipse, and an ellipse holds a box only when
  // its axes are ~1.4x the box's, hence about 2.2x the face box in each direction, centred above it.
  Padding face{0.6f, 0.8f, 0.6f, 0.4f};
  // A head detector's box is the whole head: an ellipse 1.5x its size holds it (corners at 1.41x).
  Padding head{0.25f, 0.25f, 0.25f, 0.25f};
  // A plate detection's box (the network's, joined with its neighbours' path where they agree: the tracker's
  // consensus) falls short of the plate's left or right edge by more than 0.15 of its width on
  // 1.7% of sides on the Berlin zoom clips (3.7% for far plates under 40 px wide; 99th percentile 0.19) and
  // 0.1% on the Romanian ones (0.09); by more than 0.2 on 0.9% and 0.1% (bench/zoom_clips/plate_box_error.py).
  // Up and down, 0.25 leaves 0.2% and none.
  Padding plate{0.2f, 0.25f, 0.2f, 0.25f};
  // The classes of one's own models (indexed by ObjectClass), from their manifests' "padding".
  std::array<Padding, kMaxObjectClasses> own = filled(Padding{0.1f, 0.1f, 0.1f, 0.1f});
  float scale = 1.0f;       // multiplies every margin (--padding)
  float min_margin_px = 2;  // at least this many pixels on every side, for tiny boxes and rounding
  // Context regions (a person's head region) are already the size of what must be hidden.
  Padding of(ObjectClass c, RegionSource found_by) const {
    if (found_by == RegionSource::Context) return Padding{};
    if (found_by == RegionSource::Head) return head;
    return c == ObjectClass::Face ? face : c == ObjectClass::Plate ? plate : own[static_cast<int>(c)];
  }

 private:
  static std::array<Padding, kMaxObjectClasses> filled(const Padding& p) {
    std::array<Padding, kMaxObjectClasses> a;
    a.fill(p);
    return a;
  }
};

Box pad_box(const Box& box, const Padding& p, float scale, float min_margin_px, int frame_w, int frame_h);

}  // namespace roadveil::track
