// CVAT for images 1.1 XML (CVAT's "CVAT for images" export): one file, <annotations> with an
// <image id name width height> per image holding <box label xtl ytl xbr ybr occluded> elements; every other
// shape (ellipse, polygon, polyline, points, mask, cuboid, skeleton) is read as the box around it. "CVAT for
// video" (<track>s over frames) is the video ground truth of `roadveil eval`, not a set of images.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "dataset/cvat.hpp"
#include "dataset/detail.hpp"
#include "dataset/xml.hpp"

namespace roadveil::dataset {

// The box around a shape, in pixels; nullopt when its coordinates are not numbers. A face drawn as an ellipse or
// a polygon is still a face: leaving it out would export the image with that face as background.
std::optional<Box> cvat_shape_bounds(const xml::Element& shape) {
  auto num = [&](std::string_view key) { return text::parse_double(shape.attribute(key)); };
  if (shape.name == "box") {
    const auto x1 = num("xtl"), y1 = num("ytl"), x2 = num("xbr"), y2 = num("ybr");
    if (!x1 || !y1 || !x2 || !y2) return std::nullopt;
    Box b{static_cast<float>(*x1), static_cast<float>(*y1), static_cast<float>(*x2), static_cast<float>(*y2)};
    // A rotated box (rotation="30", degrees about its centre): the upright box around it.
    if (const auto deg = num("rotation"); deg && *deg != 0) {
      const double a = *deg * 3.14159265358979323846 / 180.0, c = std::abs(std::cos(a)), s = std::abs(std::sin(a));
      const double w = b.width(), h = b.height();
      const float hw = static_cast<float>(0.5 * (w * c + h * s)), hh = static_cast<float>(0.5 * (w * s + h * c));
      b = {b.cx() - hw, b.cy() - hh, b.cx() + hw, b.cy() + hh};
    }
    return b;
  }
  if (shape.name == "mask") {
    // A brush mask: its run-length data covers width x height pixels from (left, top).
    const auto left = num("left"), top = num("top"), w = num("width"), h = num("height");
    if (!left || !top || !w || !h) return std::nullopt;
    return Box{static_cast<float>(*left), static_cast<float>(*top), static_cast<float>(*left + *w), static_cast<float>(*top + *h)};
  }
  if (shape.name == "cuboid") {
    // Eight corners: xtl1, ytl1, xbl1, ... xbr2, ybr2.
    std::optional<Box> b;
    for (const auto& [key, value] : shape.attributes) {
      if (key.size() < 3 || (key[0] != 'x') || !std::isdigit(static_cast<unsigned char>(key.back()))) continue;
      std::string y_key = key;  // xtl1 -> ytl1
      y_key[0] = 'y';
      const auto x = text::parse_double(value), y = num(y_key);
      if (!x || !y) return std::nullopt;
      const Box corner{static_cast<float>(*x), static_cast<float>(*y), static_cast<float>(*x), static_cast<float>(*y)};
      b = b ? bounding_union(*b, corner) : corner;
    }
    return b;
  }
  if (shape.name == "skeleton") {
    // Its keypoints are <points> children.
    std::optional<Box> b;
    for (const xml::Element& point : shape.children) {
      if (point.name != "points" || point.attribute("outside") == "1") continue;
      const std::optional<Box> p = cvat_shape_bounds(point);
      if (!p) return std::nullopt;
      b = b ? bounding_union(*b, *p) : p;
    }
    return b;
  }
  if (shape.name == "ellipse") {
    const auto cx = num("cx"), cy = num("cy"), rx = num("rx"), ry = num("ry");
    if (!cx || !cy || !rx || !ry) return std::nullopt;
    return Box{static_cast<float>(*cx - *rx), static_cast<float>(*cy - *ry), static_cast<float>(*cx + *rx),
               static_cast<float>(*cy + *ry)};
  }
  // polygon, polyline, points: "x1,y1;x2,y2;..."
  const std::string_view points = shape.attribute("points");
  std::optional<Box> b;
  std::size_t start = 0;
  while (start < points.size()) {
    std::size_t end = points.find(';', start);
    if (end == std::string_view::npos) end = points.size();
    const std::string_view pair = points.substr(start, end - start);
    const std::size_t comma = pair.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    const auto x = text::parse_double(text::trim(pair.substr(0, comma))), y = text::parse_double(text::trim(pair.substr(comma + 1)));
    if (!x || !y) return std::nullopt;
    const Box point{static_cast<float>(*x), static_cast<float>(*y), static_cast<float>(*x), static_cast<float>(*y)};
    b = b ? bounding_union(*b, point) : point;
    start = end + 1;
  }
  return b;
}

namespace detail {

void read_cvat(const fs::path& given, const ReadOptions& options, const ImageSink& sink) {
  // An unzipped CVAT export: the folder holds annotations.xml (and images/).
  std::error_code ec;
  const fs::path path = fs::is_directory(given, ec) ? given / "annotations.xml" : given;
  xml::Element root;
  try {
    root = xml::parse(text::read_file(path));
  } catch (const xml::ParseError& e) {
    problem(options, Problem::malformed, path, e.line, "not well-formed XML: " + e.message);
    return;
  }
  if (root.name != "annotations") {
    problem(options, Problem::malformed, path, root.line, "the root element is <" + root.name + ">, not CVAT's <annotations>");
    return;
  }
  bool any_image = false, any_track = false;
  for (const xml::Element& e : root.children) {
    any_image = any_image || e.name == "image";
    any_track = any_track || e.name == "track";
  }
  if (!any_image && any_track)
    throw Error(path.string() + ": a CVAT for video export (tracks over frames): give it to roadveil eval as the ground "
                "truth of its video, or export the task as \"CVAT for images\"");
  if (!any_image) {
    problem(options, Problem::malformed, path, root.line, "<annotations> holds no <image>: not a CVAT for images export");
    return;
  }
  text::SeenSet seen;
  AnnotatedImage image;
  for (const xml::Element& e : root.children) {
    if (e.name != "image") continue;
    image = AnnotatedImage{};
    image.image = std::string(e.attribute("name"));
    if (image.image.empty()) {
      problem(options, Problem::malformed, path, e.line, "<image> without a name");
      continue;
    }
    if (!check_utf8(image.image, "<image name>", options, path, e.line)) continue;
    const auto w = text::parse_double(e.attribute("width"));
    const auto h = text::parse_double(e.attribute("height"));
    if ((w && *w < 0) || (h && *h < 0) || (!w && !e.attribute("width").empty()) || (!h && !e.attribute("height").empty())) {
      problem(options, Problem::malformed, path, e.line, "<image> width and height must be non-negative numbers");
      continue;
    }
    image.width = w && *w > 0 ? static_cast<int>(std::lround(*w)) : 0;
    image.height = h && *h > 0 ? static_cast<int>(std::lround(*h)) : 0;
    if (!size_or_header(image, options, path, e.line)) continue;
    if (!seen.insert(image.image)) {
      problem(options, Problem::duplicate_image, path, e.line, "a second <image> named " + image.image);
      continue;
    }
    for (const xml::Element& box : e.children) {
      // Every shape CVAT draws (a face painted as a mask is a face too: left out, the image went out with it as
      // background); <tag> elements label the whole image and are no boxes.
      static constexpr std::string_view kShapes[] = {"box", "ellipse", "polygon", "polyline", "points", "mask", "cuboid", "skeleton"};
      if (std::find(std::begin(kShapes), std::end(kShapes), box.name) == std::end(kShapes)) continue;
      const std::string_view label = box.attribute("label");
      const std::optional<Box> around = cvat_shape_bounds(box);
      if (label.empty() || !around) {
        problem(options, Problem::malformed, path, box.line,
                "<" + box.name + "> needs a label and numeric coordinates (box: xtl, ytl, xbr, ybr; ellipse: cx, cy, rx, ry; "
                "mask: left, top, width, height; cuboid: its eight corners; skeleton: its points; others: points=\"x,y;x,y\")");
        continue;
      }
      LabeledBox b;
      b.label = std::string(label);
      b.box = *around;
      b.is_occluded = box.attribute("occluded") == "1";
      if (check_box(b, image, options, path, box.line)) image.boxes.push_back(std::move(b));
    }
    emit(image, options, sink);
  }
}

}  // namespace detail
}  // namespace roadveil::dataset
