#pragma once
// Axis-aligned boxes in source pixel coordinates (x1,y1 inclusive top-left corner, x2,y2 exclusive
// bottom-right corner, floats so that scaled detector output keeps sub-pixel precision).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace roadveil {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  float width() const { return std::max(0.0f, x2 - x1); }
  float height() const { return std::max(0.0f, y2 - y1); }
  float area() const { return width() * height(); }
  float cx() const { return 0.5f * (x1 + x2); }
  float cy() const { return 0.5f * (y1 + y2); }
  bool empty() const { return !(x2 > x1 && y2 > y1); }
  bool operator==(const Box&) const = default;

  static Box from_xywh(float x, float y, float w, float h) { return {x, y, x + w, y + h}; }
  static Box from_center(float cx, float cy, float w, float h) {
    return {cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h};
  }
};

inline Box intersection(const Box& a, const Box& b) {
  return {std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2), std::min(a.y2, b.y2)};
}

// The smallest box containing both.
inline Box bounding_union(const Box& a, const Box& b) {
  return {std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2), std::max(a.y2, b.y2)};
}

// Search areas that overlap become one while `worth(a, b, union)` says one look at their union costs no more
// than two apart (see `union_costs_no_more`). `area_of(item)` gives an item's box; `combine(a, b, union)`
// makes the merged item.
template <typename T, typename AreaOf, typename Worth, typename Combine>
void merge_overlapping(std::vector<T>& items, AreaOf area_of, Worth worth, Combine combine) {
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t a = 0; a < items.size() && !merged; ++a)
      for (std::size_t b = a + 1; b < items.size() && !merged; ++b) {
        const Box A = area_of(items[a]), B = area_of(items[b]);
        if (intersection(A, B).empty()) continue;
        const Box u = bounding_union(A, B);
        if (!worth(items[a], items[b], u)) continue;
        items[a] = combine(items[a], items[b], u);
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(b));
        merged = true;
      }
  }
}

// Whether looking at `u` at the larger of two scales costs no more detector pixels (area x scale squared)
// than looking at `a` at `scale_a` and `b` at `scale_b`. With equal scales: the union covers no more pixels
// than both apart.
inline bool union_costs_no_more(const Box& a, float scale_a, const Box& b, float scale_b, const Box& u) {
  const float scale_u = std::max(scale_a, scale_b);
  return u.area() * scale_u * scale_u <= a.area() * scale_a * scale_a + b.area() * scale_b * scale_b;
}

// Whether at least half of the smaller of two boxes lies inside the other: the same thing seen twice (a face
// box inside a head box, a box from a coarser look), where IoU is low because the sizes differ.
inline bool half_of_smaller_overlaps(const Box& a, const Box& b) {
  return intersection(a, b).area() >= 0.5f * std::min(a.area(), b.area());
}

inline float iou(const Box& a, const Box& b) {
  const float inter = intersection(a, b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

inline Box clamp_to(const Box& b, float width, float height) {
  return {std::clamp(b.x1, 0.0f, width), std::clamp(b.y1, 0.0f, height), std::clamp(b.x2, 0.0f, width),
          std::clamp(b.y2, 0.0f, height)};
}

// Constant-velocity motion of a box between frames, shared by the tracker and the detection schedule.
// The velocity is a per-frame delta of each edge, so that a box can also grow or shrink as it moves.
inline Box edge_velocity(const Box& a, float frame_a, const Box& b, float frame_b) {
  const float dt = frame_b - frame_a;
  if (dt == 0) return {};
  return {(b.x1 - a.x1) / dt, (b.y1 - a.y1) / dt, (b.x2 - a.x2) / dt, (b.y2 - a.y2) / dt};
}
// `b` moved by `dt` frames (negative: back in time); never shrunk below half its size or flipped.
inline Box move_box(const Box& b, const Box& velocity, float dt) {
  Box r{b.x1 + velocity.x1 * dt, b.y1 + velocity.y1 * dt, b.x2 + velocity.x2 * dt, b.y2 + velocity.y2 * dt};
  const float min_w = 0.5f * b.width(), min_h = 0.5f * b.height();
  if (r.width() < min_w) r = Box::from_center(r.cx(), r.cy(), min_w, r.height());
  if (r.height() < min_h) r = Box::from_center(r.cx(), r.cy(), r.width(), min_h);
  return r;
}

// Integer pixel rectangle covering a box completely (floor of the start, ceil of the end), clamped to the
// image. Redaction uses it so that a fractional box edge never leaves a half-covered pixel column visible.
struct PixelRect {
  int x = 0, y = 0, w = 0, h = 0;
  bool empty() const { return w <= 0 || h <= 0; }
  bool operator==(const PixelRect&) const = default;
};

inline PixelRect covering_rect(const Box& b, int width, int height) {
  const int x1 = std::clamp(static_cast<int>(std::floor(b.x1)), 0, width);
  const int y1 = std::clamp(static_cast<int>(std::floor(b.y1)), 0, height);
  const int x2 = std::clamp(static_cast<int>(std::ceil(b.x2)), 0, width);
  const int y2 = std::clamp(static_cast<int>(std::ceil(b.y2)), 0, height);
  return {x1, y1, std::max(0, x2 - x1), std::max(0, y2 - y1)};
}

// A rect limited to a width x height image (empty when wholly outside); safe for any int input.
inline PixelRect clamp_rect(const PixelRect& r, int width, int height) {
  const long long x1 = std::clamp<long long>(r.x, 0, width), y1 = std::clamp<long long>(r.y, 0, height);
  const long long x2 = std::clamp<long long>(static_cast<long long>(r.x) + r.w, 0, width);
  const long long y2 = std::clamp<long long>(static_cast<long long>(r.y) + r.h, 0, height);
  return {static_cast<int>(x1), static_cast<int>(y1), static_cast<int>(std::max(0LL, x2 - x1)),
          static_cast<int>(std::max(0LL, y2 - y1))};
}

}  // namespace roadveil
