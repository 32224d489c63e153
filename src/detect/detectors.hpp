#pragma once
// Networks behind one call: a crop of a decoded frame in, boxes in source pixels out.
#include <filesystem>
#include <memory>
#include <vector>

#include "core/region.hpp"
#include "detect/box_decoding.hpp"
#include "detect/model_manifest.hpp"
#include "detect/onnx_model.hpp"
#include "detect/preprocess.hpp"

namespace roadveil::detect {

class NetworkDetector {
 public:
  // With -v, says where this network's time went: runs, input pixels, preparing the input, running the
  // network, turning its output into boxes (how a call's fixed cost compares with its pixels' shows here).
  virtual ~NetworkDetector();
  // Boxes (source pixels) with score >= threshold found in `crop` of `frame`, scaled so that the crop's
  // longer side is at most `max_side` tensor pixels.
  std::vector<RawBox> detect(const AVFrame& frame, const PixelRect& crop, int max_side, float threshold);
  // How wide a source pixel is shown, in units of its height (a video's sample aspect ratio, 1 for photos):
  // the network gets the crop as shown (`max_side` then bounds its longer side as shown).
  void set_pixel_aspect(float aspect) { pixel_aspect_ = aspect > 0 ? aspect : 1.0f; }
  // From now on, the input buffers of `runtime` (its shared_input and shared_planes; null: its own).
  void use_buffers(const RuntimeOptions& runtime) {
    model_.use_input_buffer(runtime.shared_input);
    preprocessor_.use_planes(runtime.shared_planes);
  }

 protected:
  NetworkDetector(const std::filesystem::path& model, const std::vector<std::string>& outputs,
                  const RuntimeOptions& runtime, TensorFormat format, float nms_iou, float max_upscale);
  virtual void decode(std::vector<Ort::Value>& outputs, const TensorMapping& m, float threshold,
                      std::vector<RawBox>& out) = 0;
  // A model exported for one input size: every crop is scaled to fit it (aspect kept, padded right and below).
  void set_fixed_input(int width, int height) {
    fixed_w_ = width;
    fixed_h_ = height;
  }
  OnnxModel& model() { return model_; }

 private:
  OnnxModel model_;
  std::string name_;  // the model file's name, for -v
  int fixed_w_ = 0, fixed_h_ = 0;
  float pixel_aspect_ = 1.0f;
  Preprocessor preprocessor_;
  TensorFormat format_;
  float nms_iou_;
  float max_upscale_;
  std::vector<RawBox> scratch_;
  struct Profile {
    long runs = 0;
    double tensor_pixels = 0, content_pixels = 0;  // content: the crop's own pixels, the rest padding
    double preprocess_s = 0, network_s = 0, decode_s = 0;
  } profile_;
};

// The ids the built-in region policy gives the classes of two shipped networks (their manifests,
// detect/builtin_models.cpp, list them under these ids and names).
// YOLOX-N Body-Head-Hand: every head from any side (kHead) and whole bodies (kBody).
enum BodyHeadHandClass : int { kBody = 0, kHead = 1, kHand = 2 };
// YOLOX-nano, COCO: people and vehicles, as context for faces and plates.
enum CocoClass : int { kPerson = 0, kBicycle = 1, kCar = 2, kMotorcycle = 3, kBus = 5, kTruck = 7 };

// A network described by a manifest: a team's own detector, and the shipped ones (detect/builtin_models.hpp).
// Labels are the network's class ids; classes the manifest does not list are dropped.
enum class ThresholdUse {
  PerClass,  // detect()'s threshold is a factor on each class's own threshold (1: the manifest's)
  PerCall,   // detect()'s threshold is the score floor of every listed class (the built-in networks: the options)
};
class ManifestNetwork final : public NetworkDetector {
 public:
  // Loads the model and runs it once on an empty picture to check that its output has the declared layout:
  // throws Error saying what was expected and what was found. The checksum is checked by the caller.
  ManifestNetwork(const ModelManifest& manifest, const RuntimeOptions& runtime,
                  ThresholdUse thresholds = ThresholdUse::PerClass);
  const ModelManifest& manifest() const { return manifest_; }
  // The manifest's class with this network id.
  const ManifestClass* class_of(int id) const;

 protected:
  void decode(std::vector<Ort::Value>& outputs, const TensorMapping& m, float threshold,
              std::vector<RawBox>& out) override;

 private:
  ModelManifest manifest_;
  std::vector<float> floors_;  // per class id: the manifest threshold, 1 per call (2: not listed: dropped)
  std::vector<float> scaled_;  // scratch: floors_ times the call's factor
};

}  // namespace roadveil::detect
