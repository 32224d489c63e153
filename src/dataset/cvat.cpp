// CVAT for images 1.1 XML (CVAT's "CVAT for images" export): one file, <annotations> with an
// <image id name width height> per image holding <box label xtl ytl xbr ybr occluded> elements (polygons,
// points and other shapes are not boxes and are skipped). "CVAT for video" (<track>s over frames) is the video
// ground truth of `roadveil eval`, not a set of images.
#include <cmath>

#include "core/error.hpp"
#include "dataset/detail.hpp"
#include "dataset/xml.hpp"

namespace roadveil::dataset::detail {

namespace {
std::string_view attribute(const xml::Element& e, std::string_view name) {
  for (const auto& [key, value] : e.attributes)
    if (key == name) return value;
  return {};
}
}  // namespace

void read_cvat(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
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
  text::SeenSet seen;
  AnnotatedImage image;
  for (const xml::Element& e : root.children) {
    if (e.name != "image") continue;
    image = AnnotatedImage{};
    image.image = std::string(attribute(e, "name"));
    if (image.image.empty()) {
      problem(options, Problem::malformed, path, e.line, "<image> without a name");
      continue;
    }
    if (!check_utf8(image.image, "<image name>", options, path, e.line)) continue;
    const auto w = text::parse_double(attribute(e, "width"));
    const auto h = text::parse_double(attribute(e, "height"));
    image.width = w && *w > 0 ? static_cast<int>(std::lround(*w)) : 0;
    image.height = h && *h > 0 ? static_cast<int>(std::lround(*h)) : 0;
    if (image.width <= 0 || image.height <= 0) {
      image.width = image.height = 0;
      if (!options.images_dir.empty() && !size_from_header(image, options.images_dir, true, options, path, e.line)) continue;
    } else if (!check_image_present(image, options, path, e.line)) {
      continue;
    }
    if (!seen.insert(image.image)) {
      problem(options, Problem::duplicate_image, path, e.line, "a second <image> named " + image.image);
      continue;
    }
    for (const xml::Element& box : e.children) {
      if (box.name != "box") continue;
      const std::string_view label = attribute(box, "label");
      const auto x1 = text::parse_double(attribute(box, "xtl")), y1 = text::parse_double(attribute(box, "ytl"));
      const auto x2 = text::parse_double(attribute(box, "xbr")), y2 = text::parse_double(attribute(box, "ybr"));
      if (label.empty() || !x1 || !y1 || !x2 || !y2) {
        problem(options, Problem::malformed, path, box.line, "<box> needs a label and numeric xtl, ytl, xbr and ybr");
        continue;
      }
      LabeledBox b;
      b.label = std::string(label);
      b.box = {static_cast<float>(*x1), static_cast<float>(*y1), static_cast<float>(*x2), static_cast<float>(*y2)};
      b.is_occluded = attribute(box, "occluded") == "1";
      if (check_box(b, image, options, path, box.line)) image.boxes.push_back(std::move(b));
    }
    emit(image, options, sink);
  }
}

}  // namespace roadveil::dataset::detail
