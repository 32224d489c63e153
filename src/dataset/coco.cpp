// COCO object detection JSON: "images" (id, file_name, width, height), "annotations" (image_id, category_id,
// bbox [x, y, w, h] in pixels, iscrowd, optional score) and "categories" (id, name). JSON has no line numbers
// worth quoting, so messages point at the element instead ("annotations[17]").
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dataset/detail.hpp"

namespace roadveil::dataset::detail {
namespace {

using json = nlohmann::json;

// COCO ids are integers, but some exporters write strings: both are keys here.
std::optional<std::string> id_key(const json& j) {
  if (j.is_number_integer()) return std::to_string(j.get<long long>());
  if (j.is_string()) return j.get<std::string>();
  return std::nullopt;
}

}  // namespace

void read_coco(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  json doc;
  try {
    doc = json::parse(text::read_file(path));
  } catch (const json::parse_error& e) {
    // The JSON parser refuses invalid UTF-8 anywhere in the file: name that cause rather than the syntax.
    const bool utf8 = text::is_valid_utf8(text::read_file(path));
    throw Error(path.string() + (utf8 ? ": not valid JSON (byte " : ": not valid UTF-8 (byte ") +
                std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    // A number beyond double (1e400) is valid JSON syntax that the parser cannot hold: it gave
    // "internal error: [json.exception.out_of_range.406] ..." without the file's name.
    std::string why = e.what();
    if (const auto end = why.find("] "); why.starts_with("[json.exception") && end != std::string::npos) why.erase(0, end + 2);
    throw Error(path.string() + ": " + why);
  }
  if (!doc.is_object() || !doc.contains("images") || !doc["images"].is_array() || !doc.contains("annotations") ||
      !doc["annotations"].is_array()) {
    throw Error(path.string() + ": not a COCO detection file (needs \"images\" and \"annotations\" arrays)");
  }
  auto fail = [&](Problem kind, const std::string& where, const std::string& what) {
    problem(options, kind, path, 0, where + ": " + what);
  };

  std::unordered_map<std::string, std::string> categories;
  const bool has_categories = doc.contains("categories") && doc["categories"].is_array();
  if (has_categories) {
    const json& cats = doc["categories"];
    for (std::size_t i = 0; i < cats.size(); ++i) {
      const std::string where = "categories[" + std::to_string(i) + "]";
      const json& c = cats[i];
      const auto id = c.is_object() && c.contains("id") ? id_key(c["id"]) : std::nullopt;
      if (!id || !c.contains("name") || !c["name"].is_string()) {
        fail(Problem::malformed, where, "needs an id and a name");
        continue;
      }
      if (!text::is_valid_utf8(c["name"].get_ref<const std::string&>())) {
        fail(Problem::bad_encoding, where, "the name is not valid UTF-8");
        continue;
      }
      if (!categories.emplace(*id, c["name"].get<std::string>()).second) {
        fail(Problem::malformed, where, "category id " + *id + " appears twice");
      }
    }
  }

  std::vector<AnnotatedImage> images;
  std::unordered_map<std::string, std::size_t> index;
  std::unordered_set<std::string> names;
  std::unordered_set<std::string> skipped;  // ids of images reported as bad: their annotations go silently
  const json& jimages = doc["images"];
  for (std::size_t i = 0; i < jimages.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    const json& im = jimages[i];
    const auto id = im.is_object() && im.contains("id") ? id_key(im["id"]) : std::nullopt;
    if (!id) {
      fail(Problem::malformed, where, "needs a numeric or string id");
      continue;
    }
    if (index.count(*id)) {
      fail(Problem::duplicate_image, where, "image id " + *id + " appears twice");
      continue;  // not `skipped`: the annotations belong to the first image of that id
    }
    skipped.insert(*id);
    if (!im.contains("file_name") || !im["file_name"].is_string()) {
      fail(Problem::malformed, where, "needs a file_name");
      continue;
    }
    AnnotatedImage image;
    image.image = im["file_name"].get<std::string>();
    if (!text::is_valid_utf8(image.image)) {
      fail(Problem::bad_encoding, where, "file_name is not valid UTF-8");
      continue;
    }
    // Sizes written as 100.0 (some exporters) are whole numbers too; taken as unknown, they left pixel outputs
    // without a size and boxes past the image unchecked.
    const auto whole = [&](const char* key) -> int {
      if (!im.contains(key) || !im[key].is_number()) return 0;
      const double v = im[key].get<double>();
      return v >= 1 && v <= 1e6 && v == std::floor(v) ? static_cast<int>(v) : 0;
    };
    image.width = whole("width");
    image.height = whole("height");
    if (!size_or_header(image, options, fs::path(path.string() + ": " + where), 0)) continue;
    if (!names.insert(image.image).second) {
      fail(Problem::duplicate_image, where, "file_name " + image.image + " appears twice");
      continue;
    }
    skipped.erase(*id);
    index.emplace(*id, images.size());
    images.push_back(std::move(image));
  }

  const json& annotations = doc["annotations"];
  for (std::size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "]";
    const json& a = annotations[i];
    if (!a.is_object() || !a.contains("image_id") || !a.contains("category_id") || !a.contains("bbox") ||
        !a["bbox"].is_array() || a["bbox"].size() != 4) {
      fail(Problem::malformed, where, "needs image_id, category_id and a four-number bbox");
      continue;
    }
    const json& bb = a["bbox"];
    if (!bb[0].is_number() || !bb[1].is_number() || !bb[2].is_number() || !bb[3].is_number()) {
      fail(Problem::malformed, where, "bbox must hold four numbers [x, y, width, height]");
      continue;
    }
    const auto image_id = id_key(a["image_id"]);
    const auto category_id = id_key(a["category_id"]);
    if (image_id && skipped.count(*image_id)) continue;  // its image was reported already
    const auto it = image_id ? index.find(*image_id) : index.end();
    if (it == index.end()) {
      fail(Problem::malformed, where, "image_id is not the id of an image in \"images\"");
      continue;
    }
    std::string label;
    if (has_categories) {
      const auto c = category_id ? categories.find(*category_id) : categories.end();
      if (c == categories.end()) {
        fail(Problem::unknown_label, where, "category_id is not in \"categories\"");
        continue;
      }
      label = c->second;
    } else {
      label = category_id.value_or("?");
    }
    AnnotatedImage& image = images[it->second];
    LabeledBox b;
    b.label = std::move(label);
    b.box = Box::from_xywh(bb[0].get<float>(), bb[1].get<float>(), bb[2].get<float>(), bb[3].get<float>());
    b.is_group_of = a.contains("iscrowd") && a["iscrowd"].is_number() && a["iscrowd"].get<double>() != 0;
    if (a.contains("score") && a["score"].is_number()) b.confidence = a["score"].get<float>();
    // JSON has no useful line numbers: the "file" in the message carries the element instead.
    if (check_box(b, image, options, fs::path(path.string() + ": " + where), 0)) image.boxes.push_back(std::move(b));
  }
  for (AnnotatedImage& image : images) emit(image, options, sink);
}

namespace {

// Images are streamed into the output as they come; annotations go to a side file and are appended at the
// end, and the categories last, so that memory stays flat however many images there are.
class CocoWriter : public Writer {
 public:
  CocoWriter(const fs::path& output, const WriteOptions& options)
      : options_(options), classes_(class_index(options)), file_(output), annotations_(side_path(output)) {
    file_.write("{\"images\":[");
  }

  bool write(const AnnotatedImage& image) override {
    if (image.normalized || image.width <= 0 || image.height <= 0) {
      problem(options_, Problem::unknown_size, image.image, 0,
              "COCO needs the image size, which is unknown (give the images folder)");
      return false;
    }
    ++image_id_;
    std::string& s = buffer_;
    s.clear();
    if (image_id_ > 1) s += ",";
    s += "\n{\"id\":" + std::to_string(image_id_) + ",\"file_name\":";
    text::append_json_string(s, image.image);
    s += ",\"width\":" + std::to_string(image.width) + ",\"height\":" + std::to_string(image.height) + "}";
    file_.write(s);
    s.clear();
    for (const LabeledBox& b : image.boxes) {
      ++annotation_id_;
      if (annotation_id_ > 1) s += ",";
      s += "\n{\"id\":" + std::to_string(annotation_id_) + ",\"image_id\":" + std::to_string(image_id_) +
           ",\"category_id\":" + std::to_string(classes_->id(b.label) + 1) + ",\"bbox\":[";
      text::append_pixels(s, b.box.x1);
      s += ',';
      text::append_pixels(s, b.box.y1);
      s += ',';
      text::append_pixels(s, b.box.width());
      s += ',';
      text::append_pixels(s, b.box.height());
      s += "],\"area\":";
      text::append_pixels(s, b.box.area());
      s += ",\"iscrowd\":";
      s += b.is_group_of ? '1' : '0';
      s += ",\"segmentation\":[]}";
    }
    annotations_.write(s);
    return true;
  }

  void finish() override {
    file_.write("\n],\"annotations\":[");
    annotations_.flush();
    std::FILE* side = std::fopen(annotations_.temp_path().c_str(), "rb");
    if (!side) throw Error(annotations_.temp_path().string() + ": cannot read back: " + std::strerror(errno));
    std::vector<char> chunk(1 << 20);
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), side)) > 0) file_.write({chunk.data(), n});
    const bool failed = std::ferror(side) != 0;
    std::fclose(side);
    if (failed) throw Error(annotations_.temp_path().string() + ": read error");
    std::string s = "\n],\"categories\":[";
    const auto& names = classes_->names();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) s += ",";
      s += "\n{\"id\":" + std::to_string(i + 1) + ",\"name\":";
      text::append_json_string(s, names[i]);
      s += ",\"supercategory\":\"none\"}";
    }
    s += "\n]}\n";
    file_.write(s);
    file_.commit();
  }

 private:
  static fs::path side_path(const fs::path& output) {
    fs::path p = output;
    p += ".annotations";  // staged as "<output>.annotations.tmp", removed with the writer
    return p;
  }

  WriteOptions options_;
  std::shared_ptr<ClassIndex> classes_;
  StagedFile file_, annotations_;
  long image_id_ = 0, annotation_id_ = 0;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<Writer> make_coco_writer(const fs::path& output, const WriteOptions& options) {
  return std::make_unique<CocoWriter>(output, options);
}

}  // namespace roadveil::dataset::detail
