#include "detect/frame_detector.hpp"

#include "detect/model_registry.hpp"

namespace roadveil::detect {

FrameDetector::FrameDetector(const DetectorConfig& config) : config_(config) {
  if (!config.faces && !config.plates) return;
  const auto dir = resolve_models_dir(config.models_dir);
  const RuntimeOptions runtime{config.threads};
  if (config.faces) faces_ = std::make_unique<FaceNetwork>(locate_model(dir, ModelId::FaceYunet), runtime);
  if (config.plates) plates_ = std::make_unique<PlateNetwork>(locate_model(dir, ModelId::PlateYolov9), runtime);
}

Detections FrameDetector::detect(const AVFrame& frame) {
  Detections out;
  const PixelRect whole{0, 0, frame.width, frame.height};
  if (faces_)
    for (const RawBox& b : faces_->detect(frame, whole, config_.face_max_side, config_.face_threshold))
      out.push_back({ObjectClass::Face, clamp_to(b.box, frame.width, frame.height), b.score});
  if (plates_)
    for (const RawBox& b : plates_->detect(frame, whole, config_.plate_max_side, config_.plate_threshold))
      out.push_back({ObjectClass::Plate, clamp_to(b.box, frame.width, frame.height), b.score});
  std::erase_if(out, [](const Detection& d) { return d.box.empty(); });
  return out;
}

}  // namespace roadveil::detect
