#pragma once
// `roadveil audit RECORD...`: checks an audit record (pipeline/audit_record.hpp) against the files it names.
// The hashes say the files are the ones recorded; re-rendering says the output hides what its regions file
// says: every hidden region of the output is redrawn from the input with the recorded style and compared
// with the output's pixels there (docs/audit.md).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace roadveil::review {

struct AuditCheck {
  explicit AuditCheck(std::string name) : what(std::move(name)) {}
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
  // The files the record was checked against (output, input, regions file), as found: a report written by
  // the command must not replace one of them.
  std::vector<std::filesystem::path> files;
  bool passed() const;
  nlohmann::json to_json() const;
};

// Throws Error when the record itself cannot be read.
AuditResult check_audit_record(const std::filesystem::path& record_path, const AuditOptions& options = {});

// A hidden region is reproduced when the output's pixels there are closer to the re-render than to the input
// (mean absolute luma difference), or within kAuditCodecNoise levels of the re-render (what the video encoder
// alone changes; a region where hiding changes almost nothing cannot tell the two apart). A fixed share of
// what hiding changed was too strict for small regions, where the encoder's error is a large share of it
// (a 24x9 plate: 4 levels off the re-render, 7 off the input).
inline constexpr double kAuditCodecNoise = 3.0;
// Where hiding changes the input by less than this (a tiny or flat region), neither answer is evidence: such
// regions are counted apart, not failed (a 13x7 plate: 4 levels off the re-render, 3 off the input, hiding 5).
inline constexpr double kAuditDistinctChange = 8.0;
// Away from every region (a 16x16 block at least one block from each), the output differs from the input by
// the encoder's error only. A block whose mean luma difference is over kAuditOutsideChange levels changed as
// hiding changes pixels, and kAuditOutsideBlocks such blocks on one frame are something hidden that the
// regions file does not list (a region shrunk or emptied since the run, its count kept).
inline constexpr double kAuditOutsideChange = 12.0;
inline constexpr double kAuditOutsideNoise = 3.0;  // times the frame's median block difference, where that is more
inline constexpr int kAuditOutsideBlocks = 4;
// Looked for only where the encoder's error is below hiding's (measured: --jpeg-quality 15 on a 1080p dashcam
// photo fails an untouched output, 10 passes; x264 at CRF 28 passes).
inline constexpr double kAuditOutsideMaxJpegQuantiser = 10;
inline constexpr double kAuditOutsideMaxCrf = 28;

}  // namespace roadveil::review
