#pragma once
// Options shared by anonymize, render and eval: the same detection and region logic everywhere.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/work_folder.hpp"
#include "pipeline/anonymizer.hpp"
#include "pipeline/audit_record.hpp"

namespace roadveil::cli {

struct SharedOptions {
  pipeline::AnonymizeOptions anonymize;
  std::string models_dir;
  std::vector<std::string> model_manifests;  // --model
  bool no_faces = false, no_plates = false;
  std::string style = "mosaic";
  std::string face_shape = "ellipse";
  std::string codec = "h264";
  std::string crf = "auto";
  std::string memory_limit = "auto";  // --memory-limit
  float padding_scale = 1.0f;
  int threads = 0;
  bool quiet = false, verbose = false;
  bool no_tracking = false;
  std::string quality = "balanced";
  bool no_context = false;
  bool full_plate_pass = false;
  CLI::Option* face_resolution_option = nullptr;
  CLI::Option* plate_resolution_option = nullptr;
  CLI::Option* head_resolution_option = nullptr;
  CLI::Option* face_network_option = nullptr;
  CLI::Option* head_network_option = nullptr;
  CLI::Option* detect_every_option = nullptr;

  void add_detection(CLI::App& cmd);  // classes, thresholds, resolution, models, tracking, padding
  void add_rendering(CLI::App& cmd);  // style, shape, mosaic, encoder
  // Turns the parsed strings into the options; throws Error for invalid combinations.
  void finalize();
  // For a run that detects (anonymize, worker): throws Error where faces are to be hidden and no network is
  // left to find them; warns where the options leave nothing to look for (--no-faces --no-plates wrote a
  // re-encoded copy of the input, exit 0, without a word).
  void require_something_found() const;
};

// The most mosaic blocks across a region that anonymize and render draw: a face 150 px tall in 32 blocks of
// 4 px stays recognisable (verify finds it); verify's --mosaic-blocks, which describes a file already made,
// reads up to 64.
inline constexpr int kMostMosaicBlocks = 16;

// Where runs on object storage stage each object (core/work_folder.hpp).
using roadveil::WorkFolder;

// Expands inputs (files and folders, recursively) into (input, output) pairs; the output mirrors each
// folder's structure under `output` when there are several inputs or a folder.
struct Job {
  std::filesystem::path input, output;
};
std::vector<Job> plan_jobs(const std::vector<std::string>& inputs, const std::filesystem::path& output,
                           std::vector<std::string>& errors);

// Refuses a run in which any file written (an output, its --mask file, the detections file) is an input or
// another file written: the same path, or the same file through a symbolic or hard link. Throws Error.
void check_outputs_are_distinct(const std::vector<Job>& jobs, const std::vector<std::filesystem::path>& other_inputs,
                                const std::filesystem::path& detections_path, bool mask, bool audit = false);

// Runs the jobs; with `audit`, writes each finished output's audit record beside it (and into the regions
// file's entry when the run writes one). With `skip_done` (and `audit`), an output whose audit record says
// it was made from this input with these settings, and which is unchanged, is skipped (a batch task rerun).
int run_jobs(const std::vector<Job>& jobs, const std::vector<std::string>& plan_errors, pipeline::Anonymizer& anonymizer,
             const std::string& detections_path, bool quiet, bool progress, const pipeline::AuditContext* audit,
             bool skip_done = false);

}  // namespace roadveil::cli
