#include "detect/model_registry.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace roadveil::detect {
namespace {

const std::array<ModelSpec, 4> kSpecs = {{
    {ModelId::FaceYunet, "face-yunet-n/yunet_n_dynamic.onnx",
     "104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12",
     "github.com/ShiqiYu/libfacedetection.train onnx/yunet_n_dynamic.onnx (commit 0047ac24), Apache-2.0"},
    {ModelId::PlateYolov9, "plate-yolov9t/yolo-v9-t-license-plates-f32-rawheads.dyn.onnx",
     "2421bc66a2b9aa63f602bc0dd75e6d3db8226cc3b7673fc79fb82c28fa0f7bca",
     "derived from github.com/agusibrahim/fast-alpr-rs models/yolo-v9-t-416-license-plates-end2end1.onnx "
     "(open-image-models, MIT): see docs/models.md"},
    {ModelId::ContextYolox, "detector-yolox-nano/yolox_nano.dyn.onnx",
     "228256b646bc4108db8fdb9652c5162739595b8b73112b205a54638c8c50bc9e",
     "derived from github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample model/yolox_nano.onnx (Apache-2.0): see "
     "docs/models.md"},
    {ModelId::HeadYolox, "head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx",
     "79cfb7c48f209fa3e9e9f79b909bdd172444ef52cbb9c632967bb3e38a94deb6",
     "converted from PINTO_model_zoo 426 YOLOX-N Body-Head-Hand "
     "yolox_n_body_head_hand_post_0461_0.4428_1x3x256x320_float16.tflite (Apache-2.0) by convert/convert_tflite_yolox.py "
     "beside it, byte for byte: see docs/models.md"},
}};

std::filesystem::path exe_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path{} : p.parent_path();
}

}  // namespace

const ModelSpec& model_spec(ModelId id) { return kSpecs[static_cast<int>(id)]; }

std::filesystem::path resolve_models_dir(const std::optional<std::filesystem::path>& explicit_dir) {
  std::error_code ec;
  if (explicit_dir) {
    if (!std::filesystem::is_directory(*explicit_dir, ec))
      throw Error("models folder " + explicit_dir->string() + " (--models) does not exist");
    return *explicit_dir;
  }
  if (const char* env = std::getenv("ROADVEIL_MODELS"); env && *env) {
    if (!std::filesystem::is_directory(env, ec))
      throw Error(std::string("models folder ") + env + " (ROADVEIL_MODELS) does not exist");
    return env;
  }
  const auto installed = exe_dir() / ".." / "share" / "roadveil" / "models";
  if (std::filesystem::is_directory(installed, ec)) return installed;
  throw Error("no models folder: pass --models DIR or set ROADVEIL_MODELS (see README, section Models)");
}

bool model_file_matches(const std::filesystem::path& path, const std::string& sha256, std::string& actual) {
  static std::mutex mutex;
  static std::map<std::string, std::string> verified;  // path -> the checksum it matched
  std::lock_guard lock(mutex);
  if (const auto it = verified.find(path.string()); it != verified.end() && it->second == sha256) return true;
  actual = sha256_file_hex(path);
  if (actual != sha256) return false;
  verified[path.string()] = sha256;
  return true;
}

std::filesystem::path locate_model(const std::filesystem::path& models_dir, ModelId id, bool verify) {
  const ModelSpec& spec = model_spec(id);
  const auto path = models_dir / spec.relative_path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("model " + path.string() + " is missing: get it from " + spec.upstream +
                " (sha256 " + spec.sha256 + ")");
  if (verify) {
    std::string actual;
    if (!model_file_matches(path, spec.sha256, actual))
      throw Error("model " + path.string() + " has sha256 " + actual + ", expected " + spec.sha256 +
                  ": replace it with the file from " + spec.upstream);
  }
  return path;
}

}  // namespace roadveil::detect
