#include "detect/builtin_models.hpp"

#include <nlohmann/json.hpp>

namespace roadveil::detect {

namespace {

using nlohmann::json;

// What decides how each network is run; thresholds come from the options (--face-threshold...), so the
// classes have none. Classes not listed are dropped (the hands of the head network, COCO's animals).
json description(ModelId id) {
  const json face_input = {{"channels", "bgr"}, {"scale", 1.0}, {"pad", 0}, {"multiple_of", 32}};
  const json yolox_input = {{"channels", "bgr"}, {"scale", 1.0}, {"pad", 114}, {"multiple_of", 32}};
  switch (id) {
    case ModelId::FaceYunet:
      return {{"name", "face-yunet-n"}, {"license", "Apache-2.0"}, {"layout", "yunet"}, {"num_classes", 1}, {"nms_iou", 0.3},
              {"input", face_input}, {"classes", {{{"id", 0}, {"name", "face"}, {"hide_as", "face"}}}}};
    case ModelId::PlateYolov9:
      return {{"name", "plate-yolov9t"}, {"license", "MIT"}, {"layout", "yolov9-dfl"}, {"num_classes", 1}, {"nms_iou", 0.45},
              {"input", {{"channels", "rgb"}, {"scale", 1.0 / 255.0}, {"pad", 114}, {"multiple_of", 32}}},
              {"classes", {{{"id", 0}, {"name", "licence plate"}, {"hide_as", "plate"}}}}};
    case ModelId::HeadYolox:
      // Upstream stretches the frame to the input; here the frame keeps its aspect ratio and the tensor is
      // padded right and below with YOLOX's grey, so one scale holds for both axes.
      return {{"name", "head-yolox-bhh"}, {"license", "Apache-2.0"}, {"layout", "yolox-planar"}, {"num_classes", 3},
              {"nms_iou", 0.45}, {"input", yolox_input},
              {"classes", {{{"id", kBody}, {"name", "body"}, {"hide_as", "none"}},
                           {{"id", kHead}, {"name", "head"}, {"hide_as", "face"}}}}};
    case ModelId::ContextYolox: {
      json input = yolox_input;
      input["max_upscale"] = 1.0;  // a context crop is never enlarged
      json classes = json::array();
      for (const auto& [cid, name] : std::initializer_list<std::pair<int, const char*>>{
               {kPerson, "person"}, {kBicycle, "bicycle"}, {kCar, "car"}, {kMotorcycle, "motorcycle"}, {kBus, "bus"}, {kTruck, "truck"}})
        classes.push_back({{"id", cid}, {"name", name}, {"hide_as", "none"}});
      return {{"name", "detector-yolox-nano"}, {"license", "Apache-2.0"}, {"layout", "yolox"}, {"num_classes", 80},
              {"nms_iou", 0.45}, {"input", input}, {"classes", classes}};
    }
  }
  return {};
}

}  // namespace

json builtin_manifest_json(ModelId id) {
  const ModelSpec& spec = model_spec(id);
  json j = {{"roadveil_model", 1}, {"file", spec.relative_path}, {"sha256", spec.sha256}, {"source", spec.upstream}};
  j.update(description(id));
  return j;
}

ModelManifest builtin_manifest(ModelId id, const std::filesystem::path& models_dir) {
  const json j = builtin_manifest_json(id);
  return manifest_from_json(j, "built-in " + j["name"].get<std::string>(), models_dir, true);
}

std::unique_ptr<ManifestNetwork> make_builtin_network(ModelId id, const std::filesystem::path& models_dir,
                                                      const RuntimeOptions& runtime) {
  locate_model(models_dir, id);  // present, and the file the checksum names
  return std::make_unique<ManifestNetwork>(builtin_manifest(id, models_dir), runtime, ThresholdUse::PerCall);
}

}  // namespace roadveil::detect
