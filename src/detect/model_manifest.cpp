#include "detect/model_manifest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>

#include "core/error.hpp"

namespace roadveil::detect {

namespace {

using nlohmann::json;

// "key", quoted as in the file (built by appending: GCC 12 warns falsely about "\"" + std::string).
std::string field(const char* key) {
  std::string s(1, '"');
  s += key;
  s += '"';
  return s;
}

struct Reader {
  const std::filesystem::path& file;
  [[noreturn]] void fail(const std::string& what) const { throw Error("model manifest " + file.string() + ": " + what); }

  // Unknown keys are refused: a misspelt "treshold" silently falling back to a default would hide less.
  void only(const json& object, const std::string& where, std::initializer_list<const char*> keys) const {
    for (const auto& item : object.items()) {
      const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture one
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; })) {
        std::string message = "unknown field ";
        message += field(key.c_str());
        if (!where.empty()) message.append(" in ").append(where);
        fail(message);
      }
    }
  }
  std::string text(const json& o, const char* key, bool required) const {
    if (!o.contains(key)) {
      if (required) fail("missing " + field(key));
      return {};
    }
    if (!o[key].is_string() || o[key].get<std::string>().empty()) fail(field(key) + " must be a non-empty string");
    return o[key].get<std::string>();
  }
  double number(const json& o, const char* key, double fallback, double lo, double hi) const {
    if (!o.contains(key)) return fallback;
    if (!o[key].is_number()) fail(field(key) + " must be a number");
    const double v = o[key].get<double>();
    if (!(v >= lo && v <= hi))
      fail(field(key) + " is " + o[key].dump() + ", expected " + json(lo).dump() + " to " + json(hi).dump());
    return v;
  }
  int integer(const json& o, const char* key, int fallback, int lo, int hi) const {
    if (!o.contains(key)) return fallback;
    if (!o[key].is_number_integer()) fail(field(key) + " must be an integer");
    const auto v = o[key].get<std::int64_t>();
    if (v < lo || v > hi) fail(field(key) + " is " + std::to_string(v) + ", expected " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(v);
  }
};

OutputLayout layout_from(const Reader& r, const std::string& name) {
  if (name == "yolov8") return OutputLayout::Yolov8;
  if (name == "yolov5") return OutputLayout::Yolov5;
  if (name == "yolox") return OutputLayout::Yolox;
  if (name == "yolo-nms") return OutputLayout::YoloNms;
  if (name == "yunet") return OutputLayout::Yunet;
  if (name == "yolov9-dfl") return OutputLayout::Yolov9Dfl;
  if (name == "yolox-planar") return OutputLayout::YoloxPlanar;
  r.fail("\"layout\" is \"" + name + "\", expected one of yolov8, yolov5, yolox, yolo-nms, yunet, yolov9-dfl, yolox-planar");
}

}  // namespace

std::string_view to_string(OutputLayout layout) {
  switch (layout) {
    case OutputLayout::Yolov8: return "yolov8";
    case OutputLayout::Yolov5: return "yolov5";
    case OutputLayout::Yolox: return "yolox";
    case OutputLayout::YoloNms: return "yolo-nms";
    case OutputLayout::Yunet: return "yunet";
    case OutputLayout::Yolov9Dfl: return "yolov9-dfl";
    case OutputLayout::YoloxPlanar: return "yolox-planar";
  }
  return "?";
}

bool has_stride_outputs(OutputLayout layout) {
  return layout == OutputLayout::Yunet || layout == OutputLayout::Yolov9Dfl || layout == OutputLayout::YoloxPlanar;
}

std::vector<std::string> default_stride_outputs(OutputLayout layout) {
  if (layout == OutputLayout::Yunet) return {"cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32", "bbox_8", "bbox_16", "bbox_32"};
  if (has_stride_outputs(layout)) return {"p8", "p16", "p32"};
  return {};
}

bool ModelManifest::hides(ObjectClass cls) const {
  return std::any_of(classes.begin(), classes.end(), [&](const ManifestClass& c) { return c.hidden && c.hide_as == cls; });
}

bool ModelManifest::hides_own_class() const {
  return std::any_of(classes.begin(), classes.end(), [](const ManifestClass& c) { return c.hidden && !is_builtin(c.hide_as); });
}

float ModelManifest::lowest_threshold(ObjectClass cls) const {
  float lowest = 1.0f;
  for (const ManifestClass& c : classes)
    if (c.hidden && c.hide_as == cls) lowest = std::min(lowest, c.threshold);
  return lowest;
}

ModelManifest read_manifest(const std::filesystem::path& path) {
  const Reader r{path};
  std::ifstream in(path);
  if (!in) throw Error("model manifest " + path.string() + " cannot be read");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    r.fail(std::string("not JSON (") + e.what() + ")");
  }
  return manifest_from_json(j, path, path.parent_path());
}

ModelManifest manifest_from_json(const json& j, const std::filesystem::path& path, const std::filesystem::path& base,
                                 bool builtin) {
  const Reader r{path};
  if (!j.is_object()) r.fail("expected a JSON object");
  r.only(j, "", {"roadveil_model", "name", "file", "sha256", "source", "license", "layout", "output", "outputs", "num_classes",
                 "input", "nms_iou", "replaces_builtin", "classes"});
  if (r.integer(j, "roadveil_model", 0, 0, 1000) != 1) r.fail("\"roadveil_model\" must be 1 (the manifest format version)");

  ModelManifest m;
  m.manifest = path;
  m.name = r.text(j, "name", true);
  const std::filesystem::path file = r.text(j, "file", true);
  m.model = file.is_absolute() ? file : base / file;
  m.sha256 = r.text(j, "sha256", true);
  if (m.sha256.size() != 64 || !std::all_of(m.sha256.begin(), m.sha256.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); }))
    r.fail("\"sha256\" must be 64 lower-case hexadecimal digits (sha256sum of the ONNX file)");
  m.source = r.text(j, "source", true);
  m.license = r.text(j, "license", false);
  m.layout = layout_from(r, r.text(j, "layout", true));
  m.output = r.text(j, "output", false);
  m.num_classes = r.integer(j, "num_classes", 0, 1, 10000);
  if (!j.contains("num_classes")) r.fail("missing \"num_classes\" (how many classes the network outputs)");
  if ((m.layout == OutputLayout::Yunet || m.layout == OutputLayout::Yolov9Dfl) && m.num_classes != 1)
    r.fail("layout " + std::string(to_string(m.layout)) + " has one class: \"num_classes\" must be 1");
  if (has_stride_outputs(m.layout)) {
    if (j.contains("output")) r.fail("layout " + std::string(to_string(m.layout)) + " has one output per stride: name them in \"outputs\", not \"output\"");
    m.outputs = default_stride_outputs(m.layout);
    if (j.contains("outputs")) {
      const json& names = j["outputs"];
      if (!names.is_array() || names.size() != m.outputs.size() ||
          !std::all_of(names.begin(), names.end(), [](const json& n) { return n.is_string() && !n.get<std::string>().empty(); }))
        r.fail("\"outputs\" must list " + std::to_string(m.outputs.size()) + " output names for layout " +
               std::string(to_string(m.layout)) + " (default: " + fmt::format("{}", fmt::join(m.outputs, ", ")) + ")");
      for (size_t i = 0; i < names.size(); ++i) m.outputs[i] = names[i].get<std::string>();
    }
  } else if (j.contains("outputs")) {
    r.fail("\"outputs\" is for the raw-head layouts (yunet, yolov9-dfl, yolox-planar); layout " +
           std::string(to_string(m.layout)) + " has one output: \"output\"");
  }
  m.nms_iou = static_cast<float>(r.number(j, "nms_iou", 0.45, 0.05, 1.0));
  if (j.contains("replaces_builtin")) {
    if (!j["replaces_builtin"].is_boolean()) r.fail("\"replaces_builtin\" must be true or false");
    m.replaces_builtin = j["replaces_builtin"].get<bool>();
  }

  if (!j.contains("input") || !j["input"].is_object()) r.fail("missing \"input\" (an object: channels, scale, size or multiple_of)");
  const json& input = j["input"];
  r.only(input, "\"input\"", {"channels", "scale", "pad", "size", "multiple_of", "max_side", "max_upscale"});
  const std::string channels = r.text(input, "channels", true);
  if (channels != "rgb" && channels != "bgr") r.fail("\"input.channels\" is \"" + channels + "\", expected rgb or bgr");
  m.format.order = channels == "rgb" ? ChannelOrder::RGB : ChannelOrder::BGR;
  m.format.scale = static_cast<float>(r.number(input, "scale", 1.0 / 255.0, 1e-6, 1.0));
  m.format.pad_value = static_cast<float>(r.number(input, "pad", 114, 0, 255) * r.number(input, "scale", 1.0 / 255.0, 1e-6, 1.0));
  m.max_upscale = static_cast<float>(r.number(input, "max_upscale", 2.0, 1.0, 4.0));
  if (input.contains("size") == input.contains("multiple_of"))
    r.fail("\"input\" needs exactly one of \"size\" ([width, height] of a fixed-size export) and \"multiple_of\" (a dynamic one)");
  if (input.contains("size")) {
    const json& size = input["size"];
    // As int64: 4294967328 read as int wrapped to 32 and passed.
    if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer() ||
        size[0].get<std::int64_t>() < 32 || size[1].get<std::int64_t>() < 32 || size[0].get<std::int64_t>() > 8192 ||
        size[1].get<std::int64_t>() > 8192)
      r.fail("\"input.size\" must be [width, height], 32 to 8192 pixels each");
    m.fixed_width = size[0].get<int>();
    m.fixed_height = size[1].get<int>();
    m.max_side = std::max(m.fixed_width, m.fixed_height);
    m.format.align = 1;
  } else {
    m.format.align = r.integer(input, "multiple_of", 32, 1, 256);
    m.max_side = r.integer(input, "max_side", 1280, 64, 8192);
  }

  if (!j.contains("classes") || !j["classes"].is_array() || j["classes"].empty())
    r.fail("missing \"classes\" (a list of {id, name, hide_as, threshold[, style, shape, padding]})");
  std::set<int> ids;
  for (const json& c : j["classes"]) {
    if (!c.is_object()) r.fail("each entry of \"classes\" must be an object");
    r.only(c, "a class", {"id", "name", "hide_as", "threshold", "style", "shape", "padding"});
    ManifestClass mc;
    if (!c.contains("id")) r.fail("a class has no \"id\"");
    mc.id = r.integer(c, "id", 0, 0, m.num_classes - 1);
    if (!ids.insert(mc.id).second) r.fail("class id " + std::to_string(mc.id) + " is listed twice");
    mc.name = r.text(c, "name", true);
    const std::string hide = r.text(c, "hide_as", true);
    if (builtin && hide == "none") {
      mc.hidden = false;
    } else if (hide == "none") {
      r.fail("class \"" + mc.name + "\": \"hide_as\" is \"none\": expected face, plate or a name of your own (\"none\" is for the "
             "built-in networks' region policy; leave a class you do not want hidden out of \"classes\")");
    } else {
      try {
        mc.hide_as = intern_object_class(hide);  // face, plate, or a class of one's own ("screen")
      } catch (const Error& e) {
        r.fail("class \"" + mc.name + "\": \"hide_as\" is \"" + hide + "\": expected face, plate or a name of your own (" +
               e.what() + ")");
      }
    }
    const bool own_class = mc.hidden && !is_builtin(mc.hide_as);
    if (!own_class && (c.contains("style") || c.contains("shape") || c.contains("padding")))
      r.fail("class \"" + mc.name + "\": \"style\", \"shape\" and \"padding\" are for classes of your own; faces and plates "
             "are hidden as --style, --face-shape and --padding say");
    if (own_class) {
      mc.style = r.text(c, "style", false);
      if (!mc.style.empty() && mc.style != "mosaic" && mc.style != "blur" && mc.style != "fill")
        r.fail("class \"" + mc.name + "\": \"style\" is \"" + mc.style + "\", expected mosaic, blur or fill");
      mc.shape = c.contains("shape") ? r.text(c, "shape", true) : "box";
      if (mc.shape != "box" && mc.shape != "ellipse")
        r.fail("class \"" + mc.name + "\": \"shape\" is \"" + mc.shape + "\", expected box or ellipse");
      mc.padding = static_cast<float>(r.number(c, "padding", mc.padding, 0.0, 2.0));
    }
    if (!c.contains("threshold") && !builtin) r.fail("class \"" + mc.name + "\" has no \"threshold\"");
    mc.threshold = static_cast<float>(r.number(c, "threshold", 0.5, 0.01, 0.99));
    m.classes.push_back(mc);
  }
  return m;
}

}  // namespace roadveil::detect
