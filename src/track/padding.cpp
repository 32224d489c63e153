#include "track/padding.hpp"

#include <algorithm>

namespace roadveil::track {

Box pad_box(const Box& b, const Padding& p, float scale, float min_margin_px, int frame_w, int frame_h) {
  const float w = b.width(), h = b.height();
  const Box padded{b.x1 - std::max(min_margin_px, p.left * scale * w), b.y1 - std::max(min_margin_px, p.top * scale * h),
                   b.x2 + std::max(min_margin_px, p.right * scale * w),
                   b.y2 + std::max(min_margin_px, p.bottom * scale * h)};
  return clamp_to(padded, static_cast<float>(frame_w), static_cast<float>(frame_h));
}

}  // namespace roadveil::track
