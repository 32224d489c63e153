// OpenALPR benchmark annotations (openalpr/benchmarks, endtoend/): one txt per image holding
// "file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>plate-text", x,y the top-left corner in pixels. The format has no class
// column: every box is a plate.
#include <cmath>

#include "core/error.hpp"
#include "dataset/detail.hpp"

namespace roadveil::dataset::detail {

void read_openalpr(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  text::SeenSet seen;
  std::vector<std::string_view> fields;
  AnnotatedImage image;
  struct Parsed {
    LabeledBox box;
    std::size_t line;
  };
  std::vector<Parsed> parsed;
  for (const fs::path& file : list_files(path, ".txt")) {
    const fs::path folder = relative_folder(file, path);
    std::string name;
    parsed.clear();
    bool bad_file = false;
    text::LineReader reader(file);
    std::string_view line;
    while (reader.next(line)) {
      if (text::trim(line).empty()) continue;
      const std::size_t n = reader.line_number();
      text::split_on(line, '\t', fields);
      if (fields.size() != 5 && fields.size() != 6) {
        problem(options, Problem::malformed, file, n,
                "expected 6 tab-separated fields (file x y w h plate-text), found " + std::to_string(fields.size()));
        continue;
      }
      const auto x = text::parse_double(fields[1]), y = text::parse_double(fields[2]);
      const auto w = text::parse_double(fields[3]), h = text::parse_double(fields[4]);
      if (!x || !y || !w || !h) {
        problem(options, Problem::malformed, file, n, "x, y, w and h must be numbers");
        continue;
      }
      const std::string_view file_field = text::trim(fields[0]);
      if (name.empty()) {
        name = std::string(file_field);
        if (!check_utf8(name, "the file name", options, file, n)) {
          bad_file = true;
          break;
        }
      } else if (file_field != name) {
        problem(options, Problem::malformed, file, n,
                "names image " + std::string(file_field) + " but earlier lines name " + name);
        continue;
      }
      if (*w < 0 || *h < 0) {
        problem(options, Problem::bad_box, file, n, "negative width or height");
        continue;
      }
      Parsed& p = parsed.emplace_back();
      p.box.label = options.openalpr_label;
      p.box.box = Box::from_xywh(static_cast<float>(*x), static_cast<float>(*y), static_cast<float>(*w),
                                 static_cast<float>(*h));
      if (fields.size() == 6) p.box.text = std::string(text::trim(fields[5]));
      p.line = n;
    }
    if (bad_file) continue;
    image = AnnotatedImage{};
    image.image = (folder / (name.empty() ? file.stem().string() + ".jpg" : name)).generic_string();
    // The benchmark keeps each image beside its txt; image names are relative to the folder read.
    const bool explicit_dir = !options.images_dir.empty();
    const fs::path root = explicit_dir ? options.images_dir : folder.empty() ? file.parent_path() : path;
    if (!size_from_header(image, root, explicit_dir, options, file, parsed.empty() ? 0 : parsed.front().line)) {
      continue;
    }
    if (!seen.insert(image.image)) {
      problem(options, Problem::duplicate_image, file, 0, "a second annotation file for image " + image.image);
      continue;
    }
    for (Parsed& p : parsed) {
      if (check_box(p.box, image, options, file, p.line)) image.boxes.push_back(std::move(p.box));
    }
    emit(image, options, sink);
  }
}

namespace {

class OpenAlprWriter : public PerImageFileWriter {
 public:
  OpenAlprWriter(const fs::path& output, const WriteOptions& options)
      : PerImageFileWriter(output, options, ".txt", "OpenALPR") {}

 private:
  void format(const AnnotatedImage& image, std::string& s) override {
    const std::string file = fs::path(image.image).filename().string();
    for (const LabeledBox& b : image.boxes) {
      // The benchmark files hold integers; the box is rounded edge by edge so that it stays where it was.
      const long x = std::lround(b.box.x1), y = std::lround(b.box.y1);
      s += file;
      for (const long v : {x, y, std::lround(b.box.x2) - x, std::lround(b.box.y2) - y}) {
        s += '\t';
        text::append_int(s, v);
      }
      s += '\t';
      // A tab or newline inside the text would break the line apart.
      for (const char c : b.text) s += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
      s += '\n';
    }
  }
};

}  // namespace

std::unique_ptr<Writer> make_openalpr_writer(const fs::path& output, const WriteOptions& options) {
  return std::make_unique<OpenAlprWriter>(output, options);
}

}  // namespace roadveil::dataset::detail
