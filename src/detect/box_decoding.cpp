#include "detect/box_decoding.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace roadveil::detect {

namespace {
// The class with the highest score (`score_of(c)`) among those that reach their floor; -1 when none does.
// Ties go to the later class, as the COCO decoder always chose.
template <typename ScoreOf>
int best_class(std::span<const float> floors, ScoreOf score_of, float& best_score) {
  int best = -1;
  for (size_t c = 0; c < floors.size(); ++c) {
    const float s = score_of(c);
    if (s >= floors[c] && (best < 0 || s >= best_score)) {
      best_score = s;
      best = static_cast<int>(c);
    }
  }
  return best;
}
}  // namespace

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

void decode_yolox_grid(std::span<const float> rows, int tensor_w, int tensor_h, std::span<const float> floors,
                       std::vector<RawBox>& out) {
  const size_t columns = 5 + floors.size();
  const float lowest = floors.empty() ? 2.0f : *std::min_element(floors.begin(), floors.end());
  size_t row = 0;
  for (int stride : {8, 16, 32}) {
    const int gw = tensor_w / stride, gh = tensor_h / stride;
    for (int gy = 0; gy < gh; ++gy) {
      for (int gx = 0; gx < gw; ++gx, ++row) {
        if ((row + 1) * columns > rows.size()) return;
        const float* r = rows.data() + row * columns;
        const float objectness = r[4];
        if (objectness < lowest) continue;
        float score = 0;
        const int best = best_class(floors, [&](size_t c) { return objectness * r[5 + c]; }, score);
        if (best < 0) continue;
        const float cx = (r[0] + gx) * stride, cy = (r[1] + gy) * stride;
        const float w = std::exp(r[2]) * stride, h = std::exp(r[3]) * stride;
        out.push_back({Box::from_center(cx, cy, w, h), score, best});
      }
    }
  }
}

void decode_yolov8(std::span<const float> t, int anchors, std::span<const float> floors, std::vector<RawBox>& out) {
  const size_t n = static_cast<size_t>(anchors);
  if (anchors <= 0 || t.size() < (4 + floors.size()) * n) return;
  for (size_t a = 0; a < n; ++a) {
    float score = 0;
    const int best = best_class(floors, [&](size_t c) { return t[(4 + c) * n + a]; }, score);
    if (best >= 0) out.push_back({Box::from_center(t[a], t[n + a], t[2 * n + a], t[3 * n + a]), score, best});
  }
}

void decode_yolov5(std::span<const float> rows, std::span<const float> floors, std::vector<RawBox>& out) {
  const size_t columns = 5 + floors.size();
  for (size_t row = 0; (row + 1) * columns <= rows.size(); ++row) {
    const float* r = rows.data() + row * columns;
    float score = 0;
    const int best = best_class(floors, [&](size_t c) { return r[4] * r[5 + c]; }, score);
    if (best >= 0) out.push_back({Box::from_center(r[0], r[1], r[2], r[3]), score, best});
  }
}

void decode_yolo_nms(std::span<const float> rows, int columns, std::span<const float> floors, std::vector<RawBox>& out) {
  if (columns < 6) return;
  const size_t cols = static_cast<size_t>(columns);
  for (size_t row = 0; (row + 1) * cols <= rows.size(); ++row) {
    const float* r = rows.data() + row * cols;
    const float cls = r[5];
    if (!(cls >= 0) || cls >= static_cast<float>(floors.size())) continue;
    const int c = static_cast<int>(cls);
    if (r[4] < floors[static_cast<size_t>(c)] || !(r[2] > r[0]) || !(r[3] > r[1])) continue;
    out.push_back({Box{r[0], r[1], r[2], r[3]}, r[4], c});
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
