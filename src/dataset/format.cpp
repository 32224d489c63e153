#include "dataset/format.hpp"

#include <array>
#include <fstream>
#include <vector>

#include "dataset/text.hpp"

namespace roadveil::dataset {
namespace fs = std::filesystem;

namespace {

struct FormatName {
  Format format;
  std::string_view name;
};
constexpr std::array<FormatName, 8> kNames = {{
    {Format::openimages, "openimages"},
    {Format::oid_txt, "oid-txt"},
    {Format::gt_manifest, "gt-manifest"},
    {Format::voc, "voc"},
    {Format::yolo, "yolo"},
    {Format::coco, "coco"},
    {Format::openalpr, "openalpr"},
    {Format::cvat, "cvat"},
}};

// An XML file is CVAT's export when its root element is <annotations> (Pascal VOC's is <annotation>, one per
// image): the first element after the declaration, comments and doctype.
bool is_cvat_xml(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t at = 0;
  while ((at = head.find('<', at)) != std::string::npos) {
    if (head.compare(at, 4, "<!--") == 0) {
      at = head.find("-->", at);
      if (at == std::string::npos) return false;
      continue;
    }
    if (head.compare(at, 2, "<?") == 0 || head.compare(at, 2, "<!") == 0) {
      ++at;
      continue;
    }
    const std::size_t end = head.find_first_of(" \t\r\n/>", at + 1);
    return end != std::string::npos && head.compare(at + 1, end - at - 1, "annotations") == 0;
  }
  return false;
}

bool is_number(std::string_view s) { return text::parse_double(s).has_value(); }

// What a text annotation line looks like: OpenALPR (tabs, 6 fields), YOLO (class + 4 numbers in 0..1, maybe a
// confidence), or OIDv4 (a class name that is not a number, then 4 pixel numbers).
std::optional<Format> sniff_txt_line(std::string_view line) {
  line = text::trim(line);
  if (line.empty()) return std::nullopt;
  if (line.find('\t') != std::string_view::npos) {
    std::vector<std::string_view> fields;
    text::split_on(line, '\t', fields);
    if ((fields.size() == 5 || fields.size() == 6) && is_number(fields[1]) && is_number(fields[2]) &&
        is_number(fields[3]) && is_number(fields[4]) && !is_number(fields[0])) {
      return Format::openalpr;
    }
  }
  std::vector<std::string_view> tokens;
  text::split_blanks(line, tokens);
  if (tokens.size() < 5) return std::nullopt;
  const std::size_t n = tokens.size();
  for (std::size_t i = n - 4; i < n; ++i) {
    if (!is_number(tokens[i])) {
      return std::nullopt;
    }
  }
  if ((n == 5 || n == 6) && text::parse_int(tokens[0])) {
    bool unit = true;
    for (std::size_t i = 1; i < n; ++i) {
      const double v = *text::parse_double(tokens[i]);
      unit = unit && v >= 0 && v <= 1;
    }
    if (unit) return Format::yolo;
  }
  if (!is_number(tokens[0])) return Format::oid_txt;
  return std::nullopt;
}

std::optional<Format> sniff_txt_file(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  for (int i = 0; i < 20 && std::getline(in, line); ++i) {
    if (auto f = sniff_txt_line(line)) return f;
  }
  return std::nullopt;
}

bool is_classes_file(const fs::path& p) {
  const std::string name = text::lower(p.filename().string());
  return name == "classes.txt" || name == "obj.names" || name == "data.names";
}

std::optional<Format> detect_folder(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "annotations.xml", ec) && is_cvat_xml(dir / "annotations.xml")) return Format::cvat;
  if (fs::is_directory(dir / "labels", ec)) return Format::yolo;
  if (fs::is_directory(dir / "Label", ec)) return Format::oid_txt;
  std::size_t looked = 0;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path& p = it->path();
    const std::string ext = text::lower(p.extension().string());
    if (ext == ".xml") return Format::voc;
    if (ext == ".txt" && !is_classes_file(p)) {
      if (p.parent_path().filename() == "Label") return Format::oid_txt;
      if (auto f = sniff_txt_file(p)) return f;
    }
    if (++looked > 200) break;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& [format, n] : kNames) {
    if (n == name) return format;
  }
  return std::nullopt;
}

std::string_view format_name(Format format) {
  for (const auto& [f, n] : kNames) {
    if (f == format) return n;
  }
  return "?";
}

std::string format_choices() {
  std::string s;
  for (const auto& [f, n] : kNames) {
    if (!s.empty()) s += '|';
    s += n;
  }
  return s;
}

bool can_write(Format format) { return format != Format::openimages && format != Format::oid_txt && format != Format::cvat; }

bool is_folder_format(Format format) {
  return format == Format::voc || format == Format::yolo || format == Format::openalpr || format == Format::oid_txt;
}

bool writes_normalized(Format format) { return format == Format::yolo; }

std::optional<Format> detect_format(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return detect_folder(path);
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const std::string ext = text::lower(path.extension().string());
  if (ext == ".manifest" || ext == ".jsonl") return Format::gt_manifest;
  if (ext == ".csv") return Format::openimages;
  if (ext == ".xml") return is_cvat_xml(path) ? Format::cvat : Format::voc;
  if (ext == ".txt") return sniff_txt_file(path);
  if (ext == ".json") {
    // A JSON Lines manifest saved as .json starts with a one-line object holding source-ref.
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    const std::string_view t = text::trim(first);
    if (!t.empty() && t.front() == '{' && t.back() == '}' && t.find("\"source-ref\"") != std::string_view::npos) {
      return Format::gt_manifest;
    }
    return Format::coco;
  }
  return std::nullopt;
}

}  // namespace roadveil::dataset
