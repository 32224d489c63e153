// `roadveil verify OUTPUT... [--regions FILE]`: run the detectors on finished files and report what is
// still exposed or readable (review/verify.hpp). Exit 0: nothing found; 4: something found; 3 (1): some (all)
// files could not be checked, each named in its own message.
#include <fstream>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>
#include <memory>

#include "cli/anonymize_options.hpp"
#include "cli/command.hpp"
#include "core/sha256.hpp"
#include "pipeline/audit_record.hpp"
#include "core/utc_time.hpp"
#include "core/error.hpp"
#include "media/image_file.hpp"
#include "review/verify.hpp"
#include "storage/s3_client.hpp"
#include "storage/s3_location.hpp"

namespace roadveil::cli {

namespace {

// The files named and those in the folders named; an input that is neither goes to `unusable` (with its message):
// one missing name must not leave the others unchecked.
std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& inputs,
                                                 std::vector<std::pair<std::string, std::string>>& unusable) {
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
      unusable.emplace_back(in, unusable_input_message(in));
    }
  }
  if (files.empty() && unusable.empty()) throw Error("no image or video among the inputs");
  return files;
}

void print_summary(const review::FileVerification& v) {
  std::size_t exposed = 0;
  for (const auto& f : v.findings) exposed += f.kind == review::FindingKind::Exposed;
  std::cout << v.file.string() << ": " << v.frames_checked << " of " << v.frames << " frames checked, "
            << (v.pictures_checked ? std::to_string(v.pictures_checked) + " attached picture(s) checked, " : std::string())
            << exposed << " exposed, " << v.findings.size() - exposed << " readable"
            << (v.metadata_pictures.empty() ? std::string() : ", " + std::to_string(v.metadata_pictures.size()) + " picture(s) in metadata")
            << (v.regions_known ? ", " + std::to_string(v.regions_checked) + " hidden regions measured" : std::string(", no regions file"))
            << (v.damaged ? ", DAMAGED: only the frames that decoded were checked" : "") << "\n";
  for (const auto& f : v.findings) {
    std::cout << "  " << review::to_string(f.kind) << " " << to_string(f.cls)
              << (f.picture_stream >= 0 ? " attached picture #" + std::to_string(f.picture_stream)
                                        : " frame " + std::to_string(f.frame) + " " + review::timecode(f.time))
              << " [" << static_cast<int>(f.box.x1) << ", " << static_cast<int>(f.box.y1)
              << ", " << static_cast<int>(f.box.x2) << ", " << static_cast<int>(f.box.y2) << "] ";
    if (f.kind == review::FindingKind::Exposed) {
      std::cout << to_string(f.source) << " score " << f.score;
      if (v.regions_known && f.picture_stream < 0) std::cout << ", " << static_cast<int>(100 * f.covered) << "% hidden";
      else std::cout << ", detail " << f.residual;
    } else {
      std::cout << to_string(f.source) << " region, detail " << f.residual << " levels";
    }
    if (!f.crop.empty()) std::cout << " -> " << f.crop.string();
    std::cout << "\n";
  }
  for (const auto& where : v.metadata_pictures) std::cout << "  metadata picture (a copy of the picture, not checked): " << where << "\n";
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
                      {"metadata_pictures", v.metadata_pictures},
                      {"found", exposed + readable + static_cast<std::int64_t>(v.metadata_pictures.size())},
                      {"summary", fmt::format("{} of {} frames checked: {} exposed, {} readable{}", v.frames_checked, v.frames,
                                              exposed, readable, v.damaged ? " (DAMAGED)" : "")}};
  pipeline::write_audit_record(path, record);
}

// Objects to verify (s3://bucket/key, or every image and video under s3://bucket/prefix/), each copied into the
// work folder with its audit record when it has one; `remote` maps each copy to its object.
std::vector<std::filesystem::path> fetch_objects(storage::S3Client& client, const std::string& text,
                                                 const std::filesystem::path& work,
                                                 std::map<std::filesystem::path, storage::S3Url>& remote) {
  namespace fs = std::filesystem;
  const storage::S3Url url = storage::parse_s3_url(text);
  std::vector<storage::S3Url> objects;
  if (url.is_prefix()) {
    for (const auto& o : client.list(url)) {
      const fs::path name(o.key);
      if ((media::is_image_path(name) || media::is_video_path(name)) && name.stem().extension() != ".mask")
        objects.push_back({url.bucket, o.key});
    }
    if (objects.empty()) throw Error(text + ": no image or video under this prefix");
  } else {
    objects.push_back(url);
  }
  std::vector<fs::path> files;
  for (const storage::S3Url& object : objects) {
    const fs::path local = work / std::to_string(remote.size()) / fs::path(object.key).filename();
    fs::create_directories(local.parent_path());
    client.download(object, local);
    const storage::S3Url audit{object.bucket, object.key + ".audit.json"};
    if (client.head(audit)) client.download(audit, pipeline::audit_path_for(local));
    remote[local] = object;
    files.push_back(local);
  }
  return files;
}

}  // namespace

void add_verify_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Attack finished files: run the detectors on them and report every face, head or plate still exposed and every "
      "hidden region that kept readable detail (exit 0: nothing found, 4: something found, 3: some files could not be "
      "checked, 1: none could)");
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
      {
        // The files, their audit records (verify adds to them) and the regions file.
        std::vector<std::string> read = s.files;
        for (const std::string& f : s.files) read.push_back(pipeline::audit_path_for(f).string());
        read.push_back(s.regions);
        refuse_report_over_inputs(s.json_path, read);
      }
      // Objects in a bucket are verified from copies in a work folder; their audit records are updated there
      // and written back beside them.
      std::unique_ptr<storage::S3Client> client;
      std::unique_ptr<WorkFolder> work;
      auto bucket = [&]() -> storage::S3Client& {
        if (!client) {
          client = std::make_unique<storage::S3Client>(storage::resolve_s3_config(storage::process_environment()));
          work = std::make_unique<WorkFolder>();
        }
        return *client;
      };
      std::map<std::filesystem::path, storage::S3Url> remote;
      std::vector<std::filesystem::path> files;
      std::vector<std::string> local;
      for (const std::string& f : s.files) {
        if (!storage::is_s3_url(f)) {
          local.push_back(f);
          continue;
        }
        storage::S3Client& c = bucket();
        for (auto& p : fetch_objects(c, f, work->path(), remote)) files.push_back(std::move(p));
      }
      std::vector<std::pair<std::string, std::string>> unusable;  // name, message
      if (!local.empty() || files.empty())
        for (auto& p : expand_inputs(local, unusable)) files.push_back(std::move(p));
      {
        // A folder's files are known only now: `verify DIR --json DIR/a.mp4` replaced the video it checked.
        std::vector<std::string> read;
        for (const auto& f : files) {
          read.push_back(f.string());
          read.push_back(pipeline::audit_path_for(f).string());
        }
        refuse_report_over_inputs(s.json_path, read);
      }
      std::optional<pipeline::RegionsFile> regions;
      if (storage::is_s3_url(s.regions)) {
        storage::S3Client& c = bucket();
        const std::filesystem::path copy = work->path() / "regions.json";
        c.download(storage::parse_s3_url(s.regions), copy);
        regions = pipeline::RegionsFile::read(copy);
      } else if (!s.regions.empty()) {
        regions = pipeline::RegionsFile::read(s.regions);
      }
      s.verify.detector = s.shared.anonymize.detector;
      s.verify.styles = s.shared.anonymize.styles;
      // The classes of one's own models were promised the style their run recorded (their manifests').
      if (regions) pipeline::apply_recorded_class_styles(regions->class_styles(), s.verify.styles);
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
      int failed = 0, damaged = 0;
      for (const auto& [name, message] : unusable) {
        ++failed;
        std::cerr << "roadveil: error: " << message << "\n";
        report["files"].push_back({{"file", name}, {"error", message}});
      }
      for (const auto& file : files) {
        // A file that cannot be checked is reported and the others are still checked: one unreadable file
        // must not leave the rest unverified.
        review::FileVerification v;
        try {
          const pipeline::RegionsEntry* entry = nullptr;
          if (regions) {
            entry = regions->find_output(file, false);
            if (!entry && files.size() == 1) {
              // The only entry, taken although no output of it has this name: said, and checked by its digest
              // where the run recorded one (another video's regions file of the same size and length was used
              // without a word).
              entry = regions->find_output(file, true);
              if (entry && !entry->output_sha256.empty() && sha256_file_hex(file) != entry->output_sha256)
                std::cerr << "roadveil: warning: " << file.string() << ": not the output " << entry->info.output.string() << " that " << s.regions
                          << " lists (its SHA-256 is not the recorded one): its regions are taken as this file's; "
                             "if they are another video's, what is reported is not\n";
            }
            if (!entry) throw Error(file.string() + ": not listed as an output in " + s.regions);
          }
          v = verifier.verify(file, entry);
        } catch (const Error& e) {
          ++failed;
          std::cerr << "roadveil: error: " << e.what() << "\n";
          const auto it = remote.find(file);
          report["files"].push_back({{"file", it != remote.end() ? it->second.to_string() : file.string()}, {"error", e.what()}});
          continue;
        }
        found = found || v.found();
        damaged += v.damaged;
        if (!s.no_audit) record_in_audit(v, report["settings"]);
        if (const auto it = remote.find(file); it != remote.end()) {
          const storage::S3Url& object = it->second;
          const std::filesystem::path audit = pipeline::audit_path_for(file);
          std::error_code ec;
          if (!s.no_audit && std::filesystem::exists(audit, ec))
            client->upload(audit, {object.bucket, object.key + ".audit.json"}, {}, "application/json");
          v.file = object.to_string();
        }
        if (s.json_path != "-" && !s.shared.quiet) print_summary(v);
        report["files"].push_back(review::to_json(v));
      }
      report["found"] = found;
      report["not_checked"] = failed;
      report["damaged"] = damaged;
      if (!s.json_path.empty()) write_json_report(report, s.json_path);
      // Something found outranks a file that could not be checked; either is not a clean result, nor is a
      // damaged file, of which only the frames that decoded were checked (as anonymize exits for one).
      if (found) return kExitFound;
      if (failed) return static_cast<std::size_t>(failed) == files.size() + unusable.size() ? kExitFailure : kExitPartialFailure;
      if (damaged) return kExitPartialFailure;
      return kExitOk;
    };
  });
}

}  // namespace roadveil::cli
