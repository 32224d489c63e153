#pragma once
// Anonymizing objects in S3-compatible storage: what `anonymize s3://...` and the upload-triggered worker do
// for each object.
//
// An object is downloaded into a private work folder (written as it arrives: memory stays flat; the disk holds
// one input and one output at a time), anonymized there with the same pipeline as a local file, and its output
// uploaded (multipart above one part, completed last, so that the object appears whole or not at all) with its
// audit record, its regions file (OUTPUT.regions.json: every hidden region, for review and render) and --mask
// video beside it; then the work files are removed. The output object carries
//   x-amz-meta-roadveil-source       the input, s3://bucket/key
//   x-amz-meta-roadveil-source-etag  the input's ETag
//   x-amz-meta-roadveil-version      roadveil's version
//   x-amz-meta-roadveil-settings     the digest of every setting in force (settings_digest)
// so that a rerun (a retried batch task, a second delivery of an event) sees the work is done and skips it.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pipeline/anonymizer.hpp"
#include "pipeline/audit_record.hpp"
#include "storage/s3_client.hpp"

namespace roadveil::service {

// A file on this machine or an object.
using Location = std::variant<std::filesystem::path, storage::S3Url>;
std::string to_string(const Location& where);
bool is_remote(const Location& where);
// The output's name for an input's name (a key, a relative path) under an output prefix or folder: the same,
// except that a video in a container roadveil cannot write (.ogv, .vob, .mxf, .dv, .m2v) goes into Matroska
// (".mkv" for that extension), as a folder run does; such jobs failed every attempt ("the svcd container cannot
// hold h264") and ended in the dead-letter stream.
std::string writable_output_name(std::string name);
// An image or video by its extension, and not hidden (".x.jpg": an editor's or a sync tool's temporary file): what
// a prefix or folder run takes, and what the worker takes from its events.
bool is_media_name(const std::string& name);
// The input as an output's metadata names it ("roadveil-source": header values are ASCII, so the key
// percent-encoded).
std::string source_text(const storage::S3Url& input);
// The input an existing output object says it was made from, when that is not `input` (two uploads whose outputs
// share a name); nothing when it is `input` or the object does not say.
std::optional<std::string> output_of_another_input(const storage::ObjectInfo& existing_output, const storage::S3Url& input);
// Whether the input an output names (its "roadveil-source") is still there; true where that cannot be told. An
// output whose source is gone is no one's: another upload's output may replace it.
bool source_exists(storage::S3Client& client, const std::string& source);
// Whether `have` holds every key of `wanted` with its value (an output's metadata against what a run writes).
bool metadata_holds(const storage::ObjectMetadata& have, const storage::ObjectMetadata& wanted);
// Whether `object` is there as `file` was uploaded with `metadata` (its size and every one of those keys): an
// upload that reported an error after its last byte landed.
bool upload_landed(storage::S3Client& client, const storage::S3Url& object, const std::filesystem::path& file,
                   const storage::ObjectMetadata& metadata);

// Whether `output` (a local file) was made from object `input` at `input_etag` with these settings, by its audit
// record (pipeline::made_by_this_run_before: status ok, this roadveil, the output's SHA-256, its mask): a rerun
// skips it.
bool made_from_object_before(const storage::S3Url& input, const std::string& input_etag, const std::filesystem::path& output,
                             const pipeline::AnonymizeOptions& options, const std::string& quality);

struct ObjectJob {
  Location input, output;
  std::string input_etag;  // of an object input
};

// SHA-256 of roadveil's version, the settings JSON of the audit record and which files go beside the output
// (mask, audit record): equal digests, equal outputs.
std::string settings_digest(const pipeline::AnonymizeOptions& options, const std::string& quality, bool audit);

// Expands inputs into jobs. An s3:// input is an object (s3://b/clip.mp4) or, ending in '/', a prefix whose
// media objects (by extension) are all taken, the output mirroring the keys under it. The output is an
// s3:// prefix (ending in '/') or object, or a local file or folder. Local inputs with an s3:// output are
// uploaded under its prefix. Problems with one input go to `errors`; a wrong output throws Error.
std::vector<ObjectJob> plan_object_jobs(storage::S3Client& client, const std::vector<std::string>& inputs,
                                        const std::string& output, std::vector<std::string>& errors);

enum class JobResult {
  Done,
  Skipped,     // the output was already made from this input with these settings
  Superseded,  // the input was replaced or deleted while it was anonymized: nothing uploaded (`error` says which)
  Failed,
};

struct JobOutcome {
  JobResult result = JobResult::Failed;
  pipeline::FileReport report;  // Done: the run's report (damaged inputs too)
  std::string error;            // Failed; Superseded: what happened to the input
};

struct RunContext {
  storage::S3Client* client = nullptr;
  pipeline::Anonymizer* anonymizer = nullptr;
  const pipeline::AuditContext* audit = nullptr;  // null: no audit record
  std::string settings_digest;
  std::filesystem::path work_dir;  // private; emptied after each job
  bool mask = false;               // upload OUTPUT.mask.EXT too
  bool skip_done = true;           // skip outputs whose metadata says this input and these settings
  bool ranged_reads = true;        // decode videos from ranged reads (false: download them first)
  std::int64_t range_block_size = 4 << 20;
  std::function<void()> before_upload;  // tests: runs once the output is made, before anything is uploaded
};

// One job: skip if done, stage, anonymize, upload, clean up. Never throws for a problem with this job.
JobOutcome run_object_job(const RunContext& context, const ObjectJob& job);

// MIME type by extension, for uploads ("video/mp4", "image/jpeg", "application/json", ...).
std::string content_type_for(const std::string& name);

}  // namespace roadveil::service
