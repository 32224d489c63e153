#include "redact/redact_plan.hpp"

#include <cmath>

namespace roadveil::redact {

// covering_rect converts floats to int before clamping, which is undefined for NaN or for coordinates far
// outside the int range; clamping to the frame first keeps any detector output safe.
PixelRect hidden_rect(const Box& b, int width, int height) {
  if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2))) return {};
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  return covering_rect(clamp_to(b, w, h), width, height);
}

StyleOptions style_for(const Region& region, const ClassStyles& styles) {
  StyleOptions style = styles[static_cast<std::size_t>(region.cls)];
  if (!drawn_as_ellipse(region.source, style.shape == Shape::Ellipse)) style.shape = Shape::Box;
  return style;
}

void redact_regions(Redactor& redactor, AVFrame& frame, const Regions& regions, const ClassStyles& styles) {
  for (const Region& region : regions) {
    const PixelRect rect = hidden_rect(region.box, frame.width, frame.height);
    if (rect.empty()) continue;
    redactor.apply(frame, rect, style_for(region, styles));
  }
}

void draw_region_mask(AVFrame& mask, const Regions& regions, const ClassStyles& styles) {
  for (const Region& region : regions) {
    const PixelRect rect = hidden_rect(region.box, mask.width, mask.height);
    if (rect.empty()) continue;
    draw_mask(mask, rect, style_for(region, styles).shape);
  }
}

}  // namespace roadveil::redact
