// COCO object detection JSON: "images" (id, file_name, width, height), "annotations" (image_id, category_id,
// bbox [x, y, w, h] in pixels, iscrowd, optional score) and "categories" (id, name). JSON has no line numbers
// worth quoting, so messages point at the element instead ("annotations[17]").
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <optional>
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

// Parses a JSON document as a stream, handing `take(member, element, index)` each whole element of each
// top-level array ("images", "annotations", "categories"), which is then dropped from the parser's document:
// memory holds one element at a time, not the document (a 79 MB COCO file took 569 MB as a document).
// Returns the names of the top-level members that are arrays. Parse errors throw as json::parse throws them.
std::unordered_set<std::string> stream_top_level_arrays(std::istream& in,
                                                        const std::function<void(const std::string&, const json&, std::size_t)>& take) {
  std::unordered_set<std::string> arrays;
  std::string member;         // the top-level member being read
  bool member_array = false;  // ... and it is an array
  std::size_t element = 0;    // the index of the next element of that array
  // Depth 1 is the top-level object's members, depth 2 the elements of its arrays.
  const auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    using E = json::parse_event_t;
    if (depth == 1) {
      if (event == E::key) {
        member = parsed.get<std::string>();
        member_array = false;
      } else if (event == E::array_start) {
        member_array = true;
        element = 0;
        arrays.insert(member);
      }
      return true;
    }
    if (depth == 2 && member_array && (event == E::object_end || event == E::array_end || event == E::value)) {
      take(member, parsed, element++);
      return false;
    }
    return true;
  };
  const json rest = json::parse(in, callback);  // the top-level members, their arrays emptied
  (void)rest;
  return arrays;
}

}  // namespace

std::vector<std::string> coco_declared_classes(const fs::path& path) {
  // Only "categories", streamed as read_coco streams the file (the rest is skipped element by element).
  std::vector<std::pair<json, std::string>> declared;  // id, name
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    stream_top_level_arrays(in, [&](const std::string& member, const json& c, std::size_t) {
      // As read_coco takes a category (an id that is a whole number or a string, a name): one it reports as
      // malformed numbers no class either.
      if (member == "categories" && c.is_object() && c.contains("id") && id_key(c["id"]) && c.contains("name") && c["name"].is_string())
        declared.emplace_back(c["id"], c["name"].get<std::string>());
    });
  } catch (const json::exception&) {
    return {};  // read_coco says what is wrong with the file
  }
  // In id order (numbers as numbers): the numbering a model trained on the file uses.
  std::stable_sort(declared.begin(), declared.end(), [](const auto& a, const auto& b) {
    if (a.first.is_number() && b.first.is_number()) return a.first.template get<double>() < b.first.template get<double>();
    return a.first.is_number() && !b.first.is_number();
  });
  std::vector<std::string> names;
  for (auto& [id, name] : declared)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  return names;
}

void read_coco(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  auto fail = [&](Problem kind, const std::string& where, const std::string& what) {
    problem(options, kind, path, 0, where + ": " + what);
  };

  // The file is parsed as a stream (stream_top_level_arrays): memory holds the images read and a compact record
  // per annotation, not the whole document. Annotations are resolved at the end: "categories" often comes last.
  std::unordered_map<std::string, std::string> categories;
  bool has_categories = false, has_images = false, has_annotations = false;
  std::vector<AnnotatedImage> images;
  std::unordered_map<std::string, std::size_t> index;
  std::unordered_set<std::string> names;
  std::unordered_set<std::string> skipped;  // ids of images reported as bad: their annotations go silently
  // ~100 bytes each (ids of up to 15 characters need no allocation of their own); a deque grows without
  // copying what it holds.
  struct Annotation {
    std::size_t element = 0;  // its place in "annotations", for messages
    std::string image_id, category_id;
    float x = 0, y = 0, w = 0, h = 0, score = 0;
    bool has_image_id = false, has_category_id = false, crowd = false, has_score = false;
    const char* malformed = nullptr;  // why it cannot be read
  };
  std::deque<Annotation> annotations;

  auto take_category = [&](const json& c, std::size_t i) {
    const std::string where = "categories[" + std::to_string(i) + "]";
    const auto id = c.is_object() && c.contains("id") ? id_key(c["id"]) : std::nullopt;
    if (!id || !c.contains("name") || !c["name"].is_string()) {
      fail(Problem::malformed, where, "needs an id and a name");
      return;
    }
    if (!text::is_valid_utf8(c["name"].get_ref<const std::string&>())) {
      fail(Problem::bad_encoding, where, "the name is not valid UTF-8");
      return;
    }
    if (!categories.emplace(*id, c["name"].get<std::string>()).second) {
      fail(Problem::malformed, where, "category id " + *id + " appears twice");
    }
  };
  auto take_image = [&](const json& im, std::size_t i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    const auto id = im.is_object() && im.contains("id") ? id_key(im["id"]) : std::nullopt;
    if (!id) {
      fail(Problem::malformed, where, "needs a numeric or string id");
      return;
    }
    if (index.count(*id)) {
      fail(Problem::duplicate_image, where, "image id " + *id + " appears twice");
      return;  // not `skipped`: the annotations belong to the first image of that id
    }
    skipped.insert(*id);
    if (!im.contains("file_name") || !im["file_name"].is_string()) {
      fail(Problem::malformed, where, "needs a file_name");
      return;
    }
    AnnotatedImage image;
    image.image = im["file_name"].get<std::string>();
    if (!text::is_valid_utf8(image.image)) {
      fail(Problem::bad_encoding, where, "file_name is not valid UTF-8");
      return;
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
    if (!size_or_header(image, options, fs::path(path.string() + ": " + where), 0)) return;
    if (!names.insert(image.image).second) {
      fail(Problem::duplicate_image, where, "file_name " + image.image + " appears twice");
      return;
    }
    skipped.erase(*id);
    index.emplace(*id, images.size());
    images.push_back(std::move(image));
  };
  auto take_annotation = [&](const json& a, std::size_t i) {
    Annotation& r = annotations.emplace_back();
    r.element = i;
    if (!a.is_object() || !a.contains("image_id") || !a.contains("category_id") || !a.contains("bbox") ||
        !a["bbox"].is_array() || a["bbox"].size() != 4) {
      r.malformed = "needs image_id, category_id and a four-number bbox";
    } else if (const json& bb = a["bbox"]; !bb[0].is_number() || !bb[1].is_number() || !bb[2].is_number() || !bb[3].is_number()) {
      r.malformed = "bbox must hold four numbers [x, y, width, height]";
    } else {
      if (auto id = id_key(a["image_id"])) {
        r.image_id = std::move(*id);
        r.has_image_id = true;
      }
      if (auto id = id_key(a["category_id"])) {
        r.category_id = std::move(*id);
        r.has_category_id = true;
      }
      r.x = bb[0].get<float>();
      r.y = bb[1].get<float>();
      r.w = bb[2].get<float>();
      r.h = bb[3].get<float>();
      r.crowd = a.contains("iscrowd") && a["iscrowd"].is_number() && a["iscrowd"].get<double>() != 0;
      if (a.contains("score") && a["score"].is_number()) {
        r.score = a["score"].get<float>();
        r.has_score = true;
      }
    }
  };

  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open");
    const auto arrays = stream_top_level_arrays(in, [&](const std::string& member, const json& element, std::size_t i) {
      if (member == "images") take_image(element, i);
      else if (member == "annotations") take_annotation(element, i);
      else if (member == "categories") take_category(element, i);
    });
    has_images = arrays.count("images") > 0;
    has_annotations = arrays.count("annotations") > 0;
    has_categories = arrays.count("categories") > 0;
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
  if (!has_images || !has_annotations) {
    throw Error(path.string() + ": not a COCO detection file (needs \"images\" and \"annotations\" arrays)");
  }

  for (const Annotation& a : annotations) {
    const std::string where = "annotations[" + std::to_string(a.element) + "]";
    if (a.malformed) {
      fail(Problem::malformed, where, a.malformed);
      continue;
    }
    if (a.has_image_id && skipped.count(a.image_id)) continue;  // its image was reported already
    const auto it = a.has_image_id ? index.find(a.image_id) : index.end();
    if (it == index.end()) {
      fail(Problem::malformed, where, "image_id is not the id of an image in \"images\"");
      continue;
    }
    std::string label;
    if (has_categories) {
      const auto c = a.has_category_id ? categories.find(a.category_id) : categories.end();
      if (c == categories.end()) {
        fail(Problem::unknown_label, where, "category_id is not in \"categories\"");
        continue;
      }
      label = c->second;
    } else {
      label = a.has_category_id ? a.category_id : "?";
    }
    AnnotatedImage& image = images[it->second];
    LabeledBox b;
    b.label = std::move(label);
    b.box = Box::from_xywh(a.x, a.y, a.w, a.h);
    b.is_group_of = a.crowd;
    if (a.has_score) b.confidence = a.score;
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
    // Two images of one file_name (a manifest's cam1/0001.jpg and cam2/0001.jpg, both read as 0001.jpg) were
    // written as two entries, which every COCO reader, roadveil's included, refuses or merges.
    if (!names_.insert(image.image)) {
      problem(options_, Problem::duplicate_image, image.image, 0,
              "a second image named " + image.image + ": a COCO file names each image once (images of one name in "
              "different folders: give the manifest's --image-uri-prefix to keep their folders)");
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
  text::SeenSet names_;
};

}  // namespace

std::unique_ptr<Writer> make_coco_writer(const fs::path& output, const WriteOptions& options) {
  return std::make_unique<CocoWriter>(output, options);
}

}  // namespace roadveil::dataset::detail
