#pragma once
// A detector described by a small JSON file instead of code: a model trained on a team's own data (its
// country's plates, its camera's faces) runs beside the built-in networks without changing roadveil.
// The format is documented in docs/models.md ("Your own detector"); read_manifest checks every field and
// says which one is wrong.
#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/region.hpp"
#include "detect/preprocess.hpp"

namespace roadveil::detect {

// How the network's output tensor is laid out (the exports of the common trainers, after their own
// decoding: boxes in input-tensor pixels).
enum class OutputLayout {
  Yolov8,   // [1, 4 + classes, N]: cx, cy, w, h, one score per class (Ultralytics YOLOv8/v9/v11, YOLOv10 without NMS)
  Yolov5,   // [1, N, 5 + classes]: cx, cy, w, h, objectness, class scores (YOLOv5, YOLOv7)
  Yolox,    // [1, N, 5 + classes] on the stride 8/16/32 grids, undecoded (YOLOX exports without decode_in_inference)
  YoloNms,  // [1, N, 6]: x1, y1, x2, y2, score, class, after the model's own NMS (end-to-end exports)
  // Raw heads, one output per stride (8, 16, 32), decoded by roadveil: the layouts of the shipped models.
  Yunet,       // YuNet: cls, obj [1, N, 1] and bbox [1, N, 4] per stride (nine outputs: cls_8..32, obj_..., bbox_...)
  Yolov9Dfl,   // YOLOv9 distribution-focal head, one class: [1, 65, H/s, W/s] (4 x 16 bins, then the logit)
  YoloxPlanar, // YOLOX head: [1, 5 + classes, H/s, W/s] (dx, dy, log w, log h, objectness, class scores)
};
// Whether the layout has one output per stride (and which names it takes when the manifest names none).
bool has_stride_outputs(OutputLayout layout);
std::vector<std::string> default_stride_outputs(OutputLayout layout);
std::string_view to_string(OutputLayout layout);

struct ManifestClass {
  int id = 0;                              // the network's class index
  std::string name;                        // the network's name for it
  bool hidden = true;                      // false: found for the built-in region policy only ("hide_as": "none")
  ObjectClass hide_as = ObjectClass::Plate;  // what roadveil hides it as: face, plate or a class of one's own
  float threshold = 0.5f;                  // score from which it is hidden (built-in networks: from the options)
  // How a class of one's own is hidden (faces and plates: the options): mosaic, blur or fill ("": --style),
  // box or ellipse, and the margin added on every side, as a share of the box's width and height.
  std::string style;
  std::string shape = "box";
  float padding = 0.1f;
};

struct ModelManifest {
  std::filesystem::path manifest;  // the JSON file
  std::filesystem::path model;     // the ONNX file (relative paths are from the manifest's folder)
  std::string name, sha256, source, license;
  OutputLayout layout = OutputLayout::Yolov8;
  std::string output;     // output tensor name; empty: the model's first output
  std::vector<std::string> outputs;  // the per-stride outputs of the raw-head layouts, in the layout's order
  int num_classes = 1;    // classes the network outputs (the layout's width follows from it)
  TensorFormat format{ChannelOrder::RGB, 1.0f / 255.0f, 114.0f / 255.0f, 32};
  int fixed_width = 0, fixed_height = 0;  // a model exported for one input size (0: any multiple of `format.align`)
  int max_side = 1280;    // longer side of the input for a whole frame (dynamic models)
  float nms_iou = 0.45f;
  float max_upscale = 2.0f;  // a crop is enlarged at most this much (search windows around small objects)
  bool replaces_builtin = false;  // the built-in network for the classes it hides is not run
  std::vector<ManifestClass> classes;

  // Every class this model hides as `cls`.
  bool hides(ObjectClass cls) const;
  // Whether it hides a class of one's own (not face or plate).
  bool hides_own_class() const;
  // The lowest threshold of the classes it hides as `cls` (1 when none).
  float lowest_threshold(ObjectClass cls) const;
};

// Reads and checks a manifest. Throws Error naming the file and the field that is missing or wrong.
ModelManifest read_manifest(const std::filesystem::path& path);

// The same checks on a manifest already parsed. `origin` names it in messages and is its `manifest`; a
// relative "file" is from `base`. A built-in manifest (the shipped networks, detect/builtin_models.hpp) may
// list classes found only for the region policy ("hide_as": "none": bodies, vehicles) and leave out their
// thresholds, which the options give per call.
ModelManifest manifest_from_json(const nlohmann::json& j, const std::filesystem::path& origin,
                                 const std::filesystem::path& base, bool builtin = false);

}  // namespace roadveil::detect
