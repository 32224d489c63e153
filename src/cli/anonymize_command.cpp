#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/anonymize_options.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/memory_limit.hpp"
#include "media/image_file.hpp"
#include "media/output_file.hpp"
#include "pipeline/audit_record.hpp"
#include "pipeline/photo_memory.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/segments.hpp"
#include "service/object_jobs.hpp"
#include "service/remote_models.hpp"
#include "service/shard.hpp"
#include "storage/s3_location.hpp"

namespace roadveil::cli {

void SharedOptions::add_detection(CLI::App& cmd) {
  auto& d = anonymize.detector;
  cmd.add_option("--models", models_dir, "Folder with the model files (default: $ROADVEIL_MODELS)");
  cmd.add_option("--model", model_manifests,
                 "A detector of your own, described by a manifest (JSON; docs/models.md): runs beside the built-in "
                 "networks (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);  // one file per --model: `--model M.json CLIP.mp4` must leave CLIP.mp4 an input
  cmd.add_flag("--faces,!--no-faces", d.faces, "Hide faces (default: on)");
  cmd.add_flag("--plates,!--no-plates", d.plates, "Hide licence plates (default: on)");
  cmd.add_option("--face-threshold", d.face_threshold, "Face detector score threshold")->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd.add_option("--plate-threshold", d.plate_threshold, "Plate detector score threshold")->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd.add_option("--quality", quality,
                 "Hide more or run faster. fast: faces and plates at 1280 px, no person/vehicle context; "
                 "balanced: faces and plates at 1920 px, head regions from person boxes; on video keyframes plates are "
                 "looked for on the vehicles found (scaled to ~256 px per vehicle, 0.5-2x) and over the whole frame at "
                 "half resolution; "
                 "max: balanced with the full plate pass on every keyframe, plus a second look at 2x resolution at the top "
                 "of each person and inside small vehicles")
      ->check(CLI::IsMember({"fast", "balanced", "max"}))->capture_default_str();
  face_resolution_option = cmd.add_option("--face-resolution", d.face_max_side, "Longer side of the face detector input (pixels; default set by --quality)")->check(CLI::Range(64, 8192));
  plate_resolution_option = cmd.add_option("--plate-resolution", d.plate_max_side, "Longer side of the plate detector input (pixels; default set by --quality)")->check(CLI::Range(64, 8192));
  head_network_option = cmd.add_flag("--head-network,!--no-head-network", d.heads.enabled,
               "Find heads with the head detector (any side, backs of heads too) (default: on)");
  face_network_option = cmd.add_flag("--face-network,!--no-face-network", d.face_network,
                                     "Also find frontal faces with the face detector (default: set by --quality)");
  cmd.add_option("--head-threshold", d.heads.head_threshold, "Head detector score threshold")->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd.add_option("--body-threshold", d.heads.body_threshold, "Score from which a body box gets a head region")->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd.add_flag("--body-regions,!--no-body-regions", d.heads.body_regions, "Hide a head region at the top of each body the head detector finds (default: on)");
  head_resolution_option = cmd.add_option("--head-resolution", d.heads.max_side, "Longer side of the head detector input (pixels; default set by --quality)")->check(CLI::Range(64, 8192));
  cmd.add_option("--window-min-head", d.context.window_min_head_px, "Hide the window band of vehicles whose occupants' heads would be at least this many pixels tall (0: never)")->check(CLI::Range(0.0, 1000.0))->capture_default_str();
  cmd.add_option("--context-resolution", d.context.max_side, "Longer side of the person/vehicle detector input (pixels): vehicles, their occupants, plates' vehicles")->check(CLI::Range(64, 8192))->capture_default_str();
  cmd.add_flag("--no-context", no_context, "Do not run the person/vehicle detector (no head regions from person boxes)");
  cmd.add_flag("--full-plate-pass", full_plate_pass,
               "On video keyframes too, run the plate network over the whole frame at full resolution, not on "
               "vehicles (slower; what photos get)");
  cmd.add_option("--padding", padding_scale, "Multiply the margins added around detections (faces become head-sized)")->check(CLI::Range(0.0, 10.0))->capture_default_str();
  cmd.add_flag("--no-tracking", no_tracking, "Hide only what is detected in each frame (no gap filling or carrying); every frame is then detected in full");
  auto& sched = anonymize.schedule;
  cmd.add_option("--keyframes", sched.keyframe_seconds,
                 "Seconds of video between full detections (0: every frame, slowest). Between them, the frames are "
                 "searched around the objects found before and after, and tracking fills the rest")
      ->check(CLI::Range(0.0, 60.0))->capture_default_str();
  detect_every_option = cmd.add_option("--detect-every", sched.keyframe_interval, "Full detection every N-th frame (instead of --keyframes)")->check(CLI::Range(1, 1000));
  cmd.add_option("--search-every", sched.search_every, "Between full detections, search around known objects on every N-th frame (0: never; keyframes are then at most 13 frames apart, the longest gap tracking fills)")->check(CLI::Range(0, 1000))->capture_default_str();
  cmd.add_option("--glances", sched.glances,
                 "Between full detections, look over the whole frame this many times an interval, for faces and plates "
                 "large enough to identify (heads at half the resolution, plates at a third): an object on screen only "
                 "between two keyframes is found if it is on screen at a glance, and followed both ways; one on "
                 "screen for less than the time between a keyframe and a glance can still be missed (0: never)")
      ->check(CLI::Range(0, 24))->capture_default_str();
  cmd.add_option("--continue-score", sched.continue_score_factor,
                 "Between full detections and at the one closing each interval, a box scoring from this share of its "
                 "network's threshold continues an object already followed nearby (never starts one; 1: no weaker evidence)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd.add_option("--appearance", sched.appearance_similarity,
                 "Between full detections, an object a search misses within 24 frames of its network last finding "
                 "it is followed where it still looks the same: correlation of its luma from this value (0: off)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd.add_option("--threads", threads,
                 "Threads for decoding and detection (0: automatic: a photo gets all cores, except where anonymize is "
                 "given several photos without --detections: two at a time with half the cores each; a "
                 "video's networks a quarter of the cores, at least one, since its decoder and encoder use the rest)")->check(CLI::Range(0, 256))->capture_default_str();
  cmd.add_flag("-q,--quiet", quiet, "Print nothing but errors");
  cmd.add_flag("-v,--verbose", verbose, "Print details (FFmpeg messages, per-file timing)");
}

void SharedOptions::add_rendering(CLI::App& cmd) {
  cmd.add_option("--style", style, "How to hide: mosaic, blur or fill")->check(CLI::IsMember({"mosaic", "blur", "fill"}))->capture_default_str();
  cmd.add_option("--face-shape", face_shape, "Shape of hidden faces: ellipse or box (head regions guessed from a person, body or vehicle box, and regions drawn by hand, are always hidden whole)")->check(CLI::IsMember({"ellipse", "box"}))->capture_default_str();
  cmd.add_option("--mosaic-blocks", anonymize.styles[0].mosaic_blocks, "Mosaic blocks across the longer side of a region (fewer = coarser; at most 16: a face 150 px tall "
                 "in 32 or more blocks of 4 px stays recognisable, and verify finds it)")->check(CLI::Range(2, kMostMosaicBlocks))->capture_default_str();
  cmd.add_option("--crf", crf,
                 "Video quality: x264/x265 constant rate factor, 0-51 (lower = better, larger), or auto: 18, raised "
                 "(up to 28) only while the output would be bigger than its source (H.264)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            // Decimal only: CLI::Range reads 0x10 and 010 as 16 and 8, which std::stoi then read as 0 and 10.
            if (v == "auto") return {};
            if (v.empty() || v.size() > 2 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                std::stoi(v) > 51)
              return "auto or a whole number from 0 to 51, not " + v;
            return {};
          },
          "auto|0-51"))
      ->capture_default_str();
  cmd.add_option("--preset", anonymize.encode.preset, "Encoder speed preset (ultrafast ... veryslow); veryfast's lookahead is held to ~40 MB of frames (6 frames instead of 10 at 1080p), slower presets keep x264's")->check(CLI::IsMember(media::kX264Presets))->capture_default_str();
  cmd.add_option("--codec", codec, "Video codec: h264, hevc, or same (HEVC stays HEVC, everything else H.264)")->check(CLI::IsMember(media::kVideoCodecNames))->capture_default_str();
  cmd.add_option("--jpeg-quality", anonymize.image.jpeg_qscale,
                 "JPEG quantiser for images, 1 (best) .. 31; 0: a JPEG photo keeps its own quantisation tables (its "
                 "quality, about its size), other pictures written as JPEG get 2")
      ->check(CLI::Range(0, 31))
      ->capture_default_str();
  cmd.add_flag("--mask", anonymize.mask, "Also write <name>.mask.<ext>: white where hidden, for review tools");
  cmd.add_flag("--low-memory", anonymize.decode_twice,
               "Decode a video twice instead of holding its frames from detection to encoding (an object in a bucket is "
               "read twice in ranges): less memory, one more decode (README: Speed)");
  cmd.add_option("--memory-limit", memory_limit,
                 "Memory the run may use (1.5G, 800M, none); auto: the limit of its control group (container, Slurm "
                 "job) or the machine's memory. A video whose held frames would take it above 3/4 of that is decoded "
                 "twice, as with --low-memory (README: Memory limit)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v == "auto") return {};
            try {
              parse_memory_size(v);
            } catch (const Error& e) {
              return e.what();
            }
            return {};
          },
          "auto|none|SIZE"))
      ->capture_default_str();
}

namespace {
// The classes of one's own models are hidden as their manifests say (style, shape, padding); two manifests
// that describe one class differently are refused rather than one silently winning.
void apply_own_classes(pipeline::AnonymizeOptions& a) {
  std::map<ObjectClass, std::pair<const detect::ManifestClass*, const detect::ModelManifest*>> seen;
  for (const detect::ModelManifest& m : a.detector.custom_models)
    for (const detect::ManifestClass& c : m.classes) {
      if (!c.hidden || is_builtin(c.hide_as)) continue;
      const auto [it, first] = seen.try_emplace(c.hide_as, &c, &m);
      if (!first) {
        const detect::ManifestClass& o = *it->second.first;
        if (o.style != c.style || o.shape != c.shape || o.padding != c.padding)
          throw Error("class '" + std::string(to_string(c.hide_as)) + "' is hidden differently by " + it->second.second->manifest.string() +
                      " and " + m.manifest.string() + " (style, shape or padding): make them agree");
        continue;
      }
      redact::StyleOptions& st = a.styles[static_cast<int>(c.hide_as)];
      if (!c.style.empty()) st.style = redact::style_from_string(c.style);
      st.shape = c.shape == "ellipse" ? redact::Shape::Ellipse : redact::Shape::Box;
      a.padding.own[static_cast<int>(c.hide_as)] = {c.padding, c.padding, c.padding, c.padding};
    }
}
}  // namespace

void SharedOptions::require_something_found() const {
  const detect::DetectorConfig& d = anonymize.detector;
  const auto custom_hides = [&](ObjectClass cls) {
    return std::any_of(d.custom_models.begin(), d.custom_models.end(), [&](const detect::ModelManifest& m) { return m.hides(cls); });
  };
  const bool own_classes = std::any_of(d.custom_models.begin(), d.custom_models.end(),
                                       [](const detect::ModelManifest& m) { return m.hides_own_class(); });
  // Said, not refused: a re-encode that keeps every stream and tag is a use of its own (tests of a player or
  // a pipeline), but not one to mistake for an anonymized file.
  if (!d.faces && !d.plates && !own_classes)
    spdlog::warn("--no-faces and --no-plates leave nothing to hide: the output is the input re-encoded, nothing hidden");
  if (d.faces && !d.heads.enabled && !d.face_network && !custom_hides(ObjectClass::Face))
    throw Error("--no-head-network and --no-face-network leave no network to find faces with: drop one of them, or "
                "give --no-faces to hide plates only");
}

void SharedOptions::finalize() {
  auto& a = anonymize;
  {
    // The preset sets resolutions and passes; resolutions given explicitly win.
    const int face_side = a.detector.face_max_side, plate_side = a.detector.plate_max_side, head_side = a.detector.heads.max_side;
    const bool face_network = a.detector.face_network, head_network = a.detector.heads.enabled;
    detect::apply_quality(*detect::quality_from_string(quality), a.detector);
    if (face_resolution_option && face_resolution_option->count()) a.detector.face_max_side = face_side;
    if (plate_resolution_option && plate_resolution_option->count()) a.detector.plate_max_side = plate_side;
    if (head_resolution_option && head_resolution_option->count()) a.detector.heads.max_side = head_side;
    if (face_network_option && face_network_option->count()) a.detector.face_network = face_network;
    if (head_network_option && head_network_option->count()) a.detector.heads.enabled = head_network;
    // Without the head network the face network is the faces' only source (the networks before the head
    // network's): `--quality fast --no-head-network` ran neither and hid no face at all.
    if (!a.detector.heads.enabled && !(face_network_option && face_network_option->count())) a.detector.face_network = true;
    if (no_context) a.detector.context.enabled = a.detector.context.refine = a.detector.context.refine_photos = false;
    if (no_context || full_plate_pass) a.detector.context.guided_plates = false;
  }
  // Models in a bucket (--models or ROADVEIL_MODELS = s3://bucket/prefix/): copied once into a local cache.
  std::string models = models_dir;
  if (const char* env = std::getenv("ROADVEIL_MODELS"); models.empty() && env) models = env;
  if (storage::is_s3_url(models)) {
    storage::S3Client client(storage::resolve_s3_config(storage::process_environment()));
    a.detector.models_dir = service::cached_models(client, models);
  } else if (!models_dir.empty()) {
    a.detector.models_dir = models_dir;
  }
  a.detector.custom_models.clear();
  for (const auto& manifest : model_manifests) a.detector.custom_models.push_back(detect::load_manifest(manifest));
  if (detect_every_option && detect_every_option->count()) a.schedule.keyframe_seconds = 0;
  a.detector.threads = threads;
  a.video_detector_threads = threads;
  a.threads = threads;
  a.encode.threads = 0;
  a.padding.scale = padding_scale;
  a.tracker.enabled = !no_tracking;
  const redact::Style s = redact::style_from_string(style);
  const int blocks = a.styles[0].mosaic_blocks;
  for (auto& st : a.styles) {
    st.style = s;
    st.mosaic_blocks = blocks;
  }
  a.styles[static_cast<int>(ObjectClass::Face)].shape = face_shape == "box" ? redact::Shape::Box : redact::Shape::Ellipse;
  a.styles[static_cast<int>(ObjectClass::Plate)].shape = redact::Shape::Box;
  apply_own_classes(a);
  // auto: CRF 18 where the source has the bits for it, up to 28 where re-encoding at 18 would make the file
  // bigger than its source (media/crf_control.hpp).
  if (crf == "auto") {
    a.encode.crf = 18;
    a.encode.crf_ceiling = 28;
  } else {
    a.encode.crf = std::stoi(crf);
    a.encode.crf_ceiling = 0;
  }
  if (memory_limit == "auto") a.memory_limit = process_memory_limit();
  else a.memory_limit = {parse_memory_size(memory_limit), "--memory-limit"};
  a.encode.codec = codec == "hevc" ? media::VideoCodecChoice::Hevc : codec == "same" ? media::VideoCodecChoice::SameFamily : media::VideoCodecChoice::H264;
  spdlog::set_level(verbose ? spdlog::level::debug : quiet ? spdlog::level::err : spdlog::level::warn);
  spdlog::set_pattern("roadveil: %l: %v");
  if (a.memory_limit.bytes > 0) spdlog::debug("memory limit: {} ({})", format_memory(a.memory_limit.bytes), a.memory_limit.source);
}

namespace {
bool is_media(const std::filesystem::path& p) { return media::is_image_path(p) || media::is_video_path(p); }
}  // namespace

std::vector<Job> plan_jobs(const std::vector<std::string>& inputs, const std::filesystem::path& output,
                           std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  std::vector<Job> jobs;
  std::error_code ec;
  const bool single_file = inputs.size() == 1 && fs::is_regular_file(inputs[0], ec);
  if (single_file) {
    fs::path out = output;
    // "-o folder/" names a folder, made when missing (it was taken as a file name without an extension).
    if (fs::is_directory(out, ec) || output.string().ends_with('/')) out /= fs::path(inputs[0]).filename();
    jobs.push_back({inputs[0], out});
    return jobs;
  }
  if (fs::exists(output, ec) && !fs::is_directory(output, ec))
    throw Error(output.string() + ": several inputs or a folder need an output folder, and this is a file");
  // "-o two.jpg" for two photos made a folder named two.jpg; a new folder with such a name is asked for as "two.jpg/".
  // (Only for several inputs or a folder: a single input that is missing gets its own message below.)
  const bool several = inputs.size() > 1 || (inputs.size() == 1 && fs::is_directory(inputs[0], ec));
  if (several && !fs::exists(output, ec) && !output.string().ends_with('/') && is_media(output))
    throw Error(output.string() + ": several inputs or a folder need an output folder, and this names a photo or video "
                "(end it with / for a folder of that name)");
  for (const std::string& in_str : inputs) {
    const fs::path in(in_str);
    if (fs::is_regular_file(in, ec)) {
      jobs.push_back({in, output / in.filename()});
    } else if (fs::is_directory(in, ec)) {
      if (fs::exists(output, ec) && fs::equivalent(in, output, ec)) {
        errors.push_back(in.string() + ": the output folder is this input folder; choose another output folder");
        continue;
      }
      std::vector<fs::path> files, other, hidden, links, under_output;
      // Files under the output folder are skipped only where that folder lies inside this input folder (our
      // own outputs); "-o ." above the input folder holds all of it, and said it was empty.
      fs::path out_abs = fs::weakly_canonical(output, ec);
      const fs::path in_abs = fs::weakly_canonical(in, ec);
      if (!out_abs.string().starts_with(in_abs.string() + "/")) out_abs.clear();
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) {
          // A link to a folder is not followed (it could loop) and a broken link reaches nothing: both said.
          if (it->is_symlink(ec)) links.push_back(it->path());
          continue;
        }
        // Never re-process our own outputs or temporary files when the output folder is inside the input.
        // Said like the other files left out: an output folder that existed held a user's own pictures, which
        // a run left out without a word.
        if (!out_abs.empty() && fs::weakly_canonical(it->path(), ec).string().starts_with(out_abs.string() + "/")) {
          // ...but not roadveil's own earlier outputs (their audit record beside them), which every rerun meets.
          if (is_media(it->path()) && !it->path().filename().string().starts_with(".") &&
              !fs::exists(pipeline::audit_path_for(it->path()), ec))
            under_output.push_back(it->path());
          continue;
        }
        // Hidden files are left out (our temporary files are hidden, and so are macOS's "._x.jpg" resource
        // forks, which are no pictures); so is what is no photo or video by its extension. Both are said: a
        // folder run that leaves a picture out silently is one the user believes complete.
        if (it->path().filename().string().starts_with(".")) {
          if (is_media(it->path())) hidden.push_back(it->path());
          continue;
        }
        if (!is_media(it->path())) {
          other.push_back(it->path());
          continue;
        }
        files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      std::vector<std::string> left_out;
      for (auto* left : {&hidden, &other, &links, &under_output}) {
        if (left->empty()) continue;
        std::sort(left->begin(), left->end());
        std::string names;
        for (std::size_t k = 0; k < std::min<std::size_t>(3, left->size()); ++k) names += (k ? ", " : "") + (*left)[k].string();
        if (left->size() > 3) names += fmt::format(" and {} more", left->size() - 3);
        left_out.push_back(fmt::format("left out {} {} ({}){}", left->size(),
                                       left == &hidden         ? "hidden file(s) with a photo or video extension"
                                       : left == &links        ? "link(s) to a folder or to nothing, not followed"
                                       : left == &under_output ? "photo or video file(s) under the output folder, which lies in this input folder"
                                                               : "file(s) that are no photo or video by their extension",
                                       names,
                                       left == &hidden         ? "; give a hidden file on its own to anonymize it"
                                       : left == &links        ? "; give a linked folder as an input of its own"
                                       : left == &under_output ? "; earlier outputs are never taken as inputs: move inputs out of it"
                                                               : ""));
      }
      if (files.empty()) {  // one message: the error says what was there
        std::string what;
        for (const auto& l : left_out) what += "; " + l;
        errors.push_back(in.string() + ": folder contains no image or video files" + what);
      } else {
        for (const auto& l : left_out) spdlog::warn("{}: {}", in.string(), l);
      }
      // Each output mirrors the file's own path under the input folder: a symbolic link is named as the link,
      // not as what it points to (fs::relative resolves links: a link to ../src/x.mp4 was written to
      // OUTPUT/../src/x.mp4, outside the output folder).
      // A video in a container roadveil cannot write (.ogv, .vob, ...) goes into Matroska, which holds what
      // it held, under the same name.
      std::vector<std::string> renamed;
      for (const auto& f : files) {
        fs::path out = output / f.lexically_relative(in);
        if (media::is_read_only_video_path(f)) {
          out.replace_extension(".mkv");
          renamed.push_back(f.filename().string());
        }
        jobs.push_back({f, out});
      }
      if (!renamed.empty())
        spdlog::warn("{}: {} video(s) written as .mkv, a container roadveil cannot write being theirs ({}{})", in.string(),
                     renamed.size(), renamed.front(), renamed.size() > 1 ? fmt::format(" and {} more", renamed.size() - 1) : "");
    } else {
      errors.push_back(unusable_input_message(in.string()));
    }
  }
  return jobs;
}

namespace {
// What a path reaches: the file (device and inode, through symbolic and hard links) when it exists, else its
// absolute form with the folders' links resolved.
std::string file_identity(const std::filesystem::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) == 0) return "inode " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::weakly_canonical(std::filesystem::absolute(p, ec), ec);
  return "path " + (ec ? p.lexically_normal().string() : abs.string());
}
// The audit record of one finished output, beside it and in its entry of the regions file (`writer`, which
// just ended that entry, also gives the digest of the regions it wrote). Throws Error.
void write_record(const pipeline::AuditContext& audit, const pipeline::FileReport& report,
                  const std::filesystem::path& output, pipeline::RegionsWriter* writer) {
  pipeline::AuditContext context = audit;
  if (writer) context.regions_sha256 = writer->entry_digest();
  const auto record = pipeline::make_audit_record(context, report);
  pipeline::write_audit_record(pipeline::audit_path_for(output), record);
  if (writer) writer->attach_audit(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

void check_outputs_are_distinct(const std::vector<Job>& jobs, const std::vector<std::filesystem::path>& other_inputs,
                                const std::filesystem::path& detections_path, bool mask, bool audit) {
  std::map<std::string, std::pair<std::string, std::filesystem::path>> seen;  // identity -> (role, path)
  for (const Job& job : jobs) seen.emplace(file_identity(job.input), std::pair{"the input file", job.input});
  for (const auto& in : other_inputs) seen.emplace(file_identity(in), std::pair{"the input file", in});
  std::map<std::string, const Job*> output_of;  // identity -> the job whose output it is
  // role: "output", "--mask output", "--detections file"
  std::map<std::string, const Job*> claimed_by;  // identity -> the job whose mask or audit record it is
  auto claim = [&](const std::string& role, const std::filesystem::path& p, const Job* job = nullptr, bool output = false) {
    const std::string identity = file_identity(p);
    const auto [it, fresh] = seen.emplace(identity, std::pair{"the " + role, p});
    if (job && fresh) (output ? output_of : claimed_by)[identity] = job;
    if (fresh) return;
    const auto& [other_role, other] = it->second;
    // Two inputs named alike (A/x.jpg and B/x.jpg, or one file given twice) into one output folder.
    if (const auto first = output_of.find(identity); output && job && first != output_of.end())
      throw Error(p.string() + ": would be the output of both " + first->second->input.string() + " and " +
                  job->input.string() + (first->second->input == job->input ? " (the same input given twice)" : "") +
                  "; give each its own output folder, or rename one");
    // Which inputs the two names come from: a folder of x.png and x.mask.png said only "out/x.mask.png: --mask
    // output is the output", not of which inputs.
    const Job* other_job = nullptr;
    if (const auto o = output_of.find(identity); o != output_of.end()) other_job = o->second;
    else if (const auto c = claimed_by.find(identity); c != claimed_by.end()) other_job = c->second;
    std::string whose;
    if (job) whose += "the " + role + " of " + job->input.string();
    if (other_job) whose += (whose.empty() ? "" : ", ") + other_role + " of " + other_job->input.string();
    throw Error(p.string() + ": " + role + " is " + other_role + (other == p ? "" : " " + other.string()) +
                (whose.empty() ? "" : " (" + whose + ")") + "; choose another name");
  };
  for (const Job& job : jobs) {
    claim("output", job.output, &job, true);
    if (mask) claim("--mask output", pipeline::mask_path_for(job.output), &job);
    if (audit) claim("audit record", pipeline::audit_path_for(job.output), &job);
  }
  if (!detections_path.empty()) claim("--detections file", detections_path);
}

int run_jobs(const std::vector<Job>& jobs, const std::vector<std::string>& plan_errors, pipeline::Anonymizer& anonymizer,
             const std::string& detections_path, bool quiet, bool progress, const pipeline::AuditContext* audit,
             bool skip_done) {
  namespace fs = std::filesystem;
  for (const auto& e : plan_errors) std::cerr << "roadveil: error: " << e << "\n";
  // A --skip-done rerun writes the detections file anew: the entries of the files it skips come from the one it
  // replaces (it kept only the files made again, and render, review and audit of the others lost their regions).
  std::map<std::string, nlohmann::json> earlier_entries;
  if (skip_done && !detections_path.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(detections_path, ec)) {
      std::ifstream in(detections_path);
      const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
      if (doc.is_object() && doc.contains("entries") && doc["entries"].is_array())
        for (const nlohmann::json& e : doc["entries"])
          if (e.is_object() && e.contains("input") && e["input"].is_string()) earlier_entries[e["input"].get<std::string>()] = e;
    }
  }
  std::unique_ptr<pipeline::RegionsWriter> writer;
  if (!detections_path.empty()) writer = std::make_unique<pipeline::RegionsWriter>(detections_path);
  int failed = static_cast<int>(plan_errors.size()), succeeded = 0, damaged = 0, skipped = 0;
  std::int64_t frames = 0, frames_keyframes = 0, frames_searched = 0;
  std::array<std::int64_t, kMaxObjectClasses> regions{};
  double seconds = 0;
  // Before a job runs: its output folder, and whether an earlier run already made it.
  auto prepare = [&](const Job& job) {
    std::error_code ec;
    if (!job.output.parent_path().empty()) fs::create_directories(job.output.parent_path(), ec);
    if (ec) {
      std::cerr << "roadveil: error: " << job.output.parent_path().string() << ": cannot create the output folder ("
                << ec.message() << ")\n";
      ++failed;
      return false;
    }
    if (skip_done && audit && audit->options &&
        pipeline::made_by_this_run_before(job.input, job.output, *audit->options, audit->quality)) {
      ++skipped;
      if (!quiet) std::cerr << "roadveil: " << job.output.string() << ": already made from this input with these settings: skipped\n";
      if (writer) {
        const auto earlier = earlier_entries.find(job.input.string());
        if (earlier != earlier_entries.end()) writer->copy_entry(earlier->second);
        else std::cerr << "roadveil: warning: " << detections_path << ": has no regions of " << job.input.string()
                       << ", which was skipped (made before without --detections?): run without --skip-done to have them\n";
      }
      return false;
    }
    return true;
  };
  // After it ran, in the order of the jobs: messages, audit record, counts.
  auto finish = [&](const Job& job, const pipeline::FileReport& r, bool add_seconds) {
    for (const auto& w : r.warnings) std::cerr << "roadveil: warning: " << w << "\n";
    if (!r.ok) {
      std::cerr << "roadveil: error: " << r.error << "\n";
      ++failed;
      return;
    }
    if (audit) {
      try {
        write_record(*audit, r, job.output, writer.get());
      } catch (const std::exception& e) {
        std::cerr << "roadveil: error: " << job.output.string() << ": the audit record could not be written: " << e.what() << "\n";
        ++failed;
        return;
      }
    }
    if (r.damaged) {
      ++failed;
      ++damaged;
    } else {
      ++succeeded;
    }
    frames += r.frames;
    frames_keyframes += r.frames_keyframes;
    frames_searched += r.frames_searched;
    if (add_seconds) seconds += r.seconds;
    for (int c = 0; c < object_class_count(); ++c) regions[c] += r.regions[c];
    spdlog::debug("{} -> {}: {} frames, {}, {:.1f} s", job.input.string(), job.output.string(),
                  r.frames, counts_in_words(r.regions, "regions"), r.seconds);
  };

  // Photos two at a time: one photo keeps about 1.7 of 2 cores busy (decoding, encoding and the region logic
  // run on one thread between the networks' parallel parts). Each of the two has its own detectors with half
  // the cores. Only with the automatic thread count and without one --detections file for all (its entries
  // go in the order of the jobs as they are written).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const bool photos_in_pairs = !writer && cores >= 2 && anonymizer.options().detector.threads == 0;
  std::vector<std::unique_ptr<pipeline::Anonymizer>> photo_workers;
  auto is_photo = [](const Job& j) { return media::is_image_path(j.input); };

  for (std::size_t i = 0; i < jobs.size();) {
    std::size_t end = i;
    while (photos_in_pairs && end < jobs.size() && is_photo(jobs[end])) ++end;
    if (end - i >= 2) {
      if (photo_workers.empty()) {
        pipeline::AnonymizeOptions options = anonymizer.options();
        options.detector.threads = static_cast<int>(std::max(1u, cores / 2));
        for (int w = 0; w < 2; ++w) photo_workers.push_back(std::make_unique<pipeline::Anonymizer>(options));
        spdlog::debug("photos: two at a time, {} ONNX Runtime thread(s) per network each", options.detector.threads);
      }
      const std::size_t n = end - i;
      std::vector<char> run(n);
      for (std::size_t k = 0; k < n; ++k) run[k] = prepare(jobs[i + k]);
      std::vector<pipeline::FileReport> reports(n);
      std::atomic<std::size_t> next{0};
      // Two at a time where both fit the memory limit; a large photo waits for the other to finish.
      pipeline::PhotoMemoryBudget budget(anonymizer.options().memory_limit.bytes / 4 * 3);
      // A video shows its frames; a folder of photos showed nothing until its summary (photos as the bar's
      // frames: "photos 12/40 ... 3.1 fps" is photos a second).
      pipeline::Progress photos_done(!quiet && progress, "photos", static_cast<std::int64_t>(n));
      // Each photo is finished (messages, audit record, counts) as soon as it and every photo before it are
      // done, not when the whole folder is: a run stopped after hours (Ctrl-C, a job's time limit, the
      // out-of-memory killer) left every output it had made without its audit record, and said nothing of a
      // bad photo until the end.
      std::mutex progress_mutex;
      std::int64_t finished = 0;
      std::vector<char> done(n, 0);
      std::size_t next_to_finish = 0;
      auto finish_ready = [&] {  // under progress_mutex
        for (; next_to_finish < n && done[next_to_finish]; ++next_to_finish) {
          const std::size_t k = next_to_finish;
          if (!run[k]) continue;
          const pipeline::FileReport& r = reports[k];
          if (!r.warnings.empty() || !r.ok || spdlog::should_log(spdlog::level::debug)) photos_done.clear();
          finish(jobs[i + k], r, false);
          reports[k] = pipeline::FileReport{};  // its regions are in the audit record now
        }
      };
      auto work = [&](pipeline::Anonymizer& a) {
        for (std::size_t k; (k = next++) < n;) {
          if (!run[k]) {
            const std::lock_guard lock(progress_mutex);
            done[k] = 1;
            finish_ready();
            continue;
          }
          try {
            // A photo whose header is not one known (read after decoding) runs alone: all of the budget.
            const std::uint64_t need = a.photo_peak(jobs[i + k].input, jobs[i + k].output).value_or(budget.budget());
            budget.acquire(need);
            struct Release {
              pipeline::PhotoMemoryBudget& budget;
              std::uint64_t bytes;
              ~Release() { budget.release(bytes); }
            } release{budget, need};
            reports[k] = a.process(jobs[i + k].input, jobs[i + k].output, nullptr);
          } catch (const std::exception& e) {  // process() reports problems with the input; this is anything else
            reports[k].input = jobs[i + k].input;
            reports[k].error = jobs[i + k].input.string() + ": " + e.what();
          }
          const std::lock_guard lock(progress_mutex);
          done[k] = 1;
          finish_ready();
          photos_done.update(++finished);
        }
      };
      const auto start = std::chrono::steady_clock::now();
      std::thread second(work, std::ref(*photo_workers[1]));
      work(*photo_workers[0]);
      second.join();
      photos_done.done();  // the line cleared before the files' messages and the summary
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      i = end;
      continue;
    }
    const Job& job = jobs[i++];
    if (prepare(job)) finish(job, anonymizer.process(job.input, job.output, writer.get()), true);
  }
  if (writer) writer->close();
  if (!quiet && progress) {
    std::cerr << fmt::format("roadveil: {} file{} done{}{}, {} frames ({} fully detected, {} searched, the rest tracked), {} hidden, {}, {:.1f} fps\n",
                             succeeded, succeeded == 1 ? "" : "s", skipped ? fmt::format(", {} skipped", skipped) : "",
                             failed ? fmt::format(", {} failed", failed) : "",
                             frames, frames_keyframes, frames_searched, counts_in_words(regions, "regions"), pipeline::format_duration(seconds),
                             seconds > 0 ? frames / seconds : 0.0);
  }
  if (failed == 0) return kExitOk;
  // A damaged input was still rendered (what decoded): a partial result, as a folder run with failures.
  return succeeded + skipped > 0 || damaged > 0 ? kExitPartialFailure : kExitFailure;
}

namespace {

// Keeps only the jobs of this task of a job array (`name_of` gives the name the share is decided by), and says
// how many of how many.
template <typename JobT, typename NameOf>
void keep_share(std::vector<JobT>& jobs, const service::Shard& shard, NameOf name_of, bool quiet) {
  const std::size_t all = jobs.size();
  std::erase_if(jobs, [&](const JobT& j) { return !shard.takes(name_of(j)); });
  if (shard.count > 1 && !quiet) std::cerr << fmt::format("roadveil: shard {}: {} of {} inputs\n", shard.text(), jobs.size(), all);
}

// anonymize with s3:// inputs or output (service/object_jobs.hpp): each object staged, anonymized, uploaded
// with its audit record; outputs already made from the same input with the same settings are skipped.
int run_object_jobs(const std::vector<std::string>& inputs, const std::string& output, const SharedOptions& shared,
                    bool quiet, bool progress, const pipeline::AuditContext* audit, const service::Shard& shard,
                    bool skip_done = true, const std::string& rendered_regions = "") {
  storage::S3Client client(storage::resolve_s3_config(storage::process_environment()));
  std::vector<std::string> errors;
  auto jobs = service::plan_object_jobs(client, inputs, output, errors);
  if (jobs.empty() && errors.empty()) throw Error("nothing to do");
  keep_share(jobs, shard, [](const service::ObjectJob& j) { return service::to_string(j.input); }, quiet);
  // A render writes its own regions file beside each output: it must not replace the reviewed file it renders.
  for (const service::ObjectJob& j : jobs)
    if (!rendered_regions.empty() && service::to_string(j.output) + ".regions.json" == rendered_regions)
      throw Error(service::to_string(j.output) + ": its regions file would replace " + rendered_regions +
                  ", which this render reads: render to another output name");
  for (const auto& e : errors) std::cerr << "roadveil: error: " << e << "\n";
  WorkFolder work;
  // A regions file with one entry applies to the only input of a run, whatever its name (as for local files).
  pipeline::AnonymizeOptions options = shared.anonymize;
  options.single_input = jobs.size() == 1 && errors.empty();
  pipeline::Anonymizer anonymizer(options);
  const service::RunContext context{&client, &anonymizer, audit, service::settings_digest(shared.anonymize, shared.quality, audit != nullptr),
                                    work.path(), shared.anonymize.mask, skip_done, true, 4 << 20, {}};
  int failed = static_cast<int>(errors.size()), done = 0, skipped = 0, damaged = 0;
  std::int64_t frames = 0;
  double seconds = 0;
  for (const service::ObjectJob& job : jobs) {
    const service::JobOutcome r = service::run_object_job(context, job);
    for (const auto& w : r.report.warnings) std::cerr << "roadveil: warning: " << w << "\n";
    // A run without events to follow (a batch task): an input replaced or deleted mid-run fails its job, so
    // that the task's retry anonymizes what is there now.
    if (r.result == service::JobResult::Failed || r.result == service::JobResult::Superseded) {
      std::cerr << "roadveil: error: " << r.error << "\n";
      ++failed;
    } else if (r.result == service::JobResult::Skipped) {
      ++skipped;
      if (!quiet) std::cerr << "roadveil: " << service::to_string(job.output) << ": already made from this input with these settings: skipped\n";
    } else {
      ++done;
      if (r.report.damaged) ++damaged;
      frames += r.report.frames;
      seconds += r.report.seconds;
    }
  }
  if (!quiet && progress)
    std::cerr << fmt::format("roadveil: {} file{} done, {} skipped{}, {} frames, {}\n", done, done == 1 ? "" : "s", skipped,
                             failed ? fmt::format(", {} failed", failed) : "", frames, pipeline::format_duration(seconds));
  if (failed == 0 && damaged == 0) return kExitOk;
  return done + skipped > 0 ? kExitPartialFailure : kExitFailure;
}

// A share as --shard and --segment take it, checked while the options are read: a wrong one exits 2 with the
// other wrong options (it exited 1, and --segment's message named --shard).
CLI::Validator shard_check(const std::string& option) {
  return CLI::Validator(
      [option](std::string& value) -> std::string {
        try {
          service::parse_shard(value, storage::process_environment(), option);
          return "";
        } catch (const Error& e) {
          const std::string message = e.what();  // CLI11 names the option itself
          if (message.starts_with(option + ": ")) return message.substr(option.size() + 2);
          return message.starts_with(option + " ") ? message.substr(option.size() + 1) : message;
        }
      },
      "I/N or auto[/N]");
}

// --segment I/N and --join N: one long video split across workers (pipeline/segments.hpp).
int run_split(const std::vector<std::string>& inputs, const std::string& output, const std::string& segment, int join,
              const std::string& detections, SharedOptions& shared, bool progress, const pipeline::AuditContext* audit) {
  if (!segment.empty() && join > 0) throw Error("--segment makes one part and --join joins them: give one of the two");
  const char* what = segment.empty() ? "--join" : "--segment";
  if (inputs.size() != 1) throw Error(std::string(what) + " splits one video: give one input file");
  if (storage::is_s3_url(inputs[0]) || storage::is_s3_url(output))
    throw Error(std::string(what) + ": the parts of a split run are local files: give a local input and output");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(inputs[0], ec) || media::is_image_path(inputs[0]))
    throw Error(inputs[0] + ": " + what + " splits one video file");
  if (shared.anonymize.mask) throw Error(std::string(what) + ": --mask is not written by split runs (render it from the regions file)");
  std::vector<std::string> errors;
  const auto jobs = plan_jobs(inputs, output, errors);
  if (!errors.empty()) throw Error(errors.front());
  if (jobs.size() != 1) throw Error(std::string(what) + " splits one video: give one input file");
  const Job& job = jobs.front();
  check_outputs_are_distinct(jobs, {}, detections, false, audit != nullptr);
  if (!job.output.parent_path().empty()) std::filesystem::create_directories(job.output.parent_path(), ec);
  const std::string digest = service::settings_digest(shared.anonymize, shared.quality, audit != nullptr);
  if (!segment.empty() && !detections.empty())
    throw Error("--detections: each part writes its regions beside it (OUTPUT.part-I-of-N.regions.json); give "
                "--detections to the --join run, which writes them for the whole file");
  // A requeued job (a Slurm or Kubernetes retry) after the join: its parts are gone, and it failed saying to
  // make them again ("part 0 of 2 is missing"), or made a part again that nothing would join. Known by the
  // output's audit record (with --no-audit there is none).
  if (audit && pipeline::made_by_this_run_before(job.input, job.output, shared.anonymize, shared.quality)) {
    if (!shared.quiet)
      std::cerr << "roadveil: " << job.output.string() << ": already made from this input with these settings: "
                << (segment.empty() ? "skipped" : "its part skipped")
                << (detections.empty() ? "" : " (" + detections + " is not written again)") << "\n";
    return kExitOk;
  }
  pipeline::Anonymizer anonymizer(shared.anonymize);
  if (!segment.empty()) {
    const service::Shard part = service::parse_shard(segment, storage::process_environment(), "--segment");
    if (!part.note.empty()) std::cerr << "roadveil: warning: " << part.note << "\n";
    const pipeline::PartFiles files = pipeline::part_files(job.output, part.index, part.count);
    if (pipeline::part_is_done(job.input, files, digest)) {
      if (!shared.quiet) std::cerr << "roadveil: " << files.video.string() << ": already made from this input with these settings: skipped\n";
      return kExitOk;
    }
    const pipeline::FileReport r = anonymizer.process_part(job.input, job.output, part.index, part.count, digest);
    for (const auto& w : r.warnings) std::cerr << "roadveil: warning: " << w << "\n";
    if (!r.ok) {
      std::cerr << "roadveil: error: " << r.error << "\n";
      return kExitFailure;
    }
    if (!shared.quiet && progress)
      std::cerr << fmt::format("roadveil: part {} of {}: {} frames into {}, {}\n", part.index, part.count, r.frames,
                               files.video.string(), pipeline::format_duration(r.seconds));
    return r.damaged ? kExitPartialFailure : kExitOk;
  }
  std::unique_ptr<pipeline::RegionsWriter> writer;
  if (!detections.empty()) writer = std::make_unique<pipeline::RegionsWriter>(detections);
  pipeline::FileReport r = anonymizer.join_parts(job.input, job.output, join, digest, writer.get());
  for (const auto& w : r.warnings) std::cerr << "roadveil: warning: " << w << "\n";
  if (!r.ok) {
    std::cerr << "roadveil: error: " << r.error << "\n";
    return kExitFailure;
  }
  if (audit) {
    write_record(*audit, r, job.output, writer.get());
  }
  if (writer) writer->close();
  if (!shared.quiet && progress)
    std::cerr << fmt::format("roadveil: joined {} parts into {}: {} frames, {} hidden\n", join,
                             job.output.string(), r.frames, counts_in_words(r.regions, "regions"));
  return r.damaged ? kExitPartialFailure : kExitOk;
}

bool names_object_storage(const std::vector<std::string>& inputs, const std::string& output) {
  return storage::is_s3_url(output) || std::any_of(inputs.begin(), inputs.end(), storage::is_s3_url);
}

}  // namespace

void add_anonymize_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("anonymize", "Hide faces and licence plates in videos, images or folders");
  struct State {
    SharedOptions shared;
    std::vector<std::string> inputs;
    std::string output, detections, shard, segment;
    int join = 0;
    bool progress = false, no_audit = false, skip_done = false;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("inputs", state->inputs, "Videos, images (JPEG/PNG) or folders")->required();
  cmd->add_option("--segment", state->segment,
                  "Split one long video across workers: anonymize only part I of N (cut at keyframes, I/N with "
                  "0 <= I < N, or auto[/N] as --shard) into OUTPUT.part-I-of-N.mp4; a part already made with these "
                  "settings is skipped. Then --join N")
      ->check(shard_check("--segment"));
  cmd->add_option("--join", state->join,
                  "Join the N parts made with --segment (same input, output and settings) and the input's audio and "
                  "other streams into OUTPUT, as one run would have written it; removes the parts")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--shard", state->shard,
                  "Take only this task's share of the inputs, for job arrays: I/N (0 <= I < N), or auto[/N] for the "
                  "task index of Slurm (SLURM_ARRAY_TASK_ID, count from SLURM_ARRAY_TASK_COUNT), Kubernetes Indexed Jobs "
                  "(JOB_COMPLETION_INDEX) or AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX). Implies --skip-done")
      ->check(shard_check("--shard"));
  cmd->add_flag("--skip-done", state->skip_done,
                "Skip outputs that their audit record says were made from the same input with the same settings and "
                "are unchanged (on object storage this is always on)");
  cmd->add_flag("--no-audit", state->no_audit, "Write no audit record (OUTPUT.audit.json: hashes, models, settings, counts; docs/audit.md)");
  cmd->add_option("-o,--output", state->output, "Output file, or folder for several inputs / a folder")->required();
  cmd->add_option("--detections", state->detections, "Write the hidden regions of every frame to this JSON file");
  cmd->add_flag("--progress", state->progress, "Show progress and the summary even when stderr is not a terminal");
  state->shared.add_detection(*cmd);
  state->shared.add_rendering(*cmd);
  cmd->callback([state, &action] {
    action = [state] {
      state->shared.finalize();
      state->shared.require_something_found();
      const bool tty = ::isatty(2) != 0;
      const bool progress = !state->shared.quiet && (tty || state->progress);
      state->shared.anonymize.progress = progress && tty;
      const pipeline::AuditContext audit{"anonymize", state->shared.quality, &state->shared.anonymize, state->detections, false};
      const service::Shard shard =
          state->shard.empty() ? service::Shard{} : service::parse_shard(state->shard, storage::process_environment());
      if (!shard.note.empty()) std::cerr << "roadveil: warning: " << shard.note << "\n";
      if (!state->shard.empty()) state->skip_done = true;
      if (state->skip_done && state->no_audit)
        throw Error("--skip-done and --shard need the audit records (they say what each output was made from): drop --no-audit");
      if (!state->segment.empty() || state->join > 0) {
        if (!state->shard.empty()) throw Error("--shard shares many inputs and --segment one input's parts: give one of the two");
        return run_split(state->inputs, state->output, state->segment, state->join, state->detections, state->shared,
                         progress, state->no_audit ? nullptr : &audit);
      }
      if (names_object_storage(state->inputs, state->output)) {
        if (!state->detections.empty())
          throw Error("--detections: a run on object storage writes a regions file beside each output object "
                      "(OUTPUT.regions.json); one regions file for all of them is not written there (run on local files for it)");
        return run_object_jobs(state->inputs, state->output, state->shared, state->shared.quiet, progress,
                               state->no_audit ? nullptr : &audit, shard);
      }
      std::vector<std::string> errors;
      auto jobs = plan_jobs(state->inputs, state->output, errors);
      if (jobs.empty() && errors.empty()) throw Error("nothing to do");
      // Over all the inputs, before the share is taken: two inputs of one output in two tasks' shares were
      // each written by its task, exit 0, the last one kept.
      check_outputs_are_distinct(jobs, {}, state->detections, state->shared.anonymize.mask, !state->no_audit);
      // The share goes by the output's name under -o (the input's under the folder given), not by the input's
      // path as typed: tasks given "in", "./in" and "/abs/in" took some inputs twice and others never.
      std::string root = state->output;
      while (root.size() > 1 && root.ends_with('/')) root.pop_back();  // "out/" and "out" are one folder
      const std::filesystem::path output_root = root;
      // One file written to the name given (-o out/a.mp4: a script that runs roadveil once per file) is
      // shared by that name, which every task spells alike; relative to itself it was "." for every file,
      // all of them one task's.
      keep_share(jobs, shard, [&](const Job& j) {
        const std::filesystem::path under = j.output.lexically_relative(output_root);
        if (under.empty() || under == "." || *under.begin() == "..") return j.output.lexically_normal().generic_string();
        return under.generic_string();
      }, state->shared.quiet);
      pipeline::Anonymizer anonymizer(state->shared.anonymize);
      return run_jobs(jobs, errors, anonymizer, state->detections, state->shared.quiet, progress,
                      state->no_audit ? nullptr : &audit, state->skip_done);
    };
  });
}

void add_render_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("render", "Hide exactly the regions of a (reviewed, edited) detections file");
  struct State {
    SharedOptions shared;
    std::vector<std::string> inputs;
    std::string output, regions;
    bool progress = false, no_audit = false;
    std::unique_ptr<pipeline::RegionsFile> file;
  };
  auto state = std::make_shared<State>();
  cmd->add_flag("--no-audit", state->no_audit, "Write no audit record (OUTPUT.audit.json: hashes, settings, counts, the review; docs/audit.md)");
  cmd->add_option("--regions", state->regions, "Detections file (from anonymize --detections)")->required();
  cmd->add_option("inputs", state->inputs, "The original videos, images or folders")->required();
  cmd->add_option("-o,--output", state->output, "Output file or folder")->required();
  cmd->add_flag("--progress", state->progress, "Show progress and the summary even when stderr is not a terminal");
  cmd->add_flag("-q,--quiet", state->shared.quiet, "Print nothing but errors");
  cmd->add_flag("-v,--verbose", state->shared.verbose, "Print details");
  state->shared.add_rendering(*cmd);
  cmd->callback([state, &action, cmd] {
    action = [state, cmd] {
      // A regions file in a bucket (the one written beside an output there) is read from a local copy.
      std::filesystem::path regions = state->regions;
      std::unique_ptr<WorkFolder> work;
      if (storage::is_s3_url(state->regions)) {
        work = std::make_unique<WorkFolder>();
        storage::S3Client client(storage::resolve_s3_config(storage::process_environment()));
        regions = work->path() / "regions.json";
        client.download(storage::parse_s3_url(state->regions), regions);
      }
      try {
        state->file = std::make_unique<pipeline::RegionsFile>(pipeline::RegionsFile::read(regions));
      } catch (const Error& e) {
        std::string what = e.what();
        if (work && what.rfind(regions.string(), 0) == 0) what = state->regions + what.substr(regions.string().size());
        throw Error(what);
      }
      // Encoded as the run was, each option given replacing only its own setting: a run with --codec hevc
      // --crf 23 rendered again without them came out as H.264 at CRF auto, another file.
      const nlohmann::json& encoding = state->file->encoding();
      if (!cmd->count("--codec") && encoding.contains("codec")) state->shared.codec = encoding["codec"].get<std::string>();
      if (!cmd->count("--crf") && encoding.contains("crf"))
        state->shared.crf = encoding["crf"].is_string() ? encoding["crf"].get<std::string>() : fmt::format("{}", encoding["crf"].get<double>());
      if (!cmd->count("--preset") && encoding.contains("preset")) state->shared.anonymize.encode.preset = encoding["preset"].get<std::string>();
      if (!cmd->count("--jpeg-quality") && encoding.contains("jpeg_quality"))
        state->shared.anonymize.image.jpeg_qscale = encoding["jpeg_quality"].is_number() ? encoding["jpeg_quality"].get<int>() : 0;
      state->shared.finalize();
      state->shared.anonymize.regions = state->file.get();
      // A class of one's own model is hidden as the run that found it did (its manifest's style and shape).
      pipeline::apply_recorded_class_styles(state->file->class_styles(), state->shared.anonymize.styles);
      // Faces and plates too, as recorded, each option given replacing only its own part: a run with --style
      // blur --face-shape box rendered again without them came out as the defaults' ellipse mosaic, and with
      // --style fill alone its faces lost the recorded box (the corners an ellipse leaves were shown).
      for (const auto& [key, cls] : {std::pair{"face_style", ObjectClass::Face}, std::pair{"plate_style", ObjectClass::Plate}}) {
        if (!state->file->builtin_styles().contains(key)) continue;
        redact::StyleOptions& style = state->shared.anonymize.styles[static_cast<int>(cls)];
        const redact::StyleOptions given = style;
        style = pipeline::style_from_json(state->file->builtin_styles()[key]);
        if (cmd->count("--style")) style.style = given.style;
        if (cmd->count("--mosaic-blocks")) style.mosaic_blocks = given.mosaic_blocks;
        if (cls == ObjectClass::Face && cmd->count("--face-shape")) style.shape = given.shape;
        // A file recorded before --mosaic-blocks was held to 16 (or edited) renders no finer than anonymize may.
        if (style.style == redact::Style::Mosaic && style.mosaic_blocks > kMostMosaicBlocks)
          throw Error(fmt::format("{}: the regions file records {} mosaic blocks for {}s, more than the {} that leave a face "
                                  "unrecognisable: give --mosaic-blocks {} or fewer", state->regions, style.mosaic_blocks,
                                  to_string(cls), kMostMosaicBlocks, kMostMosaicBlocks));
      }
      const bool tty = ::isatty(2) != 0;
      const bool progress = !state->shared.quiet && (tty || state->progress);
      state->shared.anonymize.progress = progress && tty;
      if (names_object_storage(state->inputs, state->output)) {
        // Each object rendered from ranged reads and uploaded with its audit record, as anonymize does; never
        // skipped (the regions file may have been edited since).
        pipeline::AuditContext audit{"render", "", &state->shared.anonymize, regions, true};
        if (work) audit.regions_file_name = state->regions;
        return run_object_jobs(state->inputs, state->output, state->shared, state->shared.quiet, progress,
                               state->no_audit ? nullptr : &audit, service::Shard{}, false, state->regions);
      }
      std::vector<std::string> errors;
      const auto jobs = plan_jobs(state->inputs, state->output, errors);
      check_outputs_are_distinct(jobs, {state->regions}, "", state->shared.anonymize.mask, !state->no_audit);
      state->shared.anonymize.single_input = jobs.size() == 1 && errors.empty();
      pipeline::Anonymizer anonymizer(state->shared.anonymize);
      pipeline::AuditContext audit{"render", "", &state->shared.anonymize, regions, true};
      if (work) audit.regions_file_name = state->regions;
      return run_jobs(jobs, errors, anonymizer, "", state->shared.quiet, progress, state->no_audit ? nullptr : &audit);
    };
  });
}

}  // namespace roadveil::cli
