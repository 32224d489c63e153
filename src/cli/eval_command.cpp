#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <unordered_map>

#include "cli/anonymize_options.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/temporary_folder.hpp"
#include "dataset/read.hpp"
#include "eval/agreement.hpp"
#include "core/atomic_file.hpp"
#include "eval/coverage.hpp"
#include "eval/flicker.hpp"
#include "eval/video_truth.hpp"
#include "pipeline/regions_file.hpp"
#include "media/image_file.hpp"
#include "media/input_file.hpp"
#include "media/rotation.hpp"

namespace roadveil::cli {

std::string unusable_input_message(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return path + ": no such file or folder";
  const char* kind = std::filesystem::is_fifo(status)        ? "a FIFO (named pipe)"
                     : std::filesystem::is_socket(status)    ? "a socket"
                     : std::filesystem::is_block_file(status) || std::filesystem::is_character_file(status) ? "a device"
                                                             : "not a regular file";
  return path + ": " + kind + ": roadveil reads inputs more than once and seeks in them; save the stream to a file first";
}

void refuse_report_over_inputs(const std::string& report, const std::vector<std::string>& inputs, const std::string& option) {
  if (report.empty() || report == "-") return;
  std::error_code ec;
  if (!std::filesystem::exists(report, ec)) return;
  for (const std::string& input : inputs) {
    if (input.empty() || !std::filesystem::exists(input, ec)) continue;
    if (std::filesystem::equivalent(report, input, ec))
      throw Error(report + ": " + option + " would replace " + input + ", which this command reads: write the report elsewhere");
  }
}

void write_json_report(const nlohmann::json& j, const std::string& path) {
  if (path == "-") {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  // Through a temporary name, like every output: an interrupted run leaves no half report under the name.
  write_file_atomically(
      path, [&](std::ostream& out) { out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"; },
      "JSON report");
}

namespace {

// The --json report of an earlier eval run (--compare), read before this run detects anything so that a wrong
// file fails at once.
// An earlier run's report, measured as this run measures (the same --hidden-fraction): a box that counts
// hidden at 0.3 and not at 0.9 made "hides more" from identical detections.
nlohmann::json read_compare_report(const std::string& path, float hidden_fraction) {
  nlohmann::json report;
  try {
    std::ifstream in(path);
    report = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + " (--compare) is not a JSON report of roadveil eval: " + e.what());
  }
  if (report.is_object() && report.contains("hidden_fraction") && report["hidden_fraction"].is_number() &&
      std::abs(report["hidden_fraction"].get<double>() - hidden_fraction) > 1e-4)
    throw Error(fmt::format("{} (--compare) was measured with --hidden-fraction {:g}, this run with {:g}: the two would "
                            "differ by how they are measured, not by what was hidden; give the same", path,
                            report["hidden_fraction"].get<double>(), hidden_fraction));
  return report;
}

// A video against its per-frame ground truth: anonymized as `anonymize` would (same options, the schedule,
// tracking), its hidden regions compared frame by frame.
int eval_video(const std::filesystem::path& video, const std::filesystem::path& truth_path, pipeline::AnonymizeOptions options,
               const eval::EvalConfig& config, const std::string& json_path, const std::string& detections_path,
               const std::string& compare_path) {
  namespace fs = std::filesystem;
  eval::VideoTruth truth = eval::read_video_truth(truth_path);
  // Classes the user switched off are not measured (as for photos): --no-plates still scored the plates.
  std::erase_if(truth.boxes, [&](const eval::VideoTruthBox& b) {
    return (b.cls == ObjectClass::Face && !options.detector.faces) || (b.cls == ObjectClass::Plate && !options.detector.plates);
  });
  // An earlier run's report, read first so that a wrong file fails before the video is anonymized.
  nlohmann::json reference;
  if (!compare_path.empty()) {
    reference = read_compare_report(compare_path, config.hidden_fraction);
    if (!eval::is_video_report(reference))
      throw Error(compare_path + " (--compare) has no per-object results: make it with `roadveil eval --json` on the "
                  "same video and ground truth");
  }
  // A truth drawn on frames of another size (CVAT's original_size) is another clip's, or scaled: its boxes
  // miss the picture, and each object counted "never exposed" where nothing of it was measured.
  // A turned video (a phone held upright: a display matrix) is annotated as annotation tools show it, upright
  // (CVAT extracts its frames turned; so does ffmpeg): its boxes are turned back into the stored frame, where
  // the regions are. A CVAT truth of the stored size is taken as drawn on the stored frames.
  {
    const media::InputFile probe(video);
    const int w = probe.video().width, h = probe.video().height, degrees = probe.video().rotation_degrees;
    const bool quarter = degrees == 90 || degrees == 270;
    const int shown_w = quarter ? h : w, shown_h = quarter ? w : h;
    bool upright = degrees != 0;
    if (truth.width > 0 && truth.height > 0 && (truth.width != shown_w || truth.height != shown_h)) {
      if (truth.width != w || truth.height != h)
        throw Error(fmt::format("{}: the ground truth is for frames of {}x{} (its original_size), {} is {}x{}{}: the truth of "
                                "another clip, or of a scaled copy", truth_path.string(), truth.width, truth.height,
                                video.string(), w, h, degrees ? fmt::format(" (shown {}x{}, turned {} degrees)", shown_w, shown_h, degrees) : ""));
      upright = false;  // drawn on the stored frames
    }
    if (upright)
      for (eval::VideoTruthBox& b : truth.boxes) b.box = media::box_in_stored_frame(b.box, degrees, w, h);
  }
  const TemporaryFolder temporary("roadveil-eval");
  const fs::path& work = temporary.path();
  options.encode.preset = "ultrafast";  // the video is thrown away: only its regions are measured
  options.progress = false;
  pipeline::Anonymizer anonymizer(options);
  // The regions of the run, kept with --detections (e.g. for `roadveil review-queue`).
  const fs::path regions_path = detections_path.empty() ? work / "regions.json" : fs::path(detections_path);
  check_outputs_are_distinct({}, {video, truth_path}, detections_path, false);
  pipeline::FileReport report;
  {
    pipeline::RegionsWriter writer(regions_path);
    // In its own container, or Matroska where roadveil cannot write that (.ogv, .vob, ...).
    const std::string ext = media::is_read_only_video_path(video) ? ".mkv" : video.extension().string();
    report = anonymizer.process(video, work / ("anonymized" + ext), &writer);
    if (!report.ok) throw Error(report.error);
    writer.close();
  }
  const auto regions = pipeline::RegionsFile::read(regions_path);
  const pipeline::RegionsEntry& entry = regions.entries().front();
  const eval::VideoReport r =
      eval::evaluate_video(truth, entry.frames, report.frames, entry.info.width, entry.info.height, config);
  if (truth.unknown_labels)
    std::cerr << "roadveil: warning: " << truth.unknown_labels << " boxes had a class that is neither face nor plate nor a class of a --model (ignored)\n";
  // A damaged video is measured on the frames that decoded, and said so (it was scored as whole, exit 0, and
  // the frames it lacked blamed on the truth).
  for (const auto& w : report.warnings) std::cerr << "roadveil: warning: " << w << "\n";
  if (r.boxes_past_end > 0)
    std::cerr << fmt::format("roadveil: warning: {}: {} boxes of the ground truth are on frames from {} on (counted from 0), "
                             "which {} does not have ({} frames{}): not counted{}\n",
                             truth_path.string(), r.boxes_past_end, r.first_frame_past_end, video.string(), r.frames,
                             report.damaged ? " that decoded" : "", report.damaged ? "" : "; a truth of another clip?");
  if (r.boxes_outside > 0)
    std::cerr << fmt::format("roadveil: warning: {}: {} boxes of the ground truth lie wholly outside the {}x{} picture of {}: "
                             "not counted; a truth of a scaled or turned copy? (boxes are in the stored frame's pixels)\n",
                             truth_path.string(), r.boxes_outside, entry.info.width, entry.info.height, video.string());
  if (json_path != "-") std::cout << eval::format_video_table(r, video.string());
  std::optional<eval::Comparison> comparison;
  if (!compare_path.empty()) {
    try {
      comparison = eval::compare_video_runs(reference, eval::to_json(r));
    } catch (const Error& e) {
      throw Error(compare_path + " (--compare): " + e.what());
    } catch (const nlohmann::json::exception& e) {  // "frames": 10.5 in its per_object list
      throw Error(compare_path + " (--compare): a per-object entry is malformed (" + e.what() + ")");
    }
    if (json_path != "-") std::cout << "\n" << eval::format_comparison(*comparison, compare_path);
  }
  if (!json_path.empty()) {
    nlohmann::json j = eval::to_json(r);
    if (comparison) {
      j["compare"] = eval::to_json(*comparison);
      j["compare"]["reference"] = compare_path;
    }
    j["video"] = video.string();
    j["ground_truth"] = truth_path.string();
    j["hidden_fraction"] = config.hidden_fraction;
    if (report.damaged) j["damaged"] = true;
    write_json_report(j, json_path);
  }
  return report.damaged ? kExitPartialFailure : kExitOk;
}
}  // namespace

// The per-image counts of an earlier run's --json report, read before this run starts so that a wrong file
// fails at once.
static std::vector<eval::ImageCounts> read_reference_counts(const std::string& path, float hidden_fraction) {
  const nlohmann::json reference = read_compare_report(path, hidden_fraction);
  if (!reference.is_object() || !reference.contains("per_image"))
    throw Error(path + " (--compare) has no per-image counts: make it with `roadveil eval --json` on annotated images");
  std::vector<eval::ImageCounts> images;
  try {
    for (const auto& j : reference["per_image"]) images.push_back(eval::image_counts_from_json(j));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + " (--compare): a per-image entry is malformed (" + e.what() + ")");
  } catch (const Error& e) {
    throw Error(path + " (--compare): a per-image entry is malformed (" + e.what() + ")");
  }
  return images;
}

// Coverage is measured on the shapes the classes are rendered with (faces: ellipses unless --face-shape box;
// the classes of one's own models: as their manifests say).
static void set_shapes(eval::EvalConfig& config, const redact::ClassStyles& styles) {
  for (int c = 0; c < kMaxObjectClasses; ++c) config.ellipse[c] = styles[c].shape == redact::Shape::Ellipse;
}

// This run against those counts.
static eval::Comparison compare_with(const std::string& path, const std::vector<eval::ImageCounts>& reference,
                                     const eval::Report& report) {
  std::array<std::vector<std::string>, kMaxObjectClasses> buckets;
  for (int c = 0; c < object_class_count(); ++c)
    for (const auto& b : report.classes[c].buckets) buckets[c].push_back(b.name);
  try {
    return eval::compare_runs(reference, report.per_image, buckets);
  } catch (const Error& e) {
    throw Error(path + " (--compare): " + e.what());
  }
}

void add_eval_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("eval", "Measure how much of each annotated face and plate gets hidden");
  struct State {
    SharedOptions shared;
    std::string ground_truth, format, json_path, class_descriptions, detections_path, compare_path;
    std::vector<std::string> inputs, classes;
    float hidden_fraction = 0.9f;
    bool as_video_keyframe = false;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("--ground-truth", state->ground_truth,
                  "Annotations: a folder or file in any format of `roadveil dataset`; for one video, its per-frame "
                  "boxes with object ids (CVAT for video 1.1 XML, or MOT text: class 1 face, 2 plate)")->required();
  cmd->add_option("--format", state->format, "Annotation format (default: detected): " + dataset::format_choices());
  cmd->add_option("--class-descriptions", state->class_descriptions, "Open Images class descriptions CSV");
  cmd->add_option("inputs", state->inputs, "Images or folders of images (default: images/ beside the annotations), or one video");
  cmd->add_option("--json", state->json_path, "Also write the report as JSON to this file (- for stdout)");
  cmd->add_option("--class", state->classes,
                  "Also measure the ground truth of this class of your own (repeatable) when no --model names it: the "
                  "baseline of an eval --compare of a model that adds the class")
      ->allow_extra_args(false);
  cmd->add_option("--detections", state->detections_path, "With video ground truth: also keep the regions file of the run here");
  cmd->add_option("--compare", state->compare_path,
                  "The --json report of another eval run on the same annotated images or video (e.g. before --model): "
                  "print the difference per class and box width (video: object-frames hidden, objects never exposed, "
                  "frame area) with 95% intervals from a bootstrap over the images (video: objects and frames)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--hidden-fraction", state->hidden_fraction, "Share of a box's area that must be hidden to count")->check(CLI::Range(0.1, 1.0))->capture_default_str();
  cmd->add_flag("--as-video-keyframe", state->as_video_keyframe,
                "Detect each image as a video keyframe is (never enlarged, plates looked for on vehicles), not as a photo");
  state->shared.add_detection(*cmd);
  cmd->add_option("--face-shape", state->shared.face_shape, "Shape faces are rendered with: ellipse or box")->check(CLI::IsMember({"ellipse", "box"}))->capture_default_str();
  cmd->callback([state, &action] {
    action = [state] {
      namespace fs = std::filesystem;
      auto& s = *state;
      s.shared.finalize();
      {
        std::vector<std::string> read = s.inputs;
        read.insert(read.end(), {s.ground_truth, s.compare_path});
        refuse_report_over_inputs(s.json_path, read);
        refuse_report_over_inputs(s.detections_path, read, "--detections");
      }
      for (const std::string& name : s.classes) intern_object_class(name);
      const fs::path gt_path(s.ground_truth);
      if (s.inputs.size() == 1 && media::is_video_path(s.inputs[0]) && eval::is_video_truth_file(gt_path)) {
        eval::EvalConfig config;
        config.hidden_fraction = s.hidden_fraction;
        set_shapes(config, s.shared.anonymize.styles);
        return eval_video(s.inputs[0], gt_path, s.shared.anonymize, config, s.json_path, s.detections_path, s.compare_path);
      }
      std::vector<eval::ImageCounts> reference;
      if (!s.compare_path.empty()) reference = read_reference_counts(s.compare_path, s.hidden_fraction);
      dataset::ReadOptions read_options;
      read_options.class_descriptions = s.class_descriptions;
      std::vector<std::string> inputs = s.inputs;
      if (inputs.empty()) {
        const fs::path guess = (fs::is_directory(gt_path) ? gt_path : gt_path.parent_path()).parent_path() / "images";
        if (!fs::is_directory(guess)) throw Error("no images given and no images/ folder beside " + gt_path.string());
        inputs.push_back(guess.string());
      }
      if (inputs.size() == 1 && fs::is_directory(inputs[0])) read_options.images_dir = inputs[0];
      std::vector<dataset::AnnotatedImage> truth;
      if (!s.format.empty()) {
        const auto f = dataset::parse_format(s.format);
        if (!f) throw Error("unknown --format " + s.format + " (" + dataset::format_choices() + ")");
        truth = dataset::read_annotations(gt_path, *f, read_options);
      } else {
        truth = dataset::read_annotations(gt_path, read_options);
      }
      // Annotations name their image in many ways (relative paths, bare file names, ids without extension).
      // Images are found by file name or stem, and where several inputs have that name (sequence folders
      // that each hold frame_0001.jpg) by the most trailing folders in common with the annotation's path: by
      // name alone, the first of them was scored for all (a grey frame measured with another's hidden faces).
      std::unordered_map<std::string, std::vector<fs::path>> images;
      const auto index = [&](const fs::path& p) {
        images[p.filename().string()].push_back(p);
        if (p.stem() != p.filename()) images[p.stem().string()].push_back(p);
      };
      for (const auto& in : inputs) {
        if (fs::is_regular_file(in)) {
          index(fs::path(in));
          continue;
        }
        if (!fs::is_directory(in)) throw Error(unusable_input_message(in));
        for (const auto& e : fs::recursive_directory_iterator(in)) {
          if (!e.is_regular_file() || !media::is_image_path(e.path())) continue;
          index(e.path());
        }
      }
      // Folders, from the last, that two paths have in common (besides the file itself, matched by name or stem).
      const auto folders_in_common = [](const fs::path& a, const fs::path& b) {
        return pipeline::common_tail(a.parent_path(), b.parent_path());
      };
      const auto image_of = [&](const std::string& annotated) -> std::optional<fs::path> {
        const fs::path name(annotated);
        auto it = images.find(name.filename().string());
        if (it == images.end()) it = images.find(name.stem().string());
        if (it == images.end()) return std::nullopt;
        const std::vector<fs::path>& candidates = it->second;
        if (candidates.size() == 1) return candidates.front();
        std::size_t best = 0, ties = 0;
        const fs::path* chosen = nullptr;
        for (const fs::path& c : candidates) {
          const std::size_t n = folders_in_common(name, c);
          if (!chosen || n > best) {
            best = n, ties = 1, chosen = &c;
          } else if (n == best) {
            ++ties;
          }
        }
        if (ties > 1)
          throw Error(s.ground_truth + ": the annotated image " + annotated + " could be any of " +
                      std::to_string(candidates.size()) + " inputs of that name (" + candidates[0].string() + ", " +
                      candidates[1].string() + (candidates.size() > 2 ? ", ..." : "") +
                      "): give the images folder whose layout the annotations name, or one input per name");
        return *chosen;
      };
      pipeline::Anonymizer anonymizer(s.shared.anonymize);
      std::vector<eval::ImageEval> evals;
      int missing = 0, unknown_labels = 0;
      std::vector<std::string> unreadable;  // images that did not decode: left out, named, and the exit says so
      for (const auto& a : truth) {
        const std::optional<fs::path> found = image_of(a.image);
        if (!found) {
          ++missing;
          spdlog::warn("{}: image not found among the inputs", a.image);
          continue;
        }
        const fs::path& image_path = *found;
        media::FramePtr frame;
        try {
          frame = media::decode_image(image_path);
        } catch (const Error& e) {
          std::cerr << "roadveil: warning: " << e.what() << " (left out of the figures)\n";
          unreadable.push_back(image_path.string());
          continue;
        }
        eval::ImageEval ie;
        ie.name = a.image;
        ie.width = frame->width;
        ie.height = frame->height;
        const float sx = a.normalized ? static_cast<float>(frame->width) : 1.0f;
        const float sy = a.normalized ? static_cast<float>(frame->height) : 1.0f;
        for (const auto& b : a.boxes) {
          const auto cls = eval::class_for_label(b.label);
          if (!cls) {
            ++unknown_labels;
            continue;
          }
          ie.truth.push_back({*cls, Box{b.box.x1 * sx, b.box.y1 * sy, b.box.x2 * sx, b.box.y2 * sy}});
        }
        const auto start = std::chrono::steady_clock::now();
        auto result = anonymizer.analyze_picture(
            *frame, s.as_video_keyframe ? detect::WholeFramePass::video_keyframe() : detect::WholeFramePass::photo());
        ie.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ie.regions = std::move(result.regions);
        ie.detections = std::move(result.detections);
        // Classes the user switched off are not measured.
        std::erase_if(ie.truth, [&](const eval::GroundTruth& g) {
          return (g.cls == ObjectClass::Face && !s.shared.anonymize.detector.faces) ||
                 (g.cls == ObjectClass::Plate && !s.shared.anonymize.detector.plates);
        });
        evals.push_back(std::move(ie));
      }
      if (evals.empty()) throw Error(s.ground_truth + ": no annotated image was found among the inputs");
      eval::EvalConfig config;
      config.hidden_fraction = s.hidden_fraction;
      set_shapes(config, s.shared.anonymize.styles);
      const eval::Report report = eval::evaluate(evals, config);
      if (missing) std::cerr << "roadveil: warning: " << missing << " annotated images were not found among the inputs\n";
      if (unknown_labels) std::cerr << "roadveil: warning: " << unknown_labels << " boxes had a class that is neither face nor plate nor a class of a --model (ignored)\n";
      if (!unreadable.empty())
        std::cerr << "roadveil: warning: " << unreadable.size() << " annotated images could not be read (named above); the figures are for the other "
                  << evals.size() << "\n";
      if (s.json_path != "-") std::cout << eval::format_table(report, s.ground_truth);
      std::optional<eval::Comparison> comparison;
      if (!s.compare_path.empty()) comparison = compare_with(s.compare_path, reference, report);
      if (comparison && s.json_path != "-") std::cout << "\n" << eval::format_comparison(*comparison, s.compare_path);
      if (!s.json_path.empty()) {
        nlohmann::json j = eval::to_json(report);
        if (comparison) {
          j["compare"] = eval::to_json(*comparison);
          j["compare"]["reference"] = s.compare_path;
        }
        j["ground_truth"] = s.ground_truth;
        j["hidden_fraction"] = s.hidden_fraction;
        j["unreadable_images"] = unreadable;
        write_json_report(j, s.json_path);
      }
      // A partial report: every image that could be measured was, and the exit says that some could not.
      return unreadable.empty() ? kExitOk : kExitPartialFailure;
    };
  });
}

void add_flicker_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "flicker", "Count single-frame flicker (regions in one frame only, one-frame holes) in a detections file");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("files", *files, "Detections files written by anonymize --detections")->required();
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([files, json, &action] {
    action = [files, json] {
      // Every file is read before anything is printed: a bad file gives its error alone.
      std::vector<pipeline::RegionsFile> read;
      for (const auto& path : *files) read.push_back(pipeline::RegionsFile::read(path));
      nlohmann::json out = nlohmann::json::array();
      if (!*json) std::cout << "frames  blips  holes  per 1000 frames  largest carried region  video\n";
      for (const auto& file : read) {
        for (const auto& entry : file.entries()) {
          if (!entry.info.video) continue;
          const std::int64_t frames = entry.frames_spanned();
          const auto c = eval::count_flicker(entry.frames, frames);
          const auto g = eval::largest_carried_region(entry.frames);
          if (*json)
            out.push_back({{"input", entry.info.input.string()}, {"frames", c.frames}, {"blips", c.blips},
                           {"holes", c.holes}, {"per_1000_frames", c.per_1000_frames()},
                           {"largest_carried_region", {{"ratio", g.ratio}, {"frame", g.frame}, {"track", g.track}}}});
          else
            std::cout << fmt::format("{:6}  {:5}  {:5}  {:15.1f}  {:>22}  {}\n", c.frames, c.blips, c.holes,
                                     c.per_1000_frames(),
                                     g.frame < 0 ? std::string("-") : fmt::format("{:.2f}x (frame {})", g.ratio, g.frame),
                                     entry.info.input.string());
        }
      }
      if (*json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    };
  });
}

void add_compare_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "compare", "How much of what a reference detections file hides a candidate file hides too, frame by frame "
                 "(e.g. full detection on every frame vs the default schedule); every input of the candidate must be in the reference");
  struct State {
    std::string reference, candidate, face_shape = "ellipse";
    float hidden_fraction = 0.9f;
    bool json = false;
  };
  auto s = std::make_shared<State>();
  cmd->add_option("reference", s->reference, "Detections file of the reference run (best: --keyframes 0 --no-tracking --padding 0)")->required();
  cmd->add_option("candidate", s->candidate, "Detections file of the run to check")->required();
  cmd->add_option("--hidden-fraction", s->hidden_fraction, "Share of a reference box that must be covered")->check(CLI::Range(0.01, 1.0))->capture_default_str();
  cmd->add_option("--face-shape", s->face_shape, "Shape the candidate's faces were hidden with")->check(CLI::IsMember({"ellipse", "box"}))->capture_default_str();
  cmd->add_flag("--json", s->json, "Print JSON instead of a table");
  cmd->callback([s, &action] {
    action = [s] {
      const auto reference = pipeline::RegionsFile::read(s->reference);
      const auto candidate = pipeline::RegionsFile::read(s->candidate);
      eval::EvalConfig config;
      config.hidden_fraction = s->hidden_fraction;
      config.ellipse[static_cast<int>(ObjectClass::Face)] = s->face_shape == "ellipse";
      {  // classes of one's own models: measured on the shapes their run drew
        redact::ClassStyles styles;
        pipeline::apply_recorded_class_styles(candidate.class_styles(), styles);
        for (int c = kBuiltinObjectClasses; c < kMaxObjectClasses; ++c) config.ellipse[c] = styles[c].shape == redact::Shape::Ellipse;
      }
      nlohmann::json out = nlohmann::json::array();
      eval::Agreement total;
      auto row = [&](const eval::Agreement& a, const std::string& name) {
        const auto &f = a.classes[0], &p = a.classes[1];
        // Classes of one's own models, where the reference has any.
        nlohmann::json own = nlohmann::json::object();
        std::string own_text;
        for (int c = kBuiltinObjectClasses; c < object_class_count(); ++c) {
          if (a.classes[c].reference == 0) continue;
          const std::string cls(to_string(static_cast<ObjectClass>(c)));
          own[cls] = {{"reference", a.classes[c].reference}, {"hidden", a.classes[c].hidden}};
          own_text += fmt::format("  {} {}/{} {:.3f}", cls, a.classes[c].hidden, a.classes[c].reference, a.classes[c].share());
        }
        if (s->json) {
          out.push_back({{"input", name}, {"frames", a.frames}, {"faces", f.reference}, {"faces_hidden", f.hidden},
                         {"plates", p.reference}, {"plates_hidden", p.hidden}, {"other_classes", own},
                         {"frames_with_miss", a.frames_with_miss}, {"longest_miss_run", a.longest_miss_run}});
        } else {
          std::cout << fmt::format("{:6}  {:>15}  {:>15}  {:16}  {:16}  {}{}\n", a.frames,
                                   fmt::format("{}/{} {:.3f}", f.hidden, f.reference, f.share()),
                                   fmt::format("{}/{} {:.3f}", p.hidden, p.reference, p.share()), a.frames_with_miss,
                                   a.longest_miss_run, name, own_text);
        }
      };
      std::vector<std::pair<eval::Agreement, std::string>> rows;
      for (const auto& other_entry : candidate.entries()) {
        // By path, else by file name; never "the only entry", which would compare two different videos.
        const pipeline::RegionsEntry* found = nullptr;
        for (const auto& e : reference.entries())
          if (e.info.input == other_entry.info.input ||
              (!found && e.info.input.filename() == other_entry.info.input.filename()))
            found = &e;
        if (!found) throw Error(s->reference + ": has no entry for " + other_entry.info.input.string());
        const pipeline::RegionsEntry& entry = *found;
        const std::int64_t frames = entry.info.video ? std::max(entry.frames_spanned(), other_entry.frames_spanned()) : 1;
        rows.emplace_back(eval::compare_regions(entry.frames, other_entry.frames, frames, config), entry.info.input.string());
        total.add(rows.back().first);
      }
      if (!s->json) std::cout << "frames  faces hidden     plates hidden    frames with miss  longest miss run  input\n";
      for (const auto& [a, name] : rows) row(a, name);
      if (rows.size() > 1) row(total, "(all)");
      if (s->json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    };
  });
}

}  // namespace roadveil::cli
