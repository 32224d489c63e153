// `roadveil dataset convert` and `roadveil dataset stats`.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "dataset/convert.hpp"
#include "dataset/detail.hpp"  // StagedFolder: tile images staged as the annotations are
#include "dataset/stats.hpp"
#include "media/ffmpeg_util.hpp"
#include "media/image_file.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace roadveil::cli {
namespace {

constexpr std::size_t kShownWarnings = 20;

const std::vector<std::string> kReadable = {"openimages", "oid-txt", "gt-manifest", "voc", "yolo", "coco", "openalpr", "cvat"};
const std::vector<std::string> kWritable = {"gt-manifest", "voc", "yolo", "coco", "openalpr"};

// The format named on the command line (validated by CLI11 already), or the one detected from the input.
dataset::Format input_format(const std::string& value, const std::string& path, const char* option) {
  if (!value.empty()) return *dataset::parse_format(value);
  const auto detected = dataset::detect_format(path);
  if (!detected) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file or folder");
    throw Error(path + ": cannot tell the annotation format; give " + option + " (" + dataset::format_choices() + ")");
  }
  return *detected;
}

// Lenient runs print the first problems as they happen, then only count them.
void log_problems(dataset::Report& report) {
  report.set_log([n = std::size_t{0}](const std::string& message) mutable {
    ++n;
    if (n <= kShownWarnings) std::cerr << "roadveil: warning: " << message << "\n";
    if (n == kShownWarnings + 1) std::cerr << "roadveil: warning: more problems follow; only counted from here on\n";
  });
}

void print_problem_summary(const dataset::Report& report) {
  if (const std::string d = report.drop_summary(); !d.empty()) std::cout << "left out: " << d << "\n";
  if (const std::string p = report.problem_summary(); !p.empty()) {
    std::cout << "skipped bad input: " << p << " (--strict stops at the first)\n";
  }
}

// Options both subcommands read with.
struct InputOptions {
  std::string images, class_descriptions, classes_file, classes, label_attribute, image_uri_prefix;
  bool strict = false;

  void add(CLI::App& cmd) {
    cmd.add_option("--images", images,
                   "Folder of the images: sizes from their headers (needed for Open Images and YOLO to pixels), "
                   "and a check that each annotated image is there");
    cmd.add_option("--class-descriptions", class_descriptions,
                   "Open Images class descriptions CSV (/m/... id -> name), e.g. class-descriptions-boxable.csv");
    cmd.add_option("--classes-file", classes_file, "YOLO classes file (default: classes.txt or obj.names beside the labels)");
    cmd.add_option("--classes", classes,
                   "Keep only these classes, comma-separated, as the input names them (Open Images: display names "
                   "or /m/ ids); they also fix the output class numbering");
    cmd.add_option("--label-attribute", label_attribute,
                   "Ground Truth manifest label attribute (reading: default detected; writing: default bounding-box)");
    cmd.add_flag("--strict", strict, "Fail at the first bad row, box or image instead of skipping and counting it");
  }

  dataset::ReadOptions read_options() const {
    dataset::ReadOptions r;
    r.images_dir = images;
    r.class_descriptions = class_descriptions;
    r.classes_file = classes_file;
    r.classes = dataset::parse_class_list(classes);
    r.label_attribute = label_attribute;
    r.image_uri_prefix = image_uri_prefix;
    return r;
  }
};

// Writes the tiles of one image into `folder` (the image's sub-folders kept), each a crop of the source at full
// resolution in the source's format: "<stem>_x<X>_y<Y><ext>". Returns their names relative to `folder`, as
// the annotations give them; a tile of a source that cannot be read gets an empty name and a report, and a tile
// that cannot be written stops the conversion (Error).
std::vector<std::string> write_tile_images(const dataset::AnnotatedImage& source, const std::vector<dataset::Tile>& tiles,
                                           const std::filesystem::path& images, const std::filesystem::path& folder,
                                           dataset::Report& report) {
  namespace fs = std::filesystem;
  std::vector<std::string> names(tiles.size());
  const fs::path file = dataset::image_file(source, images);
  if (file.empty()) {
    report.problem(dataset::Problem::missing_image, images, 0, "image " + source.image + " is not in " + images.string() + ": no tiles");
    return names;
  }
  media::FramePtr picture;
  try {
    picture = media::decode_image(file);
  } catch (const Error& e) {
    report.problem(dataset::Problem::missing_image, file, 0, std::string(e.what()) + ": no tiles");
    return names;
  }
  if (picture->width != source.width || picture->height != source.height) {
    report.problem(dataset::Problem::malformed, file, 0,
                   "image " + source.image + " is " + std::to_string(picture->width) + "x" + std::to_string(picture->height) +
                       " but annotated as " + std::to_string(source.width) + "x" + std::to_string(source.height) + ": no tiles");
    return names;
  }
  // The image's sub-folders, inside `folder` only: an absolute name or one with ".." keeps just the file name.
  fs::path rel = fs::path(source.image).parent_path().lexically_normal();
  if (rel.is_absolute() || (!rel.empty() && *rel.begin() == "..") || rel == ".") rel.clear();
  for (std::size_t k = 0; k < tiles.size(); ++k) {
    const PixelRect& r = tiles[k].rect;
    const std::string name = (rel / (file.stem().string() + "_x" + std::to_string(r.x) + "_y" + std::to_string(r.y) +
                                     file.extension().string())).generic_string();
    media::FramePtr crop = media::make_frame();
    if (av_frame_ref(crop.get(), picture.get()) < 0) throw Error("out of memory for a tile of " + file.string());
    crop->crop_left = static_cast<size_t>(r.x);
    crop->crop_top = static_cast<size_t>(r.y);
    crop->crop_right = static_cast<size_t>(picture->width - r.x - r.w);
    crop->crop_bottom = static_cast<size_t>(picture->height - r.y - r.h);
    try {
      if (av_frame_apply_cropping(crop.get(), AV_FRAME_CROP_UNALIGNED) < 0) throw Error("cannot crop " + file.string());
      fs::create_directories((folder / name).parent_path());
      media::encode_image(*crop, folder / name, {});
      names[k] = name;
    } catch (const std::exception& e) {
      // Writing the output failed (an unwritable folder, a full disk): not a problem of the input, so the
      // conversion stops, its annotation outputs left unwritten.
      throw Error((folder / name).string() + ": cannot write this tile (" + e.what() + ")");
    }
  }
  return names;
}

void add_convert(CLI::App& dataset_cmd, Action& action) {
  auto* cmd = dataset_cmd.add_subcommand("convert", "Convert annotations between formats (also: dataset export)");
  cmd->alias("export");  // the name a team exporting a training set looks for
  struct State {
    InputOptions in;
    std::string from, to, annotations, output, val_output, job_name = "labeling-job/roadveil", creation_date;
    std::vector<std::string> rename;
    bool drop_group_of = false, drop_depiction = false;
    float min_size = 0;
    double split = 0;
    std::uint64_t seed = 0;
    int tiles = 0;
    float tile_small = 32;
    std::string tile_images;
    bool tiles_only = false;
  };
  auto s = std::make_shared<State>();
  cmd->add_option("--annotations", s->annotations, "Input annotations: a file or folder")->required();
  cmd->add_option("--tiles", s->tiles,
                  "Also write crops of this many pixels square around each object narrower than --tile-small, at full "
                  "resolution, as images of their own (in the split of their source image), for training on small objects")
      ->check(CLI::Range(64, 8192));
  cmd->add_option("--tile-small", s->tile_small, "Objects narrower than this many pixels get a tile")->check(CLI::Range(1.0f, 10000.0f))->capture_default_str();
  cmd->add_option("--tile-images", s->tile_images, "Folder the tile images are written to (needs --images to read the sources)");
  cmd->add_flag("--tiles-only", s->tiles_only, "Write only the tiles, not the whole images");
  cmd->add_option("--from", s->from, "Input format (default: detected)")->check(CLI::IsMember(kReadable));
  cmd->add_option("--to", s->to, "Output format")->required()->check(CLI::IsMember(kWritable));
  cmd->add_option("-o,--output", s->output, "Output file (gt-manifest, coco) or folder (voc, yolo, openalpr)")->required();
  s->in.add(*cmd);
  cmd->add_option("--image-uri-prefix", s->in.image_uri_prefix,
                  "gt-manifest: S3 location of the images, source-ref = prefix + image path (e.g. s3://bucket/images/); "
                  "reading a manifest: removed from source-ref");
  cmd->add_option("--rename", s->rename, "Rename a class, old=new (repeatable; several old names may share a new one)")
      ->allow_extra_args(false);
  cmd->add_flag("--drop-group-of", s->drop_group_of, "Leave out boxes marked IsGroupOf (Open Images) or iscrowd (COCO)");
  cmd->add_flag("--drop-depiction", s->drop_depiction, "Leave out boxes marked IsDepiction (Open Images)");
  cmd->add_option("--min-size", s->min_size, "Leave out boxes narrower or shorter than this many pixels")->check(CLI::Range(0.0f, 100000.0f));
  auto* split = cmd->add_option("--split", s->split, "Fraction of the images for training, e.g. 0.9; the rest goes to the validation output")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", s->seed, "Seed of the train/validation split (same seed, same split)")->capture_default_str();
  cmd->add_option("--val-output", s->val_output, "Validation output of --split (default: the output name + -val)");
  cmd->add_option("--job-name", s->job_name, "gt-manifest: metadata job-name")->capture_default_str();
  cmd->add_option("--creation-date", s->creation_date, "gt-manifest: metadata creation-date, YYYY-MM-DDTHH:MM:SS (default: now, UTC)");
  cmd->callback([s, split, &action] {
    const bool splitting = split->count() > 0;
    action = [s, splitting] {
      dataset::ConvertOptions o;
      o.input = s->annotations;
      o.from = input_format(s->from, s->annotations, "--from");
      o.to = *dataset::parse_format(s->to);
      o.output = s->output;
      o.val_output = s->val_output;
      o.read = s->in.read_options();
      o.write.image_uri_prefix = s->in.image_uri_prefix;
      if (!s->in.label_attribute.empty()) o.write.label_attribute = s->in.label_attribute;
      o.write.job_name = s->job_name;
      o.write.creation_date = s->creation_date;
      for (const std::string& r : s->rename) o.rename.push_back(dataset::parse_rename(r));
      o.drop_group_of = s->drop_group_of;
      o.drop_depiction = s->drop_depiction;
      o.min_size = s->min_size;
      if (splitting) o.split = s->split;
      o.seed = s->seed;

      dataset::Report report(s->in.strict);
      log_problems(report);
      std::unique_ptr<dataset::detail::StagedFolder> tile_folder;
      if (s->tiles > 0) {
        if (s->in.images.empty()) throw Error("--tiles crops the images: give --images DIR");
        if (s->tile_images.empty()) throw Error("--tiles: give --tile-images DIR, where the crops are written");
        if (s->tile_small >= static_cast<float>(s->tiles))
          throw Error("--tile-small " + fmt::format("{:g}", s->tile_small) + " must be below the tile size --tiles " +
                      std::to_string(s->tiles) + ": a tile holds its object whole");
        o.tiles = dataset::TileOptions{.size = s->tiles, .small_below = s->tile_small, .seed = s->seed};
        o.tiles_only = s->tiles_only;
        // Staged as the annotations are: a run that fails leaves no tile behind (they were written straight
        // into the folder, and mixed into the next run's).
        tile_folder = std::make_unique<dataset::detail::StagedFolder>(s->tile_images, ".tiles.partial.tmp");
        o.write_tiles = [images = std::filesystem::path(s->in.images), folder = tile_folder->stage_dir(),
                         &report](const dataset::AnnotatedImage& source, const std::vector<dataset::Tile>& tiles) {
          return write_tile_images(source, tiles, images, folder, report);
        };
      } else if (s->tiles_only || !s->tile_images.empty()) {
        throw Error("--tiles-only and --tile-images need --tiles SIZE");
      }
      const dataset::ConvertResult r = dataset::convert(o, report);
      if (tile_folder) tile_folder->commit();

      std::cout << "wrote " << r.images << " images" << (o.tiles ? " (" + std::to_string(r.tiles) + " of them tiles in " + s->tile_images + ")" : "")
                << ", " << r.boxes << " boxes (" << dataset::format_name(o.to) << ")";
      if (o.split) {
        std::cout << "\n  training:   " << r.train_images << " images -> " << r.output.string()
                  << "\n  validation: " << r.val_images << " images -> " << r.val_output.string() << "\n";
      } else {
        std::cout << " -> " << r.output.string() << "\n";
      }
      for (const auto& [name, count] : r.boxes_per_class) std::cout << "  " << name << ": " << count << " boxes\n";
      print_problem_summary(report);
      return kExitOk;
    };
  });
}

void add_stats(CLI::App& dataset_cmd, Action& action) {
  auto* cmd = dataset_cmd.add_subcommand("stats", "Count images and boxes per class, with box-size histograms");
  struct State {
    InputOptions in;
    std::string path, format;
    bool json = false;
  };
  auto s = std::make_shared<State>();
  cmd->add_option("annotations", s->path, "Annotations: a file or folder")->required();
  cmd->add_option("--format", s->format, "Input format (default: detected)")->check(CLI::IsMember(kReadable));
  s->in.add(*cmd);
  cmd->add_option("--image-uri-prefix", s->in.image_uri_prefix, "Manifest: removed from source-ref to name the images");
  cmd->add_flag("--json", s->json, "Print the statistics as JSON");
  cmd->callback([s, &action] {
    action = [s] {
      const dataset::Format format = input_format(s->format, s->path, "--format");
      dataset::Report report(s->in.strict);
      log_problems(report);
      dataset::ReadOptions r = s->in.read_options();
      r.report = &report;
      const dataset::DatasetStats stats = dataset::compute_stats(s->path, format, r);
      if (stats.images == 0 && report.problem_total() > 0) {
        throw Error(s->path + ": no usable image (" + report.problem_summary() + ")");
      }
      std::cout << (s->json ? dataset::stats_json(stats) : dataset::stats_text(stats));
      if (!s->json) print_problem_summary(report);
      return kExitOk;
    };
  });
}

}  // namespace

void add_dataset_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("dataset", "Convert annotation formats (Open Images, SageMaker Ground Truth manifest, "
                                            "Pascal VOC, YOLO, COCO, OpenALPR) and count what they hold");
  cmd->require_subcommand(1);
  add_convert(*cmd, action);
  add_stats(*cmd, action);
}

}  // namespace roadveil::cli
