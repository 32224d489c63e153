#include "dataset/convert.hpp"

#include "dataset/detail.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "dataset/text.hpp"

namespace roadveil::dataset {
namespace fs = std::filesystem;

std::pair<std::string, std::string> parse_rename(const std::string& spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string::npos) throw Error("--rename \"" + spec + "\": expected old=new");
  std::string from(text::trim(std::string_view(spec).substr(0, eq)));
  std::string to(text::trim(std::string_view(spec).substr(eq + 1)));
  if (from.empty() || to.empty()) throw Error("--rename \"" + spec + "\": expected old=new with both names given");
  return {std::move(from), std::move(to)};
}

std::vector<std::string> parse_class_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string_view name = text::trim(std::string_view(list).substr(start, comma - start));
    if (!name.empty()) out.emplace_back(name);
    start = comma + 1;
  }
  return out;
}

bool in_training_split(std::string_view image, double fraction, std::uint64_t seed) {
  const std::uint64_t h = text::hash64(image, seed * 0x9E3779B97F4A7C15ULL + 1);
  // The top 53 bits as a uniform double in [0, 1).
  const double u = static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
  return u < fraction;
}

fs::path default_val_output(const fs::path& output) {
  fs::path p = output;
  if (p.filename().empty()) p = p.parent_path();
  const std::string stem = p.stem().string(), ext = p.extension().string();
  return p.parent_path() / (stem + "-val" + ext);
}

namespace {

// Output class names in order: the selected classes (renamed), so that --classes fixes the numbering.
std::vector<std::string> output_class_order(const ConvertOptions& o) {
  std::vector<std::string> order;
  std::vector<std::pair<std::string, std::string>> descriptions;
  // Without --classes, a YOLO input's classes file and a COCO input's categories (in id order) give the
  // numbering: it is the one its data.yaml and any model trained on it use (numbered as they first appeared,
  // YOLO -> YOLO gave class 2 the number 0, and a COCO category without boxes was left out).
  const std::vector<std::string> given = !o.read.classes.empty() ? o.read.classes
                                         : o.from == Format::yolo ? detail::yolo_declared_classes(o.input, o.read)
                                         : o.from == Format::coco ? detail::coco_declared_classes(o.input)
                                                                  : o.read.classes;
  for (std::size_t i = 0; i < given.size(); ++i) {
    std::string name = given[i].empty() ? std::to_string(i) : given[i];
    if (o.from == Format::openimages && name.rfind("/m/", 0) == 0 && !o.read.class_descriptions.empty()) {
      if (descriptions.empty()) descriptions = read_class_descriptions(o.read.class_descriptions);
      for (const auto& [id, display] : descriptions) {
        if (id == name) name = display;
      }
    }
    for (const auto& [from, to] : o.rename) {
      if (name == from) name = to;
    }
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  return order;
}

}  // namespace

ConvertResult convert(ConvertOptions o, Report& report) {
  if (!can_write(o.to)) {
    throw Error(std::string(format_name(o.to)) + " can be read but not written; write one of gt-manifest, voc, "
                "yolo, coco, openalpr");
  }
  if (o.split && !(*o.split > 0 && *o.split < 1)) {
    throw Error("--split must be a fraction between 0 and 1 (the share of images for training), e.g. 0.9");
  }
  if (o.min_size < 0) throw Error("--min-size must not be negative");
  if (o.output.empty()) throw Error("no output given (-o)");
  if (o.tiles && !o.write_tiles) throw Error("--tiles needs somewhere to write the tile images");
  if (o.tiles_only && !o.tiles) throw Error("--tiles-only needs --tiles");
  std::error_code ec;
  if (fs::exists(o.output, ec) && fs::exists(o.input, ec) && fs::equivalent(o.output, o.input, ec)) {
    throw Error(o.output.string() + ": the output would overwrite the input");
  }
  if (o.from == Format::openimages && !writes_normalized(o.to) && o.read.images_dir.empty()) {
    throw Error("converting Open Images to " + std::string(format_name(o.to)) +
                " needs --images DIR: the CSV boxes are relative to the image size, which is read from the image "
                "files");
  }
  ConvertResult result;
  result.output = o.output;
  if (o.split) {
    result.val_output = o.val_output.empty() ? default_val_output(o.output) : o.val_output;
    if (result.val_output == result.output) throw Error("the training and validation outputs are the same path");
    // The validation share is an output too (x.json's default is x-val.json, which may be the input).
    if (fs::exists(result.val_output, ec) && fs::exists(o.input, ec) && fs::equivalent(result.val_output, o.input, ec))
      throw Error(result.val_output.string() + ": the validation output would overwrite the input");
  }

  o.read.report = &report;
  o.write.report = &report;
  // YOLO labels without a classes file are known by number only: each keeps its number.
  o.write.classes = std::make_shared<ClassIndex>(output_class_order(o), o.from == Format::yolo && o.read.classes.empty());
  const auto train = make_writer(o.to, result.output, o.write);
  const auto val = o.split ? make_writer(o.to, result.val_output, o.write) : nullptr;

  std::vector<std::size_t> per_class;
  AnnotatedImage work;
  for_each_image(o.input, o.from, o.read, [&](const AnnotatedImage& image) {
    work = image;  // copy-assignment reuses the buffers of the previous image
    if (o.min_size > 0 && work.normalized) {
      report.problem(Problem::unknown_size, o.input, 0,
                     "image " + work.image + ": --min-size needs the image size, which is unknown (give --images)");
      return;
    }
    const bool had_boxes = !work.boxes.empty();
    std::erase_if(work.boxes, [&](const LabeledBox& b) {
      if (o.drop_group_of && b.is_group_of) {
        report.dropped(Drop::group_of);
        return true;
      }
      if (o.drop_depiction && b.is_depiction) {
        report.dropped(Drop::depiction);
        return true;
      }
      if (o.min_size > 0 && (b.box.width() < o.min_size || b.box.height() < o.min_size)) {
        report.dropped(Drop::too_small);
        return true;
      }
      return false;
    });
    // Keeping it would teach a detector that the dropped plate or face is background.
    if (had_boxes && work.boxes.empty()) {
      report.dropped(Drop::empty_image);
      return;
    }
    for (LabeledBox& b : work.boxes) {
      for (const auto& [from, to] : o.rename) {
        if (b.label == from) {
          b.label = to;
          break;
        }
      }
    }
    const bool to_train = !o.split || in_training_split(work.image, *o.split, o.seed);
    Writer& writer = to_train ? *train : *val;
    auto write = [&](const AnnotatedImage& image) {
      if (!writer.write(image)) return false;
      ++(to_train ? result.train_images : result.val_images);
      ++result.images;
      result.boxes += image.boxes.size();
      for (const LabeledBox& b : image.boxes) {
        const auto id = static_cast<std::size_t>(o.write.classes->id(b.label));
        if (per_class.size() <= id) per_class.resize(id + 1, 0);
        ++per_class[id];
      }
      return true;
    };
    if (!o.tiles_only) write(work);
    if (!o.tiles) return;
    if (work.normalized) {
      report.problem(Problem::unknown_size, o.input, 0, "image " + work.image + ": --tiles needs the image size (give --images)");
      return;
    }
    const std::vector<Tile> tiles = plan_tiles(work, *o.tiles);
    if (tiles.empty()) return;
    const std::vector<std::string> names = o.write_tiles(work, tiles);
    for (std::size_t k = 0; k < tiles.size() && k < names.size(); ++k) {
      if (names[k].empty()) continue;
      AnnotatedImage tile;
      tile.image = names[k];
      tile.width = tiles[k].rect.w;
      tile.height = tiles[k].rect.h;
      tile.depth = work.depth;
      tile.boxes = tiles[k].boxes;
      result.tiles += write(tile);
    }
  });
  // An empty output would look like success: fail before anything is moved into place.
  if (result.images == 0) {
    throw Error(report.problem_total() > 0
                    ? "nothing written: no image was usable (" + report.problem_summary() + ")"
                    : "nothing written: the input has no images" +
                          std::string(o.read.classes.empty() ? "" : " with the selected classes"));
  }
  train->finish();
  if (val) val->finish();
  const auto& names = o.write.classes->names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    result.boxes_per_class.emplace_back(names[i], i < per_class.size() ? per_class[i] : 0);
  }
  return result;
}

}  // namespace roadveil::dataset
