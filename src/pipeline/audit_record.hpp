#pragma once
// The audit record: evidence of what was done to one output, written beside it as OUTPUT.audit.json (and
// into its regions file entry when the run writes one). What went in and came out (SHA-256, size, duration,
// frames), which roadveil and which model files (SHA-256), every setting in force, what was hidden (per class
// and per region source), and, when they happen later, the review of the regions file that was rendered and
// the result of `verify`. `roadveil audit` checks a record against the files. Format: docs/audit.md.
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/anonymizer.hpp"

namespace roadveil::pipeline {

// How a class is hidden, as the record's settings write it ("face_style", "class_styles"), and back.
nlohmann::json style_to_json(const redact::StyleOptions& s);
redact::StyleOptions style_from_json(const nlohmann::json& s);
// The styles a record gives the classes of one's own models (settings "class_styles": name -> style) over
// `styles`. Throws Error for a malformed class name.
void apply_recorded_class_styles(const nlohmann::json& class_styles, redact::ClassStyles& styles);

// Raised when the same settings give other output bytes, so that work made by an earlier version is not taken
// for this one's (0.1.1: a JPEG photo keeps its own quantisation tables, and --jpeg-quality is applied: it
// was ignored, every JPEG written at quantiser 2).
inline constexpr const char* kRoadveilVersion = "0.1.1";
// The audit record's format: 2 keeps regions_file.regions_sha256 wherever the run wrote a regions file (audit
// fails a record of format 2 without it: a digest taken out would otherwise pass as a record made before).
inline constexpr int kAuditRecordVersion = 2;

// OUTPUT.audit.json
std::filesystem::path audit_path_for(const std::filesystem::path& output);

// {"path", "sha256", "size", "type", "duration", "frame_count"} of a media file (frames: the container's
// count, or `frames_decoded` when given). Throws Error naming the file when it cannot be read.
nlohmann::json describe_media_file(const std::filesystem::path& path, std::int64_t frames_decoded = -1);

// Every option in force that the command line can set (the rest is fixed by the version).
nlohmann::json settings_json(const AnonymizeOptions& options, const std::string& quality);

struct AuditContext {
  std::string command;                      // "anonymize" or "render"
  std::string quality;                      // --quality (anonymize)
  const AnonymizeOptions* options = nullptr;
  std::filesystem::path regions_file;       // written by this run (anonymize --detections) or rendered (render)
  bool regions_file_is_input = false;       // render: the file rendered, hashed now
  std::string regions_file_name = {};       // what the record calls it, when not its path (an s3:// URL)
  std::string regions_sha256 = {};          // written by this run: RegionsWriter::entry_digest() of the input's entry
  // An input that is not a local file (an object read in ranges): described by the caller, who hashed it.
  const nlohmann::json* input_description = nullptr;
};

// The record of one finished output. The review section comes from the rendered regions file's entry.
nlohmann::json make_audit_record(const AuditContext& context, const FileReport& report,
                                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Summary of an entry's "review" section: frames reviewed, reviewers with their frames and edits, times.
nlohmann::json review_summary(const nlohmann::json& review_section);

// True when OUTPUT.audit.json says that this roadveil made `output` from `input` with these settings and
// both files are still what it recorded (SHA-256, status ok): a rerun of a batch task skips such outputs.
// Any doubt (no record, unreadable, another version or setting, a changed file) is false.
bool made_by_this_run_before(const std::filesystem::path& input, const std::filesystem::path& output,
                             const AnonymizeOptions& options, const std::string& quality);
// The same for an input that is not a local file: `same_input` judges the record's "input" (an object's URL and
// ETag); the record, its settings, status, the output's bytes and, with --mask, the mask are checked as above.
bool made_by_this_run_before(const std::filesystem::path& output, const AnonymizeOptions& options, const std::string& quality,
                             const std::function<bool(const nlohmann::json& input)>& same_input);

// Writes `record` to `path` through a temporary file renamed when complete. Throws Error.
void write_audit_record(const std::filesystem::path& path, const nlohmann::json& record);

}  // namespace roadveil::pipeline
