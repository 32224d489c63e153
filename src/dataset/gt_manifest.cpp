// SageMaker Ground Truth object-detection output manifest, the input of Rekognition Custom Labels object
// localization. One JSON object per line:
//   {"source-ref": "s3://bucket/key.jpg",
//    "<label>": {"image_size": [{"width": W, "height": H, "depth": D}],
//                "annotations": [{"class_id": C, "left": X, "top": Y, "width": w, "height": h}, ...]},
//    "<label>-metadata": {"objects": [{"confidence": c}, ...], "class-map": {"C": "name"},
//                         "type": "groundtruth/object-detection", "human-annotated": "yes",
//                         "creation-date": "YYYY-MM-DDTHH:MM:SS", "job-name": "labeling-job/name"}}
// as documented in the SageMaker Developer Guide ("Bounding Box Job Output") and the Rekognition Custom
// Labels Guide ("Object localization in manifest files"). Pixel values are integers in the documented
// examples and are written as such.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dataset/detail.hpp"

namespace roadveil::dataset::detail {
namespace {

using json = nlohmann::json;

constexpr std::string_view kType = "groundtruth/object-detection";

// YYYY-MM-DDTHH:MM:SS, then optional fractional seconds and an optional zone (Z, +hhmm, +hh:mm): the forms
// the AWS examples show ("2018-10-18T22:18:13.527256", "2013-11-18T02:53:27", "2020-05-15T08:01:16+0000").
bool valid_creation_date(std::string_view s) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  if (!(digits(0, 4) && s.size() >= 19 && s[4] == '-' && digits(5, 2) && s[7] == '-' && digits(8, 2) &&
        s[10] == 'T' && digits(11, 2) && s[13] == ':' && digits(14, 2) && s[16] == ':' && digits(17, 2))) {
    return false;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  const std::string_view zone = s.substr(i + 1);
  return (zone.size() == 4 && digits(i + 1, 4)) || (zone.size() == 5 && digits(i + 1, 2) && zone[2] == ':' && digits(i + 4, 2));
}

bool valid_s3_uri(std::string_view s) {
  if (s.substr(0, 5) != "s3://") return false;
  const std::size_t slash = s.find('/', 5);
  return slash != std::string_view::npos && slash > 5 && slash + 1 < s.size();
}

bool is_uint(const json& j) { return j.is_number_unsigned() || (j.is_number_integer() && j.get<long long>() >= 0); }
bool is_json_number(const json& j) { return j.is_number(); }

class ManifestLine {
 public:
  ManifestLine(const fs::path& file, std::size_t line, const ReadOptions& options)
      : file_(file), line_(line), options_(options) {}

  // Returns false (after reporting) when the line must be skipped.
  bool fail(Problem kind, const std::string& what) {
    problem(options_, kind, file_, line_, what);
    return false;
  }

  bool parse(const json& j, const std::string& attribute, AnnotatedImage& image) {
    if (!j.is_object()) return fail(Problem::malformed, "a manifest line must be a JSON object");
    const auto src = j.find("source-ref");
    if (src == j.end() || !src->is_string()) return fail(Problem::malformed, "no \"source-ref\" string");
    const std::string& source = src->get_ref<const std::string&>();
    if (!text::is_valid_utf8(source)) return fail(Problem::bad_encoding, "source-ref is not valid UTF-8");
    if (!valid_s3_uri(source)) {
      return fail(Problem::malformed, "source-ref \"" + source + "\" is not an s3://bucket/key URI");
    }
    const auto label = j.find(attribute);
    const auto meta = j.find(attribute + "-metadata");
    if (label == j.end() || !label->is_object()) {
      return fail(Problem::malformed, "no \"" + attribute + "\" object (the label attribute)");
    }
    if (meta == j.end() || !meta->is_object()) return fail(Problem::malformed, "no \"" + attribute + "-metadata\" object");

    // Label attribute.
    const auto size = label->find("image_size");
    if (size == label->end() || !size->is_array() || size->size() != 1 || !(*size)[0].is_object()) {
      return fail(Problem::malformed, "\"image_size\" must be an array of one {width, height, depth} object");
    }
    const json& s = (*size)[0];
    for (const char* key : {"width", "height", "depth"}) {
      if (!s.contains(key) || !is_uint(s[key]) || s[key].get<long long>() <= 0) {
        return fail(Problem::malformed, std::string("image_size ") + key + " must be a positive integer");
      }
    }
    const auto annotations = label->find("annotations");
    if (annotations == label->end() || !annotations->is_array()) {
      return fail(Problem::malformed, "\"annotations\" must be an array");
    }

    // Metadata.
    const auto type = meta->find("type");
    if (type == meta->end() || *type != kType) {
      return fail(Problem::malformed, "metadata \"type\" must be \"" + std::string(kType) + "\"");
    }
    const auto objects = meta->find("objects");
    if (objects == meta->end() || !objects->is_array() || objects->size() != annotations->size()) {
      return fail(Problem::malformed, "metadata \"objects\" must be an array with one entry per annotation (" +
                                          std::to_string(annotations->size()) + ")");
    }
    const auto class_map = meta->find("class-map");
    if (class_map == meta->end() || !class_map->is_object()) {
      return fail(Problem::malformed, "metadata \"class-map\" must be an object");
    }
    for (const auto& [key, value] : class_map->items()) {
      if (!text::parse_int(key) || !value.is_string()) {
        return fail(Problem::malformed, "class-map entries must map a class number to a name");
      }
      if (!text::is_valid_utf8(value.get_ref<const std::string&>())) {
        return fail(Problem::bad_encoding, "class-map name for " + key + " is not valid UTF-8");
      }
    }
    const auto human = meta->find("human-annotated");
    if (human == meta->end() || (*human != "yes" && *human != "no")) {
      return fail(Problem::malformed, "metadata \"human-annotated\" must be \"yes\" or \"no\"");
    }
    const auto date = meta->find("creation-date");
    if (date == meta->end() || !date->is_string() || !valid_creation_date(date->get_ref<const std::string&>())) {
      return fail(Problem::malformed, "metadata \"creation-date\" must be a date-time like 2018-10-18T22:18:13");
    }
    if (const auto job = meta->find("job-name"); job != meta->end() && !job->is_string()) {
      return fail(Problem::malformed, "metadata \"job-name\" must be a string");
    }

    image = AnnotatedImage{};
    // The prefix as the writer takes it: a missing final '/' added (s3://bkt/imgs names s3://bkt/imgs/a.jpg
    // "a.jpg", not "/a.jpg", which no images folder holds).
    const std::string& prefix = options_.image_uri_prefix;
    const bool under_prefix = !prefix.empty() && source.size() > prefix.size() + (prefix.back() == '/' ? 0 : 1) &&
                              source.compare(0, prefix.size(), prefix) == 0 && (prefix.back() == '/' || source[prefix.size()] == '/');
    image.image = under_prefix ? source.substr(prefix.size() + (prefix.back() == '/' ? 0 : 1))
                               : source.substr(source.find_last_of('/') + 1);
    image.width = s["width"].get<int>();
    image.height = s["height"].get<int>();
    image.depth = s["depth"].get<int>();
    for (std::size_t i = 0; i < annotations->size(); ++i) {
      const json& a = (*annotations)[i];
      const json& o = (*objects)[i];
      const std::string where = "annotations[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.contains("class_id") || !is_uint(a["class_id"])) {
        fail(Problem::malformed, where + ": \"class_id\" must be a non-negative integer");
        continue;
      }
      bool numbers = true;
      for (const char* key : {"left", "top", "width", "height"}) numbers = numbers && a.contains(key) && is_json_number(a[key]);
      if (!numbers) {
        fail(Problem::malformed, where + ": needs numeric left, top, width and height");
        continue;
      }
      if (!o.is_object() || !o.contains("confidence") || !is_json_number(o["confidence"]) || o["confidence"] < 0 ||
          o["confidence"] > 1) {
        fail(Problem::malformed, "objects[" + std::to_string(i) + "]: \"confidence\" must be a number between 0 and 1");
        continue;
      }
      const std::string id = std::to_string(a["class_id"].get<long long>());
      const auto name = class_map->find(id);
      if (name == class_map->end()) {
        fail(Problem::unknown_label, where + ": class_id " + id + " is not in the class-map");
        continue;
      }
      LabeledBox b;
      b.label = name->get<std::string>();
      b.box = Box::from_xywh(a["left"].get<float>(), a["top"].get<float>(), a["width"].get<float>(),
                             a["height"].get<float>());
      b.confidence = o["confidence"].get<float>();
      if (check_box(b, image, options_, file_, line_)) image.boxes.push_back(std::move(b));
    }
    return true;
  }

 private:
  const fs::path& file_;
  std::size_t line_;
  const ReadOptions& options_;
};

// The label attribute of a line: the key whose "-metadata" sibling says groundtruth/object-detection.
std::vector<std::string> detection_attributes(const json& j) {
  std::vector<std::string> found;
  if (!j.is_object()) return found;
  for (const auto& [key, value] : j.items()) {
    const auto meta = j.find(key + "-metadata");
    if (value.is_object() && meta != j.end() && meta->is_object() && meta->value("type", "") == kType) {
      found.push_back(key);
    }
  }
  return found;
}

}  // namespace

void read_gt_manifest(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  text::LineReader reader(path);
  text::SeenSet seen;
  std::string attribute = options.label_attribute;
  AnnotatedImage image;
  std::string_view line;
  while (reader.next(line)) {
    const std::size_t n = reader.line_number();
    if (text::trim(line).empty()) {
      problem(options, Problem::malformed, path, n, "empty line (each line must be one JSON object)");
      continue;
    }
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (!text::is_valid_utf8(line)) {
        problem(options, Problem::bad_encoding, path, n, "the line is not valid UTF-8");
      } else {
        problem(options, Problem::malformed, path, n, "not a valid JSON object");
      }
      continue;
    }
    if (attribute.empty()) {
      const auto found = detection_attributes(j);
      if (found.size() > 1) {
        throw Error(location(path, n) + ": several object-detection label attributes (" + found[0] + ", " + found[1] +
                    "); choose one with --label-attribute");
      }
      if (found.empty()) {
        problem(options, Problem::malformed, path, n,
                "no label attribute with a \"-metadata\" object of type groundtruth/object-detection");
        continue;
      }
      attribute = found[0];
    }
    ManifestLine parser(path, n, options);
    if (!parser.parse(j, attribute, image)) continue;
    if (!seen.insert(j["source-ref"].get_ref<const std::string&>())) {
      problem(options, Problem::duplicate_image, path, n, "source-ref " + j["source-ref"].get<std::string>() + " appears again");
      continue;
    }
    if (!check_image_present(image, options, path, n)) continue;
    emit(image, options, sink);
  }
}

namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

class ManifestWriter : public Writer {
 public:
  ManifestWriter(const fs::path& output, const WriteOptions& options, std::string prefix)
      : options_(options), classes_(class_index(options)), file_(output), prefix_(std::move(prefix)) {
    creation_date_ = options.creation_date.empty() ? utc_now() : options.creation_date;
    // Everything but the per-image parts is the same on every line: built once.
    label_key_ = ",";
    text::append_json_string(label_key_, options.label_attribute);
    text::append_json_string(metadata_key_, options.label_attribute + "-metadata");
    metadata_key_ += ':';
    metadata_tail_ = ",\"type\":";
    text::append_json_string(metadata_tail_, kType);
    metadata_tail_ += ",\"human-annotated\":";
    text::append_json_string(metadata_tail_, options.human_annotated ? "yes" : "no");
    metadata_tail_ += ",\"creation-date\":";
    text::append_json_string(metadata_tail_, creation_date_);
    metadata_tail_ += ",\"job-name\":";
    text::append_json_string(metadata_tail_, options.job_name);
    metadata_tail_ += "}}\n";
  }

  bool write(const AnnotatedImage& image) override {
    if (image.normalized || image.width <= 0 || image.height <= 0) {
      problem(options_, Problem::unknown_size, image.image, 0,
              "a Ground Truth manifest needs the image size, which is unknown (give the images folder)");
      return false;
    }
    std::string& s = line_;
    s.clear();
    s += "{\"source-ref\":";
    source_ = prefix_;
    const std::string_view name(image.image);
    source_ += name.find("://") == std::string_view::npos ? name : name.substr(name.find_last_of('/') + 1);
    // Two lines of one source-ref attach two sets of boxes to one picture (Ground Truth and roadveil's own
    // reader refuse it): images of one name from different folders, read without their folders.
    if (!sources_.insert(source_)) {
      problem(options_, Problem::duplicate_image, image.image, 0,
              "a second image would have the source-ref " + source_ + " (images of one name in different folders: "
              "read them with --image-uri-prefix to keep their folders)");
      return false;
    }
    text::append_json_string(s, source_);
    s += label_key_;
    s += ":{\"image_size\":[{\"width\":";
    text::append_int(s, image.width);
    s += ",\"height\":";
    text::append_int(s, image.height);
    s += ",\"depth\":";
    text::append_int(s, image.depth > 0 ? image.depth : 3);
    s += "}],\"annotations\":[";
    ids_.clear();
    const float w = static_cast<float>(image.width), h = static_cast<float>(image.height);
    for (std::size_t i = 0; i < image.boxes.size(); ++i) {
      const LabeledBox& b = image.boxes[i];
      const int id = classes_->id(b.label);
      ids_.push_back(id);
      // Integer pixels as in the documented format: round the edges, keep at least one pixel.
      const Box c = clamp_to(b.box, w, h);
      const long left = std::min(std::lround(c.x1), static_cast<long>(image.width) - 1);
      const long top = std::min(std::lround(c.y1), static_cast<long>(image.height) - 1);
      const long width = std::max(1L, std::min(std::lround(c.x2), static_cast<long>(image.width)) - left);
      const long height = std::max(1L, std::min(std::lround(c.y2), static_cast<long>(image.height)) - top);
      s += i ? ",{\"class_id\":" : "{\"class_id\":";
      text::append_int(s, id);
      s += ",\"left\":";
      text::append_int(s, left);
      s += ",\"top\":";
      text::append_int(s, top);
      s += ",\"width\":";
      text::append_int(s, width);
      s += ",\"height\":";
      text::append_int(s, height);
      s += '}';
    }
    s += "]},";
    s += metadata_key_;
    s += "{\"objects\":[";
    for (std::size_t i = 0; i < image.boxes.size(); ++i) {
      if (i) s += ',';
      s += "{\"confidence\":";
      text::append_number(s, std::clamp(image.boxes[i].confidence, 0.0f, 1.0f));
      s += '}';
    }
    s += "],\"class-map\":{";
    std::sort(ids_.begin(), ids_.end());
    ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      s += i ? ",\"" : "\"";
      text::append_int(s, ids_[i]);
      s += "\":";
      text::append_json_string(s, classes_->names()[static_cast<std::size_t>(ids_[i])]);
    }
    s += '}';
    s += metadata_tail_;
    file_.write(s);
    return true;
  }

  void finish() override { file_.commit(); }

 private:
  WriteOptions options_;
  std::shared_ptr<ClassIndex> classes_;
  StagedFile file_;
  std::string prefix_, creation_date_, label_key_, metadata_key_, metadata_tail_, line_, source_;
  std::vector<int> ids_;
  text::SeenSet sources_;
};

}  // namespace

std::unique_ptr<Writer> make_gt_manifest_writer(const fs::path& output, const WriteOptions& options) {
  std::string prefix = options.image_uri_prefix;
  if (prefix.rfind("s3://", 0) != 0 || prefix.size() <= 5 || prefix[5] == '/') {
    throw Error("a Ground Truth manifest needs --image-uri-prefix s3://bucket/prefix/ (source-ref must be an S3 "
                "URI); got \"" + prefix + "\"");
  }
  if (prefix.back() != '/') prefix += '/';
  const std::string& a = options.label_attribute;
  if (a.empty() || a == "source-ref" || a == "source" || a.find("-metadata") != std::string::npos ||
      (a.size() >= 4 && a.compare(a.size() - 4, 4, "-ref") == 0)) {
    throw Error("label attribute \"" + a + "\" is not allowed: it must not be empty, contain \"-metadata\" or end "
                "with \"-ref\"");
  }
  if (!options.creation_date.empty() && !valid_creation_date(options.creation_date)) {
    throw Error("creation date \"" + options.creation_date + "\" is not like 2018-10-18T22:18:13");
  }
  return std::make_unique<ManifestWriter>(output, options, std::move(prefix));
}

}  // namespace roadveil::dataset::detail
