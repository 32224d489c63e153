#include "detect/detectors.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace roadveil::detect {

namespace {
// The strides of the raw-head layouts' outputs, in the order the manifest lists them.
constexpr std::array<int, 3> kStrides = {8, 16, 32};

std::span<const float> tensor_span(Ort::Value& v) {
  const auto info = v.GetTensorTypeAndShapeInfo();
  return {v.GetTensorData<float>(), info.GetElementCount()};
}
}  // namespace

NetworkDetector::NetworkDetector(const std::filesystem::path& model, const std::vector<std::string>& outputs,
                                 const RuntimeOptions& runtime, TensorFormat format, float nms_iou, float max_upscale)
    : model_(model, outputs, runtime),
      name_(model.filename().string()),
      preprocessor_(runtime.shared_planes),
      format_(format),
      nms_iou_(nms_iou),
      max_upscale_(max_upscale) {}

NetworkDetector::~NetworkDetector() {
  if (profile_.runs == 0) return;
  const Profile& p = profile_;
  const double runs = static_cast<double>(p.runs);
  spdlog::debug("{}: {} runs, {:.1f} Mpx of input ({:.0f} px a run, {:.0f}% padding), preparing the input {:.2f} s, the network {:.2f} s "
                "({:.1f} ms a run, {:.0f} ns a pixel), boxes {:.2f} s",
                name_, p.runs, p.tensor_pixels / 1e6, p.tensor_pixels / runs,
                100 * (1 - p.content_pixels / p.tensor_pixels), p.preprocess_s, p.network_s,
                1e3 * p.network_s / runs, 1e9 * p.network_s / p.tensor_pixels, p.decode_s);
}

std::vector<RawBox> NetworkDetector::detect(const AVFrame& frame, const PixelRect& crop, int max_side,
                                            float threshold) {
  TensorMapping m = plan_tensor(crop, max_side, max_upscale_, format_.align, pixel_aspect_);
  if (fixed_w_ > 0) {
    m.scale = std::min({static_cast<float>(fixed_w_) / (static_cast<float>(crop.w) * m.pixel_aspect),
                        static_cast<float>(fixed_h_) / static_cast<float>(crop.h), max_upscale_});
    m.content_w = std::clamp(static_cast<int>(std::lround(crop.w * m.scale_x())), 1, fixed_w_);
    m.content_h = std::clamp(static_cast<int>(std::lround(crop.h * m.scale)), 1, fixed_h_);
    m.tensor_w = fixed_w_;
    m.tensor_h = fixed_h_;
  }
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  const auto t0 = Clock::now();
  float* tensor = model_.input(m.tensor_h, m.tensor_w);
  preprocessor_.run(frame, crop, m, format_, tensor);
  const auto t1 = Clock::now();
  auto outputs = model_.run();
  const auto t2 = Clock::now();
  scratch_.clear();
  decode(outputs, m, threshold, scratch_);
  nms(scratch_, nms_iou_);
  const auto t3 = Clock::now();
  ++profile_.runs;
  profile_.tensor_pixels += static_cast<double>(m.tensor_w) * m.tensor_h;
  profile_.content_pixels += static_cast<double>(m.content_w) * m.content_h;
  profile_.preprocess_s += seconds(t0, t1);
  profile_.network_s += seconds(t1, t2);
  profile_.decode_s += seconds(t2, t3);
  std::vector<RawBox> result;
  result.reserve(scratch_.size());
  for (const RawBox& b : scratch_) {
    // Boxes whose centre falls in the padding are artefacts of the padding.
    if (b.box.cx() > m.content_w || b.box.cy() > m.content_h) continue;
    result.push_back({m.to_source(b.box), b.score, b.label});
  }
  return result;
}

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

// What the layout needs of the output shape, as text, and whether `shape` is that.
std::pair<std::string, bool> expected_shape(const ModelManifest& m, const std::vector<int64_t>& shape) {
  const int64_t c = m.num_classes;
  const bool batch = shape.size() == 3 && shape[0] == 1;
  switch (m.layout) {
    case OutputLayout::Yolov8:
      return {"[1, " + std::to_string(4 + c) + ", N] (4 box values + " + std::to_string(c) + " class scores per anchor)",
              batch && shape[1] == 4 + c};
    case OutputLayout::Yolov5:
    case OutputLayout::Yolox:
      return {"[1, N, " + std::to_string(5 + c) + "] (4 box values + objectness + " + std::to_string(c) + " class scores per row)",
              batch && shape[2] == 5 + c};
    case OutputLayout::YoloNms:
      return {"[1, N, 6] (x1, y1, x2, y2, score, class per row)", batch && shape[2] >= 6};
    case OutputLayout::Yunet:
    case OutputLayout::Yolov9Dfl:
    case OutputLayout::YoloxPlanar:
      break;  // per stride: stride_output_error
  }
  return {"?", false};
}

// For the raw-head layouts: what output `i` (of a `w` x `h` input) should be and is, or "" when it is that.
std::string stride_output_error(const ModelManifest& m, size_t i, const std::vector<int64_t>& shape, int w, int h) {
  const int64_t s = kStrides[i % 3], gw = w / s, gh = h / s;
  std::string expected;
  bool ok = false;
  if (m.layout == OutputLayout::Yunet) {
    const int64_t width = i < 6 ? 1 : 4;
    expected = "[1, " + std::to_string(gw * gh) + ", " + std::to_string(width) + "]";
    ok = shape.size() == 3 && shape[0] == 1 && shape[1] == gw * gh && shape[2] == width;
  } else {
    const int64_t channels = m.layout == OutputLayout::Yolov9Dfl ? 65 : 5 + m.num_classes;
    expected = "[1, " + std::to_string(channels) + ", " + std::to_string(gh) + ", " + std::to_string(gw) + "]";
    ok = shape.size() == 4 && shape[0] == 1 && shape[1] == channels && shape[2] == gh && shape[3] == gw;
  }
  if (ok) return "";
  return "output " + m.outputs[i] + " should be float " + expected + " (stride " + std::to_string(s) + " of a " +
         std::to_string(w) + "x" + std::to_string(h) + " input); the model's output is " + shape_text(shape);
}

}  // namespace

ManifestNetwork::ManifestNetwork(const ModelManifest& manifest, const RuntimeOptions& runtime, ThresholdUse thresholds)
    : NetworkDetector(manifest.model,
                      has_stride_outputs(manifest.layout) ? manifest.outputs
                      : manifest.output.empty()           ? std::vector<std::string>{}
                                                          : std::vector<std::string>{manifest.output},
                      runtime, manifest.format, manifest.nms_iou, manifest.max_upscale),
      manifest_(manifest) {
  if (manifest.fixed_width > 0) set_fixed_input(manifest.fixed_width, manifest.fixed_height);
  floors_.assign(static_cast<size_t>(manifest.num_classes), 2.0f);
  for (const ManifestClass& c : manifest.classes)
    floors_[static_cast<size_t>(c.id)] = thresholds == ThresholdUse::PerCall ? 1.0f : c.threshold;
  // One run on an empty picture: a model whose output is not the declared layout fails here, by name.
  const int w = manifest.fixed_width > 0 ? manifest.fixed_width : 2 * std::max(32, manifest.format.align);
  const int h = manifest.fixed_height > 0 ? manifest.fixed_height : w;
  std::fill_n(model().input(h, w), static_cast<size_t>(3) * w * h, manifest.format.pad_value);
  std::vector<Ort::Value> outputs;
  try {
    outputs = model().run();
  } catch (const Error& e) {
    throw Error("model " + manifest.model.string() + " (manifest " + manifest.manifest.string() + ") does not run on a " +
                std::to_string(w) + "x" + std::to_string(h) + " input: " + e.what());
  }
  if (has_stride_outputs(manifest.layout)) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      const auto info = outputs[i].GetTensorTypeAndShapeInfo();
      std::string error = info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
                              ? stride_output_error(manifest, i, info.GetShape(), w, h)
                              : "output " + manifest.outputs[i] + " is not float";
      if (!error.empty())
        throw Error("model " + manifest.model.string() + ": manifest " + manifest.manifest.string() + " declares layout " +
                    std::string(to_string(manifest.layout)) + ", so " + error);
    }
    return;
  }
  const auto info = outputs.at(0).GetTensorTypeAndShapeInfo();
  const auto shape = info.GetShape();
  const auto [expected, ok] = expected_shape(manifest, shape);
  if (!ok || info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    throw Error("model " + manifest.model.string() + ": manifest " + manifest.manifest.string() + " declares layout " +
                std::string(to_string(manifest.layout)) + " with " + std::to_string(manifest.num_classes) +
                " classes, so the output should be float " + expected + "; the model's output is " +
                (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? "float " : "not float, ") + shape_text(shape));
}

const ManifestClass* ManifestNetwork::class_of(int id) const {
  for (const ManifestClass& c : manifest_.classes)
    if (c.id == id) return &c;
  return nullptr;
}

void ManifestNetwork::decode(std::vector<Ort::Value>& o, const TensorMapping& m, float factor, std::vector<RawBox>& out) {
  scaled_.resize(floors_.size());
  for (size_t i = 0; i < floors_.size(); ++i) scaled_[i] = floors_[i] > 1.0f ? floors_[i] : floors_[i] * factor;
  if (manifest_.layout == OutputLayout::Yunet || manifest_.layout == OutputLayout::Yolov9Dfl) {
    if (scaled_[0] > 1.0f) return;  // its one class is not hidden
    for (int i = 0; i < 3; ++i) {
      const int s = kStrides[i];
      if (manifest_.layout == OutputLayout::Yunet)
        decode_yunet(tensor_span(o[i]), tensor_span(o[3 + i]), tensor_span(o[6 + i]), s, m.tensor_w, m.tensor_h, scaled_[0], out);
      else
        decode_yolov9_dfl(tensor_span(o[i]), s, m.tensor_w / s, m.tensor_h / s, scaled_[0], out);
    }
    return;
  }
  if (manifest_.layout == OutputLayout::YoloxPlanar) {
    const float lowest = *std::min_element(scaled_.begin(), scaled_.end());
    if (lowest > 1.0f) return;
    for (int i = 0; i < 3; ++i)
      decode_yolox_planar(tensor_span(o[i]), kStrides[i], m.tensor_w / kStrides[i], m.tensor_h / kStrides[i],
                          manifest_.num_classes, lowest, out);
    std::erase_if(out, [&](const RawBox& b) { return b.score < scaled_[static_cast<size_t>(b.label)]; });
    return;
  }
  const auto shape = o[0].GetTensorTypeAndShapeInfo().GetShape();
  const auto values = tensor_span(o[0]);
  switch (manifest_.layout) {
    case OutputLayout::Yolov8: decode_yolov8(values, static_cast<int>(shape.at(2)), scaled_, out); break;
    case OutputLayout::Yolov5: decode_yolov5(values, scaled_, out); break;
    case OutputLayout::Yolox: decode_yolox_grid(values, m.tensor_w, m.tensor_h, scaled_, out); break;
    case OutputLayout::YoloNms: decode_yolo_nms(values, static_cast<int>(shape.at(2)), scaled_, out); break;
    case OutputLayout::Yunet:
    case OutputLayout::Yolov9Dfl:
    case OutputLayout::YoloxPlanar: break;  // above
  }
}

}  // namespace roadveil::detect
