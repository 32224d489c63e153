// roadveil models: what would be loaded, and whether each file is the one expected. Built-in models are
// checked against the registry's checksums; models described by manifests (--model) are read, checked
// against their manifest's checksum, loaded and run once to see that their output has the declared layout.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "detect/detectors.hpp"
#include "detect/frame_detector.hpp"
#include "detect/model_registry.hpp"

namespace roadveil::cli {

namespace {

struct ModelsOptions {
  std::string models_dir;
  std::vector<std::string> manifests;
  std::string json_path;
};

std::string_view builtin_role(detect::ModelId id) {
  switch (id) {
    case detect::ModelId::FaceYunet: return "frontal faces";
    case detect::ModelId::PlateYolov9: return "licence plates";
    case detect::ModelId::ContextYolox: return "people and vehicles (occupants, plate search)";
    case detect::ModelId::HeadYolox: return "heads from any side, bodies";
  }
  return "";
}

int run_models(const ModelsOptions& o) {
  nlohmann::json report = {{"builtin", nlohmann::json::array()}, {"custom", nlohmann::json::array()}};
  bool all_ok = true;
  std::filesystem::path dir;
  try {
    dir = detect::resolve_models_dir(o.models_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.models_dir));
    std::cout << "built-in models in " << dir.string() << ":\n";
  } catch (const Error& e) {
    std::cout << "built-in models: " << e.what() << "\n";
    all_ok = false;
  }
  for (const auto id : {detect::ModelId::HeadYolox, detect::ModelId::FaceYunet, detect::ModelId::PlateYolov9,
                        detect::ModelId::ContextYolox}) {
    const auto& spec = detect::model_spec(id);
    nlohmann::json entry = {{"file", spec.relative_path}, {"sha256", spec.sha256}, {"role", builtin_role(id)}};
    std::string status = "ok";
    if (!dir.empty()) {
      try {
        detect::locate_model(dir, id);
      } catch (const Error& e) {
        status = e.what();
        all_ok = false;
      }
    } else {
      status = "no models folder";
    }
    entry["status"] = status;
    std::cout << "  " << (status == "ok" ? "ok      " : "PROBLEM ") << spec.relative_path << " (" << builtin_role(id) << ")";
    if (status != "ok") std::cout << ": " << status;
    std::cout << "\n";
    report["builtin"].push_back(entry);
  }
  if (!o.manifests.empty()) std::cout << "your own models:\n";
  for (const auto& path : o.manifests) {
    nlohmann::json entry = {{"manifest", path}};
    try {
      const detect::ModelManifest m = detect::load_manifest(path);
      detect::ManifestNetwork network(m, detect::RuntimeOptions{1});  // loads it and checks its output
      nlohmann::json classes = nlohmann::json::array();
      std::string listed;
      for (const auto& c : m.classes) {
        nlohmann::json cls = {{"id", c.id}, {"name", c.name}, {"hide_as", to_string(c.hide_as)}, {"threshold", c.threshold}};
        std::string how;  // a class of one's own: how it is hidden
        if (c.hidden && !is_builtin(c.hide_as)) {
          cls.update({{"style", c.style.empty() ? "as --style" : c.style}, {"shape", c.shape}, {"padding", c.padding}});
          how = fmt::format(" ({}, {}, padding {:g})", c.style.empty() ? "as --style" : c.style, c.shape, c.padding);
        }
        classes.push_back(cls);
        listed += (listed.empty() ? "" : ", ") + std::to_string(c.id) + " \"" + c.name + "\" -> " +
                  std::string(to_string(c.hide_as)) + how + fmt::format(" from {:g}", c.threshold);
      }
      entry.update({{"status", "ok"}, {"name", m.name}, {"file", m.model.string()}, {"sha256", m.sha256},
                    {"layout", to_string(m.layout)}, {"classes", classes}, {"replaces_builtin", m.replaces_builtin},
                    {"source", m.source}});
      std::cout << "  ok      " << m.name << ": " << m.model.string() << ", layout " << to_string(m.layout) << ", input "
                << (m.fixed_width > 0 ? std::to_string(m.fixed_width) + "x" + std::to_string(m.fixed_height)
                                      : "up to " + std::to_string(m.max_side) + " px, multiple of " + std::to_string(m.format.align))
                << "; classes " << listed << (m.replaces_builtin ? "; replaces the built-in networks of its classes" : "") << "\n";
    } catch (const Error& e) {
      entry["status"] = e.what();
      all_ok = false;
      std::cout << "  PROBLEM " << path << ": " << e.what() << "\n";
    }
    report["custom"].push_back(entry);
  }
  report["ok"] = all_ok;
  if (!o.json_path.empty()) write_json_report(report, o.json_path);
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_models_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<ModelsOptions>();
  auto* cmd = app.add_subcommand("models", "List the models roadveil would load and check each file (checksum, and for "
                                           "--model manifests that the network loads and has the declared output)");
  cmd->add_option("--models", options->models_dir, "Folder with the built-in model files (default: $ROADVEIL_MODELS)");
  cmd->add_option("--model", options->manifests, "A manifest of your own detector to check (repeatable; docs/models.md)")
      ->allow_extra_args(false);
  cmd->add_option("--json", options->json_path, "Also write the result as JSON to this file (- for standard output)");
  cmd->callback([&action, options] { action = [options] { return run_models(*options); }; });
}

}  // namespace roadveil::cli
