#pragma once
// The model files roadveil uses, where to find them, and how to tell the user to get them.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace roadveil::detect {

enum class ModelId { FaceYunet, PlateYolov9, ContextYolox, HeadYolox };

struct ModelSpec {
  ModelId id;
  std::string relative_path;  // inside the models folder
  std::string sha256;
  std::string upstream;       // where a user gets the same bytes
};

const ModelSpec& model_spec(ModelId id);

// The models folder: the explicit one if given, else $ROADVEIL_MODELS, else <exe>/../share/roadveil/models.
// Throws Error when none exists, saying how to set it.
std::filesystem::path resolve_models_dir(const std::optional<std::filesystem::path>& explicit_dir);

// Whether a model file has the expected SHA-256 (hex). A match is remembered for the process (models are large
// and several detectors load the same file); a mismatch is not, so a replaced file is hashed again. On a
// mismatch `actual` receives the file's checksum.
bool model_file_matches(const std::filesystem::path& path, const std::string& sha256, std::string& actual);

// Full path of a model, verified against its checksum once per process. Throws Error naming the file, the
// expected checksum and the upstream source when it is missing or different.
std::filesystem::path locate_model(const std::filesystem::path& models_dir, ModelId id, bool verify = true);

}  // namespace roadveil::detect
