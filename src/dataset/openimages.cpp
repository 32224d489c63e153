// Open Images box CSV (streamed, grouped by consecutive ImageID) and the OIDv4 downloader's text labels.
#include <array>
#include <map>
#include <unordered_map>

#include "core/error.hpp"
#include "dataset/detail.hpp"
#include "dataset/text.hpp"

namespace roadveil::dataset::detail {
namespace {

enum Column { kImageId, kSource, kLabelName, kConfidence, kXMin, kXMax, kYMin, kYMax,
              kIsOccluded, kIsTruncated, kIsGroupOf, kIsDepiction, kIsInside, kColumnCount };
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "ImageID", "Source", "LabelName", "Confidence", "XMin", "XMax", "YMin", "YMax",
    "IsOccluded", "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside"};
constexpr int kAbsent = -1;

// Open Images flags are 0, 1, or -1 for "unknown"; unknown reads as false.
bool parse_flag(std::string_view s, bool& out) {
  const auto v = text::parse_int(s);
  if (!v || *v < -1 || *v > 1) return false;
  out = *v == 1;
  return true;
}

class OpenImagesReader {
 public:
  OpenImagesReader(const fs::path& path, const ReadOptions& options, const ImageSink& sink)
      : path_(path), options_(options), sink_(sink) {
    if (options.class_descriptions.empty()) {
      throw Error(path.string() + ": reading Open Images needs the class descriptions CSV "
                                  "(--class-descriptions class-descriptions-boxable.csv)");
    }
    for (auto& [id, name] : read_class_descriptions(options.class_descriptions)) {
      const int index = static_cast<int>(names_.size());
      ids_.emplace(std::move(id), index);
      names_.push_back(std::move(name));
    }
    wanted_.assign(names_.size(), options.classes.empty());
    for (const std::string& c : options.classes) {
      bool found = false;
      if (auto it = ids_.find(c); it != ids_.end()) {
        wanted_[static_cast<std::size_t>(it->second)] = true;
        found = true;
      }
      for (std::size_t i = 0; i < names_.size(); ++i) {
        if (names_[i] == c) wanted_[i] = found = true;
      }
      if (!found) {
        throw Error("class \"" + c + "\" is neither a label id nor a display name in " +
                    options.class_descriptions.string());
      }
    }
    columns_.fill(kAbsent);
  }

  void run() {
    text::LineReader reader(path_);
    std::string_view line;
    std::vector<std::string_view> fields;
    std::string scratch;
    bool first = true;
    while (reader.next(line)) {
      if (text::trim(line).empty()) continue;
      text::split_csv(line, fields, scratch);
      if (first) {
        first = false;
        if (read_header(fields, reader.line_number())) continue;
      }
      row(fields, reader.line_number());
    }
    flush();
  }

 private:
  // Maps columns by name so that V6 train files with the extra XClick columns read too. Without a header the
  // standard 13-column layout is assumed.
  bool read_header(const std::vector<std::string_view>& fields, std::size_t line) {
    if (fields.empty() || text::trim(fields[0]) != "ImageID") {
      for (int c = 0; c < kColumnCount; ++c) columns_[static_cast<std::size_t>(c)] = c;
      column_count_ = kColumnCount;
      return false;
    }
    column_count_ = fields.size();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      for (std::size_t c = 0; c < kColumnCount; ++c) {
        if (text::trim(fields[i]) == kColumnNames[c]) columns_[c] = static_cast<int>(i);
      }
    }
    for (const Column required : {kImageId, kLabelName, kXMin, kXMax, kYMin, kYMax}) {
      if (columns_[required] == kAbsent) {
        throw Error(location(path_, line) + ": the header has no " + std::string(kColumnNames[required]) +
                    " column; expected ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,"
                    "IsTruncated,IsGroupOf,IsDepiction,IsInside");
      }
    }
    return true;
  }

  std::string_view field(const std::vector<std::string_view>& fields, Column c) const {
    const int i = columns_[c];
    return i == kAbsent ? std::string_view{} : fields[static_cast<std::size_t>(i)];
  }

  void row(const std::vector<std::string_view>& fields, std::size_t line) {
    if (fields.size() != column_count_) {
      problem(options_, Problem::malformed, path_, line,
              "expected " + std::to_string(column_count_) + " columns, found " + std::to_string(fields.size()));
      return;
    }
    const std::string_view id = text::trim(field(fields, kImageId));
    if (id.empty()) {
      problem(options_, Problem::malformed, path_, line, "empty ImageID");
      return;
    }
    if (id != group_id_) start_group(id, line);
    if (skip_group_) return;

    const std::string_view label_id = text::trim(field(fields, kLabelName));
    key_.assign(label_id);  // reuses its buffer: no allocation per row
    const auto it = ids_.find(key_);
    if (it == ids_.end()) {
      problem(options_, Problem::unknown_label, path_, line,
              "unknown label id \"" + key_ + "\" (not in " + options_.class_descriptions.string() + ")");
      return;
    }
    const auto xmin = text::parse_double(field(fields, kXMin)), xmax = text::parse_double(field(fields, kXMax));
    const auto ymin = text::parse_double(field(fields, kYMin)), ymax = text::parse_double(field(fields, kYMax));
    if (!xmin || !xmax || !ymin || !ymax) {
      problem(options_, Problem::malformed, path_, line, "XMin, XMax, YMin and YMax must be numbers");
      return;
    }
    if (*xmin < 0 || *xmax > 1 || *ymin < 0 || *ymax > 1 || *xmin > 1 || *xmax < 0 || *ymin > 1 || *ymax < 0) {
      problem(options_, Problem::bad_box, path_, line, "coordinates must be between 0 and 1");
      return;
    }
    if (*xmin > *xmax || *ymin > *ymax) {
      problem(options_, Problem::bad_box, path_, line, "XMin > XMax or YMin > YMax");
      return;
    }
    if (*xmin == *xmax || *ymin == *ymax) {
      problem(options_, Problem::bad_box, path_, line, "empty box (XMin = XMax or YMin = YMax)");
      return;
    }
    double confidence = 1;
    if (columns_[kConfidence] != kAbsent) {
      const auto c = text::parse_double(field(fields, kConfidence));
      if (!c || *c < 0 || *c > 1) {
        problem(options_, Problem::malformed, path_, line, "Confidence must be a number between 0 and 1");
        return;
      }
      confidence = *c;
    }
    bool flags[5] = {};
    const Column flag_columns[5] = {kIsOccluded, kIsTruncated, kIsGroupOf, kIsDepiction, kIsInside};
    for (int f = 0; f < 5; ++f) {
      if (columns_[flag_columns[f]] != kAbsent && !parse_flag(field(fields, flag_columns[f]), flags[f])) {
        problem(options_, Problem::malformed, path_, line,
                std::string(kColumnNames[flag_columns[f]]) + " must be 0, 1 or -1");
        return;
      }
    }
    group_had_boxes_ = true;
    const auto index = static_cast<std::size_t>(it->second);
    if (!wanted_[index]) {
      if (options_.report) options_.report->dropped(Drop::other_class);
      return;
    }
    LabeledBox& b = new_box();
    b.label.assign(names_[index]);
    b.box = {static_cast<float>(*xmin), static_cast<float>(*ymin), static_cast<float>(*xmax),
             static_cast<float>(*ymax)};
    b.confidence = static_cast<float>(confidence);
    b.is_occluded = flags[0];
    b.is_truncated = flags[1];
    b.is_group_of = flags[2];
    b.is_depiction = flags[3];
    b.is_inside = flags[4];
  }

  void start_group(std::string_view id, std::size_t line) {
    flush();
    group_id_.assign(id);
    group_line_ = line;
    group_had_boxes_ = false;
    skip_group_ = false;
    if (!text::is_valid_utf8(id)) {
      problem(options_, Problem::bad_encoding, path_, line, "ImageID is not valid UTF-8");
      skip_group_ = true;
    } else if (!seen_.insert(id)) {
      problem(options_, Problem::duplicate_image, path_, line,
              "ImageID " + group_id_ + " appears again after other images (its rows must be together)");
      skip_group_ = true;
    }
  }

  // Boxes are recycled between images so that their label strings keep their buffers.
  LabeledBox& new_box() {
    if (pool_.empty()) return image_.boxes.emplace_back();
    image_.boxes.push_back(std::move(pool_.back()));
    pool_.pop_back();
    LabeledBox& b = image_.boxes.back();
    b.text.clear();
    b.is_difficult = false;
    return b;
  }

  void flush() {
    if (group_id_.empty() || skip_group_) {
      recycle();
      return;
    }
    if (image_.boxes.empty()) {
      if (group_had_boxes_ && options_.report) options_.report->dropped(Drop::empty_image);
      return;
    }
    image_.image.assign(group_id_);
    image_.image.append(".jpg");
    image_.width = image_.height = image_.depth = 0;
    image_.normalized = true;
    if (!options_.images_dir.empty()) {
      if (!size_from_header(image_, options_.images_dir, true, options_, path_, group_line_)) {
        recycle();
        return;
      }
      to_pixels(image_);
    }
    sink_(image_);
    recycle();
  }

  void recycle() {
    for (LabeledBox& b : image_.boxes) pool_.push_back(std::move(b));
    image_.boxes.clear();
  }

  const fs::path& path_;
  const ReadOptions& options_;
  const ImageSink& sink_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::string> names_;
  std::vector<bool> wanted_;
  std::array<int, kColumnCount> columns_{};
  std::size_t column_count_ = kColumnCount;
  std::string key_;
  std::string group_id_;
  std::size_t group_line_ = 0;
  bool group_had_boxes_ = false, skip_group_ = false;
  text::SeenSet seen_;
  AnnotatedImage image_;
  std::vector<LabeledBox> pool_;
};

}  // namespace

void read_openimages(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  if (std::error_code ec; fs::is_directory(path, ec)) {
    throw Error(path.string() + ": Open Images annotations are a CSV file, not a folder");
  }
  OpenImagesReader(path, options, sink).run();
}

// OIDv4_ToolKit layout: Dataset/<split>/<Class name>/<ImageID>.jpg with Label/<ImageID>.txt beside; one line
// per box, "<Class name> xmin ymin xmax ymax" in pixels, the class name possibly containing spaces. The same
// ImageID downloaded for two classes has a label file in each class folder: they are merged into one image.
void read_oid_txt(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  std::map<std::string, std::vector<fs::path>> by_image;
  for (const fs::path& f : list_files(path, ".txt")) {
    if (text::lower(f.filename().string()) == "classes.txt") continue;
    by_image[f.stem().string()].push_back(f);
  }
  struct Parsed {
    LabeledBox box;
    const fs::path* file;
    std::size_t line;
  };
  std::vector<Parsed> parsed;
  std::vector<std::string_view> tokens;
  AnnotatedImage image;
  for (const auto& [stem, files] : by_image) {
    parsed.clear();
    for (const fs::path& f : files) {
      text::LineReader reader(f);
      std::string_view line;
      while (reader.next(line)) {
        if (text::trim(line).empty()) continue;
        text::split_blanks(line, tokens);
        const std::size_t n = tokens.size();
        std::optional<double> v[4];
        if (n >= 5) {
          for (std::size_t i = 0; i < 4; ++i) v[i] = text::parse_double(tokens[n - 4 + i]);
        }
        if (n < 5 || !v[0] || !v[1] || !v[2] || !v[3]) {
          problem(options, Problem::malformed, f, reader.line_number(),
                  "expected \"<class name> xmin ymin xmax ymax\" (pixels)");
          continue;
        }
        Parsed& p = parsed.emplace_back();
        // The tools write names with spaces ("Vehicle registration plate"): everything before the numbers.
        for (std::size_t i = 0; i + 4 < n; ++i) {
          if (i) p.box.label += ' ';
          p.box.label += tokens[i];
        }
        p.box.box = {static_cast<float>(*v[0]), static_cast<float>(*v[1]), static_cast<float>(*v[2]),
                     static_cast<float>(*v[3])};
        p.file = &f;
        p.line = reader.line_number();
      }
    }
    image = AnnotatedImage{};
    image.image = stem + ".jpg";
    const fs::path& first = files.front();
    const bool explicit_dir = !options.images_dir.empty();
    const fs::path dir = explicit_dir                                  ? options.images_dir
                         : first.parent_path().filename() == "Label" ? first.parent_path().parent_path()
                                                                       : first.parent_path();
    if (!size_from_header(image, dir, explicit_dir, options, first, 0)) continue;
    for (Parsed& p : parsed) {
      if (check_box(p.box, image, options, *p.file, p.line)) image.boxes.push_back(std::move(p.box));
    }
    emit(image, options, sink);
  }
}

}  // namespace roadveil::dataset::detail
