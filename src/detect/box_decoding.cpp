#include "detect/box_decoding.hpp"

#include <algorithm>
#include <cmath>

namespace roadveil::detect {

void decode_yunet(std::span<const float> cls, std::span<const float> obj, std::span<const float> bbox, int stride,
                  int tensor_w, int /*tensor_h*/, float threshold, std::vector<RawBox>& out) {
  const int cols = tensor_w / stride;
  const size_t n = std::min(cls.size(), obj.size());
  // score = sqrt(cls*obj) >= t  <=>  cls*obj >= t^2: skip the square root for the many empty cells.
  const float t2 = threshold * threshold;
  for (size_t i = 0; i < n && 4 * i + 3 < bbox.size(); ++i) {
    const float c = std::clamp(cls[i], 0.0f, 1.0f), o = std::clamp(obj[i], 0.0f, 1.0f);
    if (c * o < t2) continue;
    const int r = static_cast<int>(i) / cols, col = static_cast<int>(i) % cols;
    const float cx = (col + bbox[4 * i]) * stride, cy = (r + bbox[4 * i + 1]) * stride;
    const float w = std::exp(bbox[4 * i + 2]) * stride, h = std::exp(bbox[4 * i + 3]) * stride;
    out.push_back({Box::from_center(cx, cy, w, h), std::sqrt(c * o), 0});
  }
}

void decode_yolov9_dfl(std::span<const float> head, int stride, int grid_w, int grid_h, float threshold,
                       std::vector<RawBox>& out) {
  const size_t plane = static_cast<size_t>(grid_w) * grid_h;
  if (head.size() < 65 * plane) return;
  const float logit_threshold = std::log(threshold / (1.0f - threshold));
  const float* logits = head.data() + 64 * plane;
  for (int y = 0; y < grid_h; ++y) {
    for (int x = 0; x < grid_w; ++x) {
      const size_t cell = static_cast<size_t>(y) * grid_w + x;
      if (logits[cell] < logit_threshold) continue;
      float dist[4];
      for (int side = 0; side < 4; ++side) {
        float bins[16], maxv = -1e30f;
        for (int k = 0; k < 16; ++k) {
          bins[k] = head[(side * 16 + k) * plane + cell];
          maxv = std::max(maxv, bins[k]);
        }
        float sum = 0, acc = 0;
        for (int k = 0; k < 16; ++k) {
          const float e = std::exp(bins[k] - maxv);
          sum += e;
          acc += e * k;
        }
        dist[side] = acc / sum;
      }
      const float ax = x + 0.5f, ay = y + 0.5f;
      const Box b{(ax - dist[0]) * stride, (ay - dist[1]) * stride, (ax + dist[2]) * stride, (ay + dist[3]) * stride};
      out.push_back({b, 1.0f / (1.0f + std::exp(-logits[cell])), 0});
    }
  }
}

void decode_yolox_planar(std::span<const float> head, int stride, int grid_w, int grid_h, int classes,
                         float threshold, std::vector<RawBox>& out) {
  const size_t plane = static_cast<size_t>(grid_w) * grid_h;
  if (head.size() < (5 + static_cast<size_t>(classes)) * plane) return;
  const float* objectness = head.data() + 4 * plane;
  for (int y = 0; y < grid_h; ++y) {
    for (int x = 0; x < grid_w; ++x) {
      const size_t cell = static_cast<size_t>(y) * grid_w + x;
      if (objectness[cell] < threshold) continue;
      int best = -1;
      float best_score = threshold;
      for (int c = 0; c < classes; ++c) {
        const float s = objectness[cell] * head[(5 + c) * plane + cell];
        if (s >= best_score) {
          best_score = s;
          best = c;
        }
      }
      if (best < 0) continue;
      const float cx = (head[cell] + x) * stride, cy = (head[plane + cell] + y) * stride;
      const float w = std::exp(head[2 * plane + cell]) * stride, h = std::exp(head[3 * plane + cell]) * stride;
      out.push_back({Box::from_center(cx, cy, w, h), best_score, best});
    }
  }
}

void decode_yolox(std::span<const float> rows, int tensor_w, int tensor_h, float threshold,
                  std::span<const int> keep_classes, std::vector<RawBox>& out) {
  size_t row = 0;
  for (int stride : {8, 16, 32}) {
    const int gw = tensor_w / stride, gh = tensor_h / stride;
    for (int gy = 0; gy < gh; ++gy) {
      for (int gx = 0; gx < gw; ++gx, ++row) {
        if ((row + 1) * 85 > rows.size()) return;
        const float* r = rows.data() + row * 85;
        const float objectness = r[4];
        if (objectness < threshold) continue;
        int best = -1;
        float best_score = threshold;
        for (int c : keep_classes) {
          const float s = objectness * r[5 + c];
          if (s >= best_score) {
            best_score = s;
            best = c;
          }
        }
        if (best < 0) continue;
        const float cx = (r[0] + gx) * stride, cy = (r[1] + gy) * stride;
        const float w = std::exp(r[2]) * stride, h = std::exp(r[3]) * stride;
        out.push_back({Box::from_center(cx, cy, w, h), best_score, best});
      }
    }
  }
}

void nms(std::vector<RawBox>& boxes, float iou_threshold) {
  std::sort(boxes.begin(), boxes.end(), [](const RawBox& a, const RawBox& b) { return a.score > b.score; });
  std::vector<RawBox> kept;
  kept.reserve(boxes.size());
  for (const RawBox& b : boxes) {
    bool suppressed = false;
    for (const RawBox& k : kept) {
      if (k.label == b.label && iou(k.box, b.box) > iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(b);
  }
  boxes.swap(kept);
}

}  // namespace roadveil::detect
