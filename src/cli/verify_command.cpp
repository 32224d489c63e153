// `roadveil verify OUTPUT... [--regions FILE]`: run the detectors on finished files and report what is
// still exposed or readable (review/verify.hpp). Exit 0: nothing found; 4: something found.
#include <fstream>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

#include "cli/anonymize_options.hpp"
#include "cli/command.hpp"
#include "core/sha256.hpp"
#include "pipeline/audit_record.hpp"
#include "core/utc_time.hpp"
#include "core/error.hpp"
#include "media/image_file.hpp"
#include "review/verify.hpp"

namespace roadveil::cli {

namespace {

std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(in, ec))
        if (e.is_regular_file() && (media::is_image_path(e.path()) || media::is_video_path(e.path()))) found.push_back(e.path());
      std::sort(found.begin(), found.end());
      // Masks written beside outputs (--mask) are not pictures of anyone.
      std::erase_if(found, [](const fs::path& p) { return p.stem().extension() == ".mask"; });
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in, ec)) {
      files.emplace_back(in);
    } else {
      throw Error(unusable_input_message(in));
    }
  }
  if (files.empty()) throw Error("no image or video among the inputs");
  return files;
}

void print_summary(const review::FileVerification& v) {
  std::size_t exposed = 0;
  for (const auto& f : v.findings) exposed += f.kind == review::FindingKind::Exposed;
  std::cout << v.file.string() << ": " << v.frames_checked << " of " << v.frames << " frames checked, "
            << exposed << " exposed, " << v.findings.size() - exposed << " readable"
            << (v.regions_known ? ", " + std::to_string(v.regions_checked) + " hidden regions measured" : std::string(", no regions file"))
            << (v.damaged ? ", DAMAGED: only the frames that decoded were checked" : "") << "\n";
  for (const auto& f : v.findings) {
    std::cout << "  " << review::to_string(f.kind) << " " << to_string(f.cls) << " frame " << f.frame << " "
              << review::timecode(f.time) << " [" << static_cast<int>(f.box.x1) << ", " << static_cast<int>(f.box.y1)
              << ", " << static_cast<int>(f.box.x2) << ", " << static_cast<int>(f.box.y2) << "] ";
    if (f.kind == review::FindingKind::Exposed) {
      std::cout << to_string(f.source) << " score " << f.score;
      if (v.regions_known) std::cout << ", " << static_cast<int>(100 * f.covered) << "% hidden";
      else std::cout << ", detail " << f.residual;
    } else {
      std::cout << to_string(f.source) << " region, detail " << f.residual << " levels";
    }
    if (!f.crop.empty()) std::cout << " -> " << f.crop.string();
    std::cout << "\n";
  }
}

// Adds what verify found to the file's audit record (OUTPUT.audit.json), when there is one for these bytes.
void record_in_audit(const review::FileVerification& v, const nlohmann::json& settings) {
  const auto path = pipeline::audit_path_for(v.file);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  nlohmann::json record;
  {
    std::ifstream in(path);
    record = nlohmann::json::parse(in, nullptr, false);
  }
  if (!record.is_object() || record.value("format", "") != "roadveil-audit" || !record.contains("output")) {
    spdlog::warn("{}: not an audit record; the verify result is not recorded in it", path.string());
    return;
  }
  if (record["output"].value("sha256", "") != sha256_file_hex(v.file)) {
    spdlog::warn("{}: describes other bytes than {}; the verify result is not recorded in it", path.string(), v.file.string());
    return;
  }
  std::int64_t exposed = 0, readable = 0;
  for (const auto& f : v.findings) ++(f.kind == review::FindingKind::Exposed ? exposed : readable);
  record["verify"] = {{"at", utc_time_text(std::chrono::system_clock::now())},
                      {"settings", settings},
                      {"frames", v.frames},
                      {"frames_checked", v.frames_checked},
                      {"regions_checked", v.regions_checked},
                      {"exposed", exposed},
                      {"readable", readable},
                      {"found", exposed + readable},
                      {"summary", fmt::format("{} of {} frames checked: {} exposed, {} readable{}", v.frames_checked, v.frames,
                                              exposed, readable, v.damaged ? " (DAMAGED)" : "")}};
  pipeline::write_audit_record(path, record);
}

}  // namespace

void add_verify_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Attack finished files: run the detectors on them and report every face, head or plate still exposed and every "
      "hidden region that kept readable detail (exit 0: nothing found, 4: something found)");
  struct State {
    SharedOptions shared;
    std::vector<std::string> files;
    std::string regions, json_path, crops;
    review::VerifyOptions verify;
    bool no_audit = false;
  };
  auto state = std::make_shared<State>();
  state->shared.quality = "max";  // the most sensitive preset: what verify finds, anonymize could have missed
  cmd->add_option("files", state->files, "Anonymized videos, images or folders of them")->required();
  cmd->add_option("--regions", state->regions,
                  "The regions file of the run (anonymize --detections, or the one rendered): what was hidden where. "
                  "Without it, a detection counts as hidden when its pixels show no detail");
  cmd->add_option("--every", state->verify.every, "Check every n-th frame (1: all)")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--json", state->json_path, "Write the findings as JSON to this file (- for stdout)");
  cmd->add_option("--crops", state->crops, "Save a PNG of each finding in this folder");
  cmd->add_flag("--no-audit", state->no_audit, "Do not add the result to the file's audit record (FILE.audit.json, when there is one)");
  cmd->add_option("--covered", state->verify.covered_fraction, "Share of a detection inside hidden regions for it to count as hidden")->check(CLI::Range(0.05, 1.0))->capture_default_str();
  cmd->add_option("--max-residual", state->verify.max_residual, "Detail (mean 8-bit levels) a hidden region may keep beyond its style")->check(CLI::Range(0.0, 255.0))->capture_default_str();
  state->shared.add_detection(*cmd);
  cmd->add_option("--style", state->shared.style, "The style the regions were promised: mosaic, blur or fill")->check(CLI::IsMember({"mosaic", "blur", "fill"}))->capture_default_str();
  cmd->add_option("--face-shape", state->shared.face_shape, "Shape faces were hidden with: ellipse or box")->check(CLI::IsMember({"ellipse", "box"}))->capture_default_str();
  cmd->add_option("--mosaic-blocks", state->shared.anonymize.styles[0].mosaic_blocks, "Mosaic blocks promised across the longer side of a region")->check(CLI::Range(2, 64))->capture_default_str();
  cmd->callback([state, &action] {
    action = [state] {
      auto& s = *state;
      s.shared.finalize();
      const auto files = expand_inputs(s.files);
      std::optional<pipeline::RegionsFile> regions;
      if (!s.regions.empty()) regions = pipeline::RegionsFile::read(s.regions);
      s.verify.detector = s.shared.anonymize.detector;
      s.verify.styles = s.shared.anonymize.styles;
      s.verify.crops = s.crops;
      review::Verifier verifier(s.verify);
      nlohmann::json report = {{"files", nlohmann::json::array()}};
      report["settings"] = {{"quality", s.shared.quality},
                            {"every", s.verify.every},
                            {"covered", s.verify.covered_fraction},
                            {"max_residual", s.verify.max_residual},
                            {"style", s.shared.style},
                            {"mosaic_blocks", s.shared.anonymize.styles[0].mosaic_blocks}};
      bool found = false;
      for (const auto& file : files) {
        const pipeline::RegionsEntry* entry = nullptr;
        if (regions) {
          entry = regions->find_output(file, files.size() == 1);
          if (!entry) throw Error(file.string() + ": not listed as an output in " + s.regions);
        }
        const review::FileVerification v = verifier.verify(file, entry);
        found = found || !v.findings.empty();
        if (s.json_path != "-" && !s.shared.quiet) print_summary(v);
        report["files"].push_back(review::to_json(v));
        if (!s.no_audit) record_in_audit(v, report["settings"]);
      }
      report["found"] = found;
      if (!s.json_path.empty()) write_json_report(report, s.json_path);
      return found ? kExitFound : kExitOk;
    };
  });
}

}  // namespace roadveil::cli
