#pragma once
// The shipped networks, described by manifests in the format of a team's own detector (docs/models.md): how
// each is fed and decoded is data, not a class per network. The file and its checksum come from the model
// registry; the region policy (frame_detector) uses the class ids the manifests list (kBody, kHead, kPerson...).
#include <filesystem>
#include <memory>
#include <string>

#include "detect/detectors.hpp"
#include "detect/model_manifest.hpp"
#include "detect/model_registry.hpp"

namespace roadveil::detect {

// The manifest of a shipped network, as JSON (with "file", "sha256" and "source" from the registry).
nlohmann::json builtin_manifest_json(ModelId id);
// Parsed and checked, its file in `models_dir`.
ModelManifest builtin_manifest(ModelId id, const std::filesystem::path& models_dir);
// The network, its file located and its checksum verified (locate_model), thresholds given per call.
std::unique_ptr<ManifestNetwork> make_builtin_network(ModelId id, const std::filesystem::path& models_dir,
                                                      const RuntimeOptions& runtime);

}  // namespace roadveil::detect
