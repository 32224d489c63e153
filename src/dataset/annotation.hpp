#pragma once
// The in-memory form every annotation format reads into and writes from.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/geometry.hpp"

namespace roadveil::dataset {

struct LabeledBox {
  std::string label;  // class name as the source format spells it ("Vehicle registration plate", "license-plate")
  Box box;            // pixels when the image size is known; see AnnotatedImage::normalized
  float confidence = 1.0f;
  bool is_occluded = false, is_truncated = false, is_group_of = false, is_depiction = false, is_inside = false;
  bool is_difficult = false;  // Pascal VOC <difficult>: evaluation usually ignores these boxes
  std::string text;   // e.g. the plate number of the OpenALPR format; empty when unknown
};

struct AnnotatedImage {
  std::string image;  // path or id as the source format names it (relative to the images folder when known)
  int width = 0, height = 0;  // 0 when unknown
  int depth = 0;              // colour channels (3 for RGB), 0 when unknown
  bool normalized = false;    // boxes are in 0..1 (Open Images) because the size is not known yet
  std::vector<LabeledBox> boxes;
};

}  // namespace roadveil::dataset
