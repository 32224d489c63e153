#pragma once
// `roadveil audit RECORD...`: checks an audit record (pipeline/audit_record.hpp) against the files it names.
// The hashes say the files are the ones recorded; re-rendering says the output hides what its regions file
// says: every hidden region of the output is redrawn from the input with the recorded style and compared
// with the output's pixels there (docs/audit.md).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace roadveil::review {

struct AuditCheck {
  std::string what;    // "output", "input", "regions file", "models", "hidden area"
  bool ok = false;
  bool skipped = false;  // could not be checked (said why in detail); not a failure
  std::string detail;
};

struct AuditOptions {
  std::optional<std::filesystem::path> input;   // where the input is now, when it moved
  std::optional<std::filesystem::path> models_dir;
  bool rerender = true;
};

struct AuditResult {
  std::filesystem::path record;
  std::vector<AuditCheck> checks;
  bool passed() const;
  nlohmann::json to_json() const;
};

// Throws Error when the record itself cannot be read.
AuditResult check_audit_record(const std::filesystem::path& record_path, const AuditOptions& options = {});

// How closely a re-render must match the output inside a hidden region: the mean absolute luma difference
// between output and re-render must be at most this share of the difference the hiding made (input against
// re-render), or at most kAuditCodecNoise levels (what the video encoder alone changes).
inline constexpr double kAuditReproducedShare = 0.5;
inline constexpr double kAuditCodecNoise = 3.0;

}  // namespace roadveil::review
