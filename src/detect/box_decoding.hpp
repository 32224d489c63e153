#pragma once
// Turns raw network outputs into boxes in tensor pixels. Pure functions over float arrays, so that unit
// tests can feed fixed tensors.
#include <cstdint>
#include <span>
#include <vector>

#include "core/geometry.hpp"

namespace roadveil::detect {

struct RawBox {
  Box box;         // tensor pixels
  float score = 0;
  int label = 0;   // model-specific class id (COCO id for YOLOX, 0 otherwise)
};

// YuNet, one stride: cls/obj [N], bbox [N*4], N = (h/s)*(w/s), row-major.
void decode_yunet(std::span<const float> cls, std::span<const float> obj, std::span<const float> bbox, int stride,
                  int tensor_w, int tensor_h, float threshold, std::vector<RawBox>& out);

// YOLOv9 raw head, one stride: [65, gh, gw] channel-major: 4 sides x 16 distribution bins, then the logit.
void decode_yolov9_dfl(std::span<const float> head, int stride, int grid_w, int grid_h, float threshold,
                       std::vector<RawBox>& out);

// YOLOX raw head of one stride, channel-first [4 + 1 + classes, gh, gw] (dx, dy, log w, log h, objectness,
// class scores; both already sigmoid). Keeps each cell's best class; label = class index.
void decode_yolox_planar(std::span<const float> head, int stride, int grid_w, int grid_h, int classes,
                         float threshold, std::vector<RawBox>& out);

// The layouts of models described by a manifest (detect/model_manifest.hpp). `floors[c]` is the score from
// which class c is kept (above 1: never); label = class index; boxes in tensor pixels.
// YOLOv8/v9/v11: [4 + classes, anchors] channel-major: cx, cy, w, h, then one score per class.
void decode_yolov8(std::span<const float> t, int anchors, std::span<const float> floors, std::vector<RawBox>& out);
// YOLOv5/v7: [anchors, 5 + classes] rows: cx, cy, w, h, objectness, class scores (score = objectness x class).
void decode_yolov5(std::span<const float> rows, std::span<const float> floors, std::vector<RawBox>& out);
// YOLOX without decoding in the model: [anchors, 5 + classes] rows on the stride 8, 16, 32 grids in turn.
void decode_yolox_grid(std::span<const float> rows, int tensor_w, int tensor_h, std::span<const float> floors,
                       std::vector<RawBox>& out);
// End-to-end exports with NMS inside: [anchors, columns >= 6] rows: x1, y1, x2, y2, score, class.
void decode_yolo_nms(std::span<const float> rows, int columns, std::span<const float> floors, std::vector<RawBox>& out);

// Greedy non-maximum suppression per label; keeps the higher score. Sorts `boxes` by score.
void nms(std::vector<RawBox>& boxes, float iou_threshold);

}  // namespace roadveil::detect
