// Pascal VOC XML: one <annotation> per image with <filename>, <size> and <object>s (name, truncated,
// occluded, difficult, bndbox with xmin/ymin/xmax/ymax, integer or float pixels).
#include <cmath>

#include "core/error.hpp"
#include "dataset/detail.hpp"
#include "dataset/xml.hpp"

namespace roadveil::dataset::detail {

void read_voc(const fs::path& path, const ReadOptions& options, const ImageSink& sink) {
  text::SeenSet seen;
  AnnotatedImage image;
  for (const fs::path& file : list_files(path, ".xml")) {
    xml::Element root;
    try {
      root = xml::parse(text::read_file(file));
    } catch (const xml::ParseError& e) {
      problem(options, Problem::malformed, file, e.line, "not well-formed XML: " + e.message);
      continue;
    }
    if (root.name != "annotation") {
      problem(options, Problem::malformed, file, root.line, "the root element is <" + root.name + ">, not <annotation>");
      continue;
    }
    image = AnnotatedImage{};
    std::string filename(root.child_text("filename"));
    if (filename.empty()) filename = file.stem().string() + ".jpg";
    image.image = (relative_folder(file, path) / filename).generic_string();
    if (!check_utf8(image.image, "<filename>", options, file, root.line)) continue;

    if (const xml::Element* size = root.child("size")) {
      const auto w = text::parse_double(size->child_text("width"));
      const auto h = text::parse_double(size->child_text("height"));
      const auto d = text::parse_double(size->child_text("depth"));
      if ((w && *w < 0) || (h && *h < 0) || (!w && !size->child_text("width").empty()) ||
          (!h && !size->child_text("height").empty())) {
        problem(options, Problem::malformed, file, size->line, "<size> width and height must be non-negative numbers");
        continue;
      }
      image.width = w ? static_cast<int>(std::lround(*w)) : 0;
      image.height = h ? static_cast<int>(std::lround(*h)) : 0;
      image.depth = d ? static_cast<int>(std::lround(*d)) : 0;
    }
    if (!size_or_header(image, options, file, root.line)) continue;
    if (!seen.insert(image.image)) {
      problem(options, Problem::duplicate_image, file, root.line, "a second annotation file for image " + image.image);
      continue;
    }

    for (const xml::Element& object : root.children) {
      if (object.name != "object") continue;
      const std::string_view name = object.child_text("name");
      const xml::Element* bndbox = object.child("bndbox");
      if (name.empty() || !bndbox) {
        problem(options, Problem::malformed, file, object.line, "<object> needs <name> and <bndbox>");
        continue;
      }
      const auto x1 = text::parse_double(bndbox->child_text("xmin"));
      const auto y1 = text::parse_double(bndbox->child_text("ymin"));
      const auto x2 = text::parse_double(bndbox->child_text("xmax"));
      const auto y2 = text::parse_double(bndbox->child_text("ymax"));
      if (!x1 || !y1 || !x2 || !y2) {
        problem(options, Problem::malformed, file, bndbox->line, "<bndbox> needs numeric xmin, ymin, xmax and ymax");
        continue;
      }
      LabeledBox b;
      b.label = std::string(name);
      b.box = {static_cast<float>(*x1), static_cast<float>(*y1), static_cast<float>(*x2), static_cast<float>(*y2)};
      auto flag = [&](std::string_view tag) {
        const auto v = text::parse_double(object.child_text(tag));
        return v && *v != 0;
      };
      b.is_truncated = flag("truncated");
      b.is_occluded = flag("occluded");
      b.is_difficult = flag("difficult");
      if (check_box(b, image, options, file, object.line)) image.boxes.push_back(std::move(b));
    }
    emit(image, options, sink);
  }
}

namespace {

class VocWriter : public PerImageFileWriter {
 public:
  VocWriter(const fs::path& output, const WriteOptions& options)
      : PerImageFileWriter(output, options, ".xml", "Pascal VOC", /*pixels_required=*/true, /*size_required=*/true) {}

 private:
  void format(const AnnotatedImage& image, std::string& s) override {
    const std::string filename = fs::path(image.image).filename().string();
    s += "<annotation>\n\t<folder>images</folder>\n\t<filename>";
    xml::append_escaped(s, filename);
    s += "</filename>\n\t<size>\n\t\t<width>" + std::to_string(image.width) + "</width>\n\t\t<height>" +
         std::to_string(image.height) + "</height>\n\t\t<depth>" + std::to_string(image.depth > 0 ? image.depth : 3) +
         "</depth>\n\t</size>\n\t<segmented>0</segmented>\n";
    for (const LabeledBox& b : image.boxes) {
      s += "\t<object>\n\t\t<name>";
      xml::append_escaped(s, b.label);
      s += "</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>";
      s += b.is_truncated ? '1' : '0';
      s += "</truncated>\n\t\t<occluded>";
      s += b.is_occluded ? '1' : '0';
      s += "</occluded>\n\t\t<difficult>";
      s += b.is_difficult ? '1' : '0';
      s += "</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>";
      text::append_pixels(s, b.box.x1);
      s += "</xmin>\n\t\t\t<ymin>";
      text::append_pixels(s, b.box.y1);
      s += "</ymin>\n\t\t\t<xmax>";
      text::append_pixels(s, b.box.x2);
      s += "</xmax>\n\t\t\t<ymax>";
      text::append_pixels(s, b.box.y2);
      s += "</ymax>\n\t\t</bndbox>\n\t</object>\n";
    }
    s += "</annotation>\n";
  }
};

}  // namespace

std::unique_ptr<Writer> make_voc_writer(const fs::path& output, const WriteOptions& options) {
  return std::make_unique<VocWriter>(output, options);
}

}  // namespace roadveil::dataset::detail
