#include "detect/detectors.hpp"

#include <array>

namespace roadveil::detect {

namespace {
std::span<const float> tensor_span(Ort::Value& v) {
  const auto info = v.GetTensorTypeAndShapeInfo();
  return {v.GetTensorData<float>(), info.GetElementCount()};
}
}  // namespace

NetworkDetector::NetworkDetector(const std::filesystem::path& model, const std::vector<std::string>& outputs,
                                 const RuntimeOptions& runtime, TensorFormat format, float nms_iou, float max_upscale)
    : model_(model, outputs, runtime), format_(format), nms_iou_(nms_iou), max_upscale_(max_upscale) {}

std::vector<RawBox> NetworkDetector::detect(const AVFrame& frame, const PixelRect& crop, int max_side,
                                            float threshold) {
  TensorMapping m = plan_tensor(crop, max_side, max_upscale_, format_.align);
  float* tensor = model_.input(m.tensor_h, m.tensor_w);
  preprocessor_.run(frame, crop, m, format_, tensor);
  auto outputs = model_.run();
  scratch_.clear();
  decode(outputs, m, threshold, scratch_);
  nms(scratch_, nms_iou_);
  std::vector<RawBox> result;
  result.reserve(scratch_.size());
  for (const RawBox& b : scratch_) {
    // Boxes whose centre falls in the padding are artefacts of the padding.
    if (b.box.cx() > m.content_w || b.box.cy() > m.content_h) continue;
    result.push_back({m.to_source(b.box), b.score, b.label});
  }
  return result;
}

FaceNetwork::FaceNetwork(const std::filesystem::path& model, const RuntimeOptions& runtime)
    : NetworkDetector(model,
                      {"cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32", "bbox_8", "bbox_16", "bbox_32"},
                      runtime, TensorFormat{ChannelOrder::BGR, 1.0f, 0.0f, 32}, 0.3f, 2.0f) {}

void FaceNetwork::decode(std::vector<Ort::Value>& o, const TensorMapping& m, float threshold,
                         std::vector<RawBox>& out) {
  const std::array<int, 3> strides = {8, 16, 32};
  for (int i = 0; i < 3; ++i)
    decode_yunet(tensor_span(o[i]), tensor_span(o[3 + i]), tensor_span(o[6 + i]), strides[i], m.tensor_w,
                 m.tensor_h, threshold, out);
}

PlateNetwork::PlateNetwork(const std::filesystem::path& model, const RuntimeOptions& runtime)
    : NetworkDetector(model, {"p8", "p16", "p32"}, runtime,
                      TensorFormat{ChannelOrder::RGB, 1.0f / 255.0f, 114.0f / 255.0f, 32}, 0.45f, 2.0f) {}

void PlateNetwork::decode(std::vector<Ort::Value>& o, const TensorMapping& m, float threshold,
                          std::vector<RawBox>& out) {
  const std::array<int, 3> strides = {8, 16, 32};
  for (int i = 0; i < 3; ++i)
    decode_yolov9_dfl(tensor_span(o[i]), strides[i], m.tensor_w / strides[i], m.tensor_h / strides[i], threshold,
                      out);
}

// Upstream stretches the frame to the input; here, as for YOLOX-nano, the frame keeps its aspect ratio and
// the tensor is padded right and below with YOLOX's grey, so one scale holds for both axes.
HeadNetwork::HeadNetwork(const std::filesystem::path& model, const RuntimeOptions& runtime)
    : NetworkDetector(model, {"p8", "p16", "p32"}, runtime, TensorFormat{ChannelOrder::BGR, 1.0f, 114.0f, 32}, 0.45f,
                      2.0f) {}

void HeadNetwork::decode(std::vector<Ort::Value>& o, const TensorMapping& m, float threshold,
                         std::vector<RawBox>& out) {
  const std::array<int, 3> strides = {8, 16, 32};
  for (int i = 0; i < 3; ++i)
    decode_yolox_planar(tensor_span(o[i]), strides[i], m.tensor_w / strides[i], m.tensor_h / strides[i], 3, threshold,
                        out);
  std::erase_if(out, [](const RawBox& b) { return b.label == kHand; });
}

ContextNetwork::ContextNetwork(const std::filesystem::path& model, const RuntimeOptions& runtime)
    : NetworkDetector(model, {"output"}, runtime, TensorFormat{ChannelOrder::BGR, 1.0f, 114.0f, 32}, 0.45f, 1.0f) {}

void ContextNetwork::decode(std::vector<Ort::Value>& o, const TensorMapping& m, float threshold,
                            std::vector<RawBox>& out) {
  static constexpr std::array<int, 6> keep = {kPerson, kBicycle, kCar, kMotorcycle, kBus, kTruck};
  decode_yolox(tensor_span(o[0]), m.tensor_w, m.tensor_h, threshold, keep, out);
}

}  // namespace roadveil::detect
