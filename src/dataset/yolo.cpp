// YOLO (Darknet / Ultralytics) labels: one txt per image, one line per box "class cx cy w h" normalised to
// 0..1 (a sixth column, a detector's confidence, is accepted), and a classes file naming class n on line n.
#include <algorithm>
#include <cstdio>
#include <set>

#include "core/error.hpp"
#include "dataset/detail.hpp"

namespace roadveil::dataset::detail {
namespace {

constexpr const char* kClassFileNames[] = {"classes.txt", "obj.names", "data.names"};

bool is_class_file(const fs::path& p) {
  const std::string name = text::lower(p.filename().string());
  for (const char* n : kClassFileNames) {
    if (name == n) return true;
  }
  return false;
}

fs::path find_class_file(const fs::path& labels_dir) {
  std::error_code ec;
  for (const fs::path& dir : {labels_dir, labels_dir.parent_path()}) {
    for (const char* n : kClassFileNames) {
      if (fs::is_regular_file(dir / n, ec)) return dir / n;
    }
  }
  return {};
}

std::vector<std::string> read_class_names(const fs::path& file) {
  std::vector<std::string> names;
  text::LineReader reader(file);
  std::string_view line;
  while (reader.next(line)) {
    const std::string_view name = text::trim(line);
    if (!text::is_valid_utf8(name)) throw Error(location(file, reader.line_number()) + ": class name is not valid UTF-8");
    names.emplace_back(name);
  }
  // Trailing blank lines are common; a blank line in the middle still holds its class number.
  while (!names.empty() && names.back().empty()) names.pop_back();
  return names;
}

// The folder of label files a YOLO input names (its labels/ folder, or the folder or file itself).
fs::path yolo_labels_dir(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path / "labels", ec)) return path / "labels";
  return fs::is_directory(path, ec) ? path : path.parent_path();
}

fs::path yolo_class_file(const fs::path& path, const ReadOptions& options) {
  if (!options.classes_file.empty()) return options.classes_file;
  std::error_code ec;
  const fs::path labels_dir = yolo_labels_dir(path);
  return fs::is_directory(labels_dir, ec) ? find_class_file(labels_dir) : find_class_file(labels_dir.parent_path());
}

}  // namespace

std::vector<std::string> yolo_declared_classes(const fs::path& path, const ReadOptions& options) {
  const fs::path class_file = yolo_class_file(path, options);
  return class_file.empty() ? std::vector<std::string>{} : read_class_names(class_file);
}

void read_yolo(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  std::error_code ec;
  fs::path labels_dir = path, default_images;
  if (fs::is_directory(path / "labels", ec)) {
    labels_dir = path / "labels";
    default_images = path / "images";
  } else if (fs::is_directory(path, ec)) {
    default_images = path.filename() == "labels" && fs::is_directory(path.parent_path() / "images", ec)
                         ? path.parent_path() / "images"
                         : path;
  } else {
    default_images = path.parent_path();
  }
  const bool explicit_images = !options.images_dir.empty();
  const fs::path images_root = explicit_images ? options.images_dir : default_images;

  const fs::path class_file = !options.classes_file.empty() ? options.classes_file
                              : fs::is_directory(labels_dir, ec) ? find_class_file(labels_dir)
                                                                 : find_class_file(labels_dir.parent_path());
  const std::vector<std::string> names = class_file.empty() ? std::vector<std::string>{} : read_class_names(class_file);

  text::SeenSet seen;
  std::set<std::string> labelled;  // folder/stem of every label file: its image is not background
  std::vector<std::string_view> tokens;
  AnnotatedImage image;
  for (const fs::path& file : list_files(labels_dir, ".txt")) {
    if (is_class_file(file) || file == class_file) continue;
    const fs::path folder = relative_folder(file, labels_dir);
    labelled.insert((folder / file.stem()).generic_string());
    image = AnnotatedImage{};
    image.image = (folder / (file.stem().string() + ".jpg")).generic_string();
    if (!size_from_header(image, images_root, explicit_images, options, file, 0)) continue;
    image.normalized = image.width <= 0;
    if (!seen.insert(image.image)) {
      problem(options, Problem::duplicate_image, file, 0, "a second label file for image " + image.image);
      continue;
    }
    text::LineReader reader(file);
    std::string_view line;
    while (reader.next(line)) {
      if (text::trim(line).empty()) continue;
      const std::size_t n = reader.line_number();
      text::split_blanks(line, tokens);
      if (tokens.size() != 5 && tokens.size() != 6) {
        problem(options, Problem::malformed, file, n, "expected \"class cx cy w h\", found " +
                                                          std::to_string(tokens.size()) + " fields");
        continue;
      }
      const auto cls = text::parse_int(tokens[0]);
      std::optional<double> v[5];
      for (std::size_t i = 1; i < tokens.size(); ++i) v[i - 1] = text::parse_double(tokens[i]);
      if (!cls || *cls < 0 || !v[0] || !v[1] || !v[2] || !v[3] || (tokens.size() == 6 && !v[4])) {
        problem(options, Problem::malformed, file, n, "expected a class number and four numbers");
        continue;
      }
      if (!names.empty() && static_cast<std::size_t>(*cls) >= names.size()) {
        problem(options, Problem::unknown_label, file, n,
                "class " + std::to_string(*cls) + " is not in " + class_file.string() + " (" +
                    std::to_string(names.size()) + " classes)");
        continue;
      }
      bool in_unit = true;
      for (int i = 0; i < 4; ++i) in_unit = in_unit && *v[i] >= -kUnitTolerance && *v[i] <= 1 + kUnitTolerance;
      if (!in_unit) {
        problem(options, Problem::bad_box, file, n, "cx, cy, w and h must be between 0 and 1");
        continue;
      }
      LabeledBox b;
      // A blank line of the classes file names its class by its number, as a file without names does: an empty
      // name went out as VOC's <name></name>, which no reader (roadveil's included) takes back.
      b.label = names.empty() || names[static_cast<std::size_t>(*cls)].empty() ? std::to_string(*cls) : names[static_cast<std::size_t>(*cls)];
      b.box = Box::from_center(static_cast<float>(*v[0]), static_cast<float>(*v[1]), static_cast<float>(*v[2]),
                               static_cast<float>(*v[3]));
      if (image.normalized) {
        // Centre boxes may poke out of 0..1 by float rounding; check_box wants them inside.
        b.box = clamp_to(b.box, 1.0f, 1.0f);
      } else {
        // In pixels, as every other format's boxes: more than 1 px past the image is a bad box (check_box
        // clamps what is within). Clamped here first, a box reaching 20 px past a 100 px image passed, even
        // with --strict, as a box of another size.
        const auto w = static_cast<float>(image.width), h = static_cast<float>(image.height);
        b.box = {b.box.x1 * w, b.box.y1 * h, b.box.x2 * w, b.box.y2 * h};
      }
      if (tokens.size() == 6) b.confidence = static_cast<float>(*v[4]);
      if (check_box(b, image, options, file, n)) image.boxes.push_back(std::move(b));
    }
    emit(image, options, sink);
  }
  // An image without a label file is a background image (Ultralytics and Darknet train on it as "nothing
  // here", as on one with an empty label file): listed without boxes. Left out, a conversion loses the
  // negatives a detector learns its false alarms from. Only when the labels are a folder (one label file
  // names one image) and the images are in a folder of their own or the labels' own.
  if (!fs::is_directory(labels_dir, ec) || !fs::is_directory(images_root, ec)) return;
  std::vector<fs::path> backgrounds;
  for (const char* extension : {".jpg", ".jpeg", ".png"})
    for (fs::path& file : list_files(images_root, extension)) backgrounds.push_back(std::move(file));
  std::sort(backgrounds.begin(), backgrounds.end());
  for (const fs::path& file : backgrounds) {
    const fs::path folder = relative_folder(file, images_root);
    if (labelled.contains((folder / file.stem()).generic_string())) continue;
    image = AnnotatedImage{};
    image.image = (folder / file.filename()).generic_string();
    if (!seen.insert(image.image)) continue;
    if (!size_from_header(image, images_root, true, options, file, 0)) continue;
    emit(image, options, sink);
  }
}

namespace {

class YoloWriter : public PerImageFileWriter {
 public:
  YoloWriter(const fs::path& output, const WriteOptions& options)
      : PerImageFileWriter(output, options, ".txt", "YOLO", /*pixels_required=*/false), classes_(class_index(options)) {}

  void finish() override {
    std::string s;
    for (const std::string& name : classes_->names()) {
      // classes.txt holds a name a line: a name with a line break in it read back as two classes, and every
      // class after it as the one before (a COCO category "two\nlines": the "car" boxes came back as another).
      if (name.find_first_of("\r\n") != std::string::npos)
      {
        std::string shown;
        for (const char c : name) shown += c == '\n' ? std::string("\\n") : c == '\r' ? std::string("\\r") : std::string(1, c);
        throw Error("the class name \"" + shown + "\" holds a line break, and YOLO's classes.txt has one name a line: "
                    "rename it (--rename)");
      }
      s += name + "\n";
    }
    folder_.write("classes.txt", s);
    PerImageFileWriter::finish();
  }

 private:
  bool accepts(const fs::path& relative) const override { return !is_class_file(relative); }
  std::string refusal(const fs::path& relative) const override {
    return relative.string() + " is the name of the classes file: an image called " + relative.stem().string() +
           " cannot have its labels written in YOLO (rename the image)";
  }

  void format(const AnnotatedImage& image, std::string& s) override {
    const float w = image.normalized ? 1.0f : static_cast<float>(image.width);
    const float h = image.normalized ? 1.0f : static_cast<float>(image.height);
    for (const LabeledBox& b : image.boxes) {
      const Box n = clamp_to({b.box.x1 / w, b.box.y1 / h, b.box.x2 / w, b.box.y2 / h}, 1.0f, 1.0f);
      char line[128];
      std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", classes_->id(b.label), n.cx(), n.cy(), n.width(),
                    n.height());
      s += line;
    }
  }

  std::shared_ptr<ClassIndex> classes_;
};

}  // namespace

std::unique_ptr<Writer> make_yolo_writer(const fs::path& output, const WriteOptions& options) {
  return std::make_unique<YoloWriter>(output, options);
}

}  // namespace roadveil::dataset::detail
