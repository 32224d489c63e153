#pragma once
// All detection for one frame: which networks run, at which resolution, on which part of the frame.
#include <filesystem>
#include <memory>
#include <optional>

#include "core/region.hpp"
#include "detect/detectors.hpp"

namespace roadveil::detect {

struct DetectorConfig {
  bool faces = true;
  bool plates = true;
  float face_threshold = 0.5f;
  float plate_threshold = 0.35f;
  int face_max_side = 1920;   // detector input's longer side for the whole frame (pixels)
  int plate_max_side = 1280;
  std::optional<std::filesystem::path> models_dir;  // else ROADVEIL_MODELS
  int threads = 0;                                  // ONNX Runtime intra-op threads, 0: one per core
};

class FrameDetector {
 public:
  explicit FrameDetector(const DetectorConfig& config);
  Detections detect(const AVFrame& frame);
  const DetectorConfig& config() const { return config_; }

 private:
  DetectorConfig config_;
  std::unique_ptr<FaceNetwork> faces_;
  std::unique_ptr<PlateNetwork> plates_;
};

}  // namespace roadveil::detect
