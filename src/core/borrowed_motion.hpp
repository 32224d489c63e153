#pragma once
// The motion of an object whose own motion is not known yet (seen once), borrowed from the objects near it
// in the picture whose motion is known: what a moving camera does to one object it does, roughly, to what is
// near it (a dashcam's forward motion moves and enlarges everything around the same vanishing point).
// Shared by the tracker (carrying a track seen once) and the detection schedule (placing the windows and the
// appearance search for an object found once).
#include <algorithm>
#include <cmath>

#include "core/geometry.hpp"

namespace roadveil {

class BorrowedMotion {
 public:
  // `at`: the object's box; neighbours count within `radius` of its larger side (centre to centre).
  BorrowedMotion(const Box& at, float radius) : at_(at), radius_(radius), size_(std::max({at.width(), at.height(), 1.0f})) {}

  // A neighbour at `box` moving by `velocity` (per frame, each edge). Its motion counts as its centre's
  // velocity and its growth rate relative to its size, so that a neighbour twice as large lends the same
  // expansion, not twice the pixels; nearer neighbours count more.
  void offer(const Box& box, const Box& velocity) {
    const float d = std::hypot(box.cx() - at_.cx(), box.cy() - at_.cy()) / size_;
    if (radius_ <= 0 || d > radius_) return;
    const float w = 1.0f / (1.0f + d);
    vx_ += w * 0.5f * (velocity.x1 + velocity.x2);
    vy_ += w * 0.5f * (velocity.y1 + velocity.y2);
    gx_ += w * (velocity.x2 - velocity.x1) / std::max(1.0f, box.width());
    gy_ += w * (velocity.y2 - velocity.y1) / std::max(1.0f, box.height());
    weight_ += w;
  }

  bool any() const { return weight_ > 0; }
  // The edge velocity of the object (zero when no neighbour was offered within the radius).
  Box velocity() const {
    if (weight_ <= 0) return {};
    const float vx = vx_ / weight_, vy = vy_ / weight_;
    const float hw = 0.5f * gx_ / weight_ * at_.width(), hh = 0.5f * gy_ / weight_ * at_.height();
    return {vx - hw, vy - hh, vx + hw, vy + hh};
  }

 private:
  Box at_;
  float radius_, size_;
  float weight_ = 0, vx_ = 0, vy_ = 0, gx_ = 0, gy_ = 0;
};

}  // namespace roadveil
