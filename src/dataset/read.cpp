#include "dataset/read.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "dataset/detail.hpp"
#include "dataset/image_size.hpp"
#include "dataset/text.hpp"

namespace roadveil::dataset {
namespace detail {

void problem(const ReadOptions& options, Problem kind, const fs::path& file, std::size_t line, std::string_view what) {
  if (!options.report) throw Error(location(file, line) + ": " + std::string(what));
  options.report->problem(kind, file, line, what);
}

void problem(const WriteOptions& options, Problem kind, const fs::path& file, std::size_t line,
             std::string_view what) {
  if (!options.report) throw Error(location(file, line) + ": " + std::string(what));
  options.report->problem(kind, file, line, what);
}

bool check_utf8(std::string_view s, const char* what, const ReadOptions& options, const fs::path& file,
                std::size_t line) {
  if (text::is_valid_utf8(s)) return true;
  problem(options, Problem::bad_encoding, file, line, std::string(what) + " is not valid UTF-8");
  return false;
}

bool check_box(LabeledBox& box, const AnnotatedImage& image, const ReadOptions& options, const fs::path& file,
               std::size_t line) {
  if (!check_utf8(box.label, "the class name", options, file, line)) return false;
  if (!check_utf8(box.text, "the plate text", options, file, line)) return false;
  Box& b = box.box;
  auto describe = [&] {
    return "box (" + text::number(b.x1) + ", " + text::number(b.y1) + ") - (" + text::number(b.x2) + ", " +
           text::number(b.y2) + ")";
  };
  if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2)) {
    problem(options, Problem::bad_box, file, line, "box coordinates are not finite numbers");
    return false;
  }
  if (b.x1 > b.x2 || b.y1 > b.y2) {
    problem(options, Problem::bad_box, file, line, describe() + ": xmin > xmax or ymin > ymax");
    return false;
  }
  if (!(b.x2 > b.x1 && b.y2 > b.y1)) {
    problem(options, Problem::bad_box, file, line, describe() + " is empty");
    return false;
  }
  float w = 0, h = 0, tol = 0;
  if (image.normalized) {
    w = h = 1.0f;
    tol = kUnitTolerance;
  } else if (image.width > 0 && image.height > 0) {
    w = static_cast<float>(image.width);
    h = static_cast<float>(image.height);
    tol = kPixelTolerance;
  } else {
    if (b.x1 < -kPixelTolerance || b.y1 < -kPixelTolerance) {
      problem(options, Problem::bad_box, file, line, describe() + " has negative coordinates");
      return false;
    }
    b.x1 = std::max(b.x1, 0.0f);
    b.y1 = std::max(b.y1, 0.0f);
    return true;
  }
  if (b.x1 < -tol || b.y1 < -tol || b.x2 > w + tol || b.y2 > h + tol) {
    problem(options, Problem::bad_box, file, line,
            describe() + " is outside the " + (image.normalized ? std::string("0..1 range")
                                                                : "image (" + std::to_string(image.width) + "x" +
                                                                      std::to_string(image.height) + ")"));
    return false;
  }
  b = clamp_to(b, w, h);
  if (b.empty()) {
    problem(options, Problem::bad_box, file, line, describe() + " is empty once clamped to the image");
    return false;
  }
  return true;
}

fs::path find_image_file(AnnotatedImage& image, const fs::path& images_dir) {
  std::error_code ec;
  fs::path p = images_dir / image.image;
  if (fs::is_regular_file(p, ec)) return p;
  const fs::path rel(image.image);
  p = find_image(images_dir / rel.parent_path(), rel.stem().string());
  if (!p.empty()) image.image = (rel.parent_path() / p.filename()).generic_string();
  return p;
}

bool size_or_header(AnnotatedImage& image, const ReadOptions& options, const fs::path& file, std::size_t line) {
  if (image.width > 0 && image.height > 0) {
    if (!check_image_present(image, options, file, line)) return false;
    // The image --images finds is not the one annotated where their sizes differ (a VOC <size> of 800x602 for a
    // 400x301 file put every box, converted to YOLO, at half its place): left out and counted, not guessed.
    if (options.images_dir.empty()) return true;
    const fs::path p = find_image_file(image, options.images_dir);
    const auto size = p.empty() ? std::nullopt : read_image_size(p);
    // Swapped sides are a photo turned by its EXIF orientation, which annotation tools show (and size) upright.
    const bool same = size && ((size->width == image.width && size->height == image.height) ||
                               (size->width == image.height && size->height == image.width));
    if (size && !same) {
      problem(options, Problem::size_mismatch, file, line,
              "says image " + image.image + " is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                  ", but " + p.string() + " is " + std::to_string(size->width) + "x" + std::to_string(size->height) +
                  ": its boxes would land at the wrong scale, so it is not used");
      return false;
    }
    return true;
  }
  image.width = image.height = 0;
  return options.images_dir.empty() || size_from_header(image, options.images_dir, true, options, file, line);
}

bool check_image_present(AnnotatedImage& image, const ReadOptions& options, const fs::path& file, std::size_t line) {
  if (options.images_dir.empty() || !find_image_file(image, options.images_dir).empty()) return true;
  problem(options, Problem::missing_image, file, line,
          "image " + image.image + " is not in " + options.images_dir.string());
  return false;
}

bool size_from_header(AnnotatedImage& image, const fs::path& images_dir, bool required, const ReadOptions& options,
                      const fs::path& file, std::size_t line) {
  const fs::path p = find_image_file(image, images_dir);
  if (p.empty()) {
    if (!required) return true;
    problem(options, Problem::missing_image, file, line, "image " + image.image + " is not in " + images_dir.string());
    return false;
  }
  const auto size = read_image_size(p);
  if (!size) {
    problem(options, Problem::unknown_size, file, line,
            "cannot read the image size from the header of " + p.string() + " (not a JPEG or PNG, or truncated)");
    return false;
  }
  image.width = size->width;
  image.height = size->height;
  image.depth = size->depth;
  return true;
}

void to_pixels(AnnotatedImage& image) {
  if (!image.normalized || image.width <= 0 || image.height <= 0) return;
  const auto w = static_cast<float>(image.width), h = static_cast<float>(image.height);
  for (LabeledBox& b : image.boxes) b.box = {b.box.x1 * w, b.box.y1 * h, b.box.x2 * w, b.box.y2 * h};
  image.normalized = false;
}

bool class_selected(const ReadOptions& options, std::string_view label) {
  return options.classes.empty() || std::find(options.classes.begin(), options.classes.end(), label) != options.classes.end();
}

void emit(AnnotatedImage& image, const ReadOptions& options, const ImageSink& sink) {
  if (!options.classes.empty() && !image.boxes.empty()) {
    const std::size_t before = image.boxes.size();
    std::erase_if(image.boxes, [&](const LabeledBox& b) { return !class_selected(options, b.label); });
    if (options.report) options.report->dropped(Drop::other_class, before - image.boxes.size());
    if (image.boxes.empty()) {
      if (options.report) options.report->dropped(Drop::empty_image);
      return;
    }
  }
  sink(image);
}

std::vector<fs::path> list_files(const fs::path& path, std::string_view extension) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) throw Error(path.string() + ": no such file or folder");
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && text::lower(it->path().extension().string()) == extension) {
      files.push_back(it->path());
    }
  }
  if (ec) throw Error(path.string() + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

fs::path relative_folder(const fs::path& file, const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return {};
  fs::path rel = file.parent_path().lexically_relative(root);
  return rel == "." ? fs::path() : rel;
}

}  // namespace detail

std::filesystem::path image_file(const AnnotatedImage& image, const std::filesystem::path& images_dir) {
  AnnotatedImage copy = image;
  return detail::find_image_file(copy, images_dir);
}


std::vector<std::pair<std::string, std::string>> read_class_descriptions(const std::filesystem::path& path) {
  text::LineReader reader(path);
  std::vector<std::pair<std::string, std::string>> classes;
  std::vector<std::string_view> fields;
  std::string scratch;
  std::string_view line;
  while (reader.next(line)) {
    if (text::trim(line).empty()) continue;
    text::split_csv(line, fields, scratch);
    if (fields.size() != 2) {
      throw Error(location(path, reader.line_number()) + ": expected 2 columns (LabelName,DisplayName), found " +
                  std::to_string(fields.size()));
    }
    if (reader.line_number() == 1 && fields[0] == "LabelName") continue;  // V7 files have a header
    if (!text::is_valid_utf8(fields[1])) {
      throw Error(location(path, reader.line_number()) + ": the class name is not valid UTF-8");
    }
    classes.emplace_back(std::string(text::trim(fields[0])), std::string(text::trim(fields[1])));
  }
  if (classes.empty()) throw Error(path.string() + ": no classes in the class descriptions file");
  return classes;
}

void for_each_image(const std::filesystem::path& path, Format format, const ReadOptions& options,
                    const ImageSink& sink) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": no such file or folder");
  if (!options.images_dir.empty() && !std::filesystem::is_directory(options.images_dir, ec)) {
    throw Error(options.images_dir.string() + ": the images folder does not exist");
  }
  switch (format) {
    case Format::openimages: return detail::read_openimages(path, options, sink);
    case Format::oid_txt: return detail::read_oid_txt(path, options, sink);
    case Format::gt_manifest: return detail::read_gt_manifest(path, options, sink);
    case Format::voc: return detail::read_voc(path, options, sink);
    case Format::yolo: return detail::read_yolo(path, options, sink);
    case Format::coco: return detail::read_coco(path, options, sink);
    case Format::openalpr: return detail::read_openalpr(path, options, sink);
    case Format::cvat: return detail::read_cvat(path, options, sink);
  }
}

std::vector<AnnotatedImage> read_annotations(const std::filesystem::path& path, Format format,
                                             const ReadOptions& options) {
  std::vector<AnnotatedImage> images;
  for_each_image(path, format, options, [&](const AnnotatedImage& image) { images.push_back(image); });
  return images;
}

std::vector<AnnotatedImage> read_annotations(const std::filesystem::path& path, const ReadOptions& options) {
  const auto format = detect_format(path);
  if (!format) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": no such file or folder");
    throw Error(path.string() + ": cannot tell the annotation format; name it (" + format_choices() + ")");
  }
  return read_annotations(path, *format, options);
}

}  // namespace roadveil::dataset
