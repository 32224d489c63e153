#include "dataset/stats.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace roadveil::dataset {

std::string size_bin_label(std::size_t bin) {
  if (bin == 0) return "<" + std::to_string(kSizeBinEdges[0]);
  if (bin >= kSizeBinEdges.size()) return ">=" + std::to_string(kSizeBinEdges.back());
  return std::to_string(kSizeBinEdges[bin - 1]) + "-" + std::to_string(kSizeBinEdges[bin]);
}

namespace {

std::size_t bin_of(float pixels) {
  std::size_t b = 0;
  while (b < kSizeBinEdges.size() && pixels >= static_cast<float>(kSizeBinEdges[b])) ++b;
  return b;
}

void add_box(ClassStats& c, const LabeledBox& box, const AnnotatedImage& image) {
  ++c.boxes;
  if (image.normalized) {
    ++c.unknown_size;
    return;
  }
  const float w = box.box.width(), h = box.box.height();
  const std::size_t known = c.boxes - c.unknown_size;
  c.min_width = known == 1 ? w : std::min<double>(c.min_width, w);
  c.max_width = known == 1 ? w : std::max<double>(c.max_width, w);
  c.sum_width += w;
  ++c.width[bin_of(w)];
  ++c.height[bin_of(h)];
}

}  // namespace

void add_image(DatasetStats& stats, const AnnotatedImage& image) {
  ++stats.images;
  stats.all.name = "all";
  if (image.boxes.empty()) ++stats.images_without_boxes;
  if (!image.boxes.empty()) ++stats.all.images;
  std::vector<std::size_t> seen;  // class indices already counted for this image
  for (const LabeledBox& b : image.boxes) {
    ++stats.boxes;
    const auto it = std::find_if(stats.classes.begin(), stats.classes.end(),
                                 [&](const ClassStats& c) { return c.name == b.label; });
    const auto index = static_cast<std::size_t>(it - stats.classes.begin());
    if (it == stats.classes.end()) {
      stats.classes.emplace_back();
      stats.classes.back().name = b.label;
    }
    ClassStats& c = stats.classes[index];
    add_box(c, b, image);
    add_box(stats.all, b, image);
    if (std::find(seen.begin(), seen.end(), index) == seen.end()) {
      ++c.images;
      seen.push_back(index);
    }
  }
}

void sort_classes(DatasetStats& stats) {
  std::sort(stats.classes.begin(), stats.classes.end(),
            [](const ClassStats& a, const ClassStats& b) { return a.name < b.name; });
}

DatasetStats compute_stats(const std::filesystem::path& path, Format format, const ReadOptions& options) {
  DatasetStats stats;
  stats.all.name = "all";
  for_each_image(path, format, options, [&](const AnnotatedImage& image) { add_image(stats, image); });
  sort_classes(stats);
  return stats;
}

std::string stats_text(const DatasetStats& stats) {
  std::string s = std::to_string(stats.images) + " images (" + std::to_string(stats.images_without_boxes) +
                  " without boxes), " + std::to_string(stats.boxes) + " boxes\n\n";
  std::size_t name_width = 5;
  for (const ClassStats& c : stats.classes) name_width = std::max(name_width, c.name.size());
  char buf[256];
  auto row = [&](const std::string& name, const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d) {
    std::snprintf(buf, sizeof buf, "%-*s  %10s  %8s  %12s  %s\n", static_cast<int>(name_width), name.c_str(), a.c_str(),
                  b.c_str(), c.c_str(), d.c_str());
    s += buf;
  };
  row("class", "boxes", "images", "mean width", "min-max width (px)");
  auto class_row = [&](const ClassStats& c) {
    const std::size_t known = c.boxes - c.unknown_size;
    std::string mean = "-", range = "-";
    if (known > 0) {
      std::snprintf(buf, sizeof buf, "%.1f", c.sum_width / static_cast<double>(known));
      mean = buf;
      std::snprintf(buf, sizeof buf, "%.0f-%.0f", c.min_width, c.max_width);
      range = buf;
    }
    row(c.name, std::to_string(c.boxes), std::to_string(c.images), mean, range);
  };
  for (const ClassStats& c : stats.classes) class_row(c);
  if (stats.classes.size() > 1) class_row(stats.all);

  for (const bool widths : {true, false}) {
    s += std::string("\nbox ") + (widths ? "width" : "height") + " histogram (px)\n";
    std::string header;
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_width), "class");
    header = buf;
    for (std::size_t bin = 0; bin < kSizeBins; ++bin) {
      std::snprintf(buf, sizeof buf, "  %8s", size_bin_label(bin).c_str());
      header += buf;
    }
    s += header + "  unknown\n";
    auto hist_row = [&](const ClassStats& c) {
      std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_width), c.name.c_str());
      std::string line = buf;
      const auto& h = widths ? c.width : c.height;
      for (std::size_t bin = 0; bin < kSizeBins; ++bin) {
        std::snprintf(buf, sizeof buf, "  %8zu", h[bin]);
        line += buf;
      }
      std::snprintf(buf, sizeof buf, "  %7zu\n", c.unknown_size);
      s += line + buf;
    };
    for (const ClassStats& c : stats.classes) hist_row(c);
    if (stats.classes.size() > 1) hist_row(stats.all);
  }
  if (stats.all.unknown_size > 0) {
    s += "\n" + std::to_string(stats.all.unknown_size) +
         " boxes have no pixel size (normalised, image size unknown): give --images to include them\n";
  }
  return s;
}

std::string stats_json(const DatasetStats& stats) {
  using json = nlohmann::ordered_json;
  json bins = json::array();
  for (std::size_t b = 0; b < kSizeBins; ++b) bins.push_back(size_bin_label(b));
  auto class_json = [&](const ClassStats& c) {
    json j;
    j["name"] = c.name;
    j["boxes"] = c.boxes;
    j["images"] = c.images;
    j["width_histogram"] = c.width;
    j["height_histogram"] = c.height;
    j["unknown_size"] = c.unknown_size;
    const std::size_t known = c.boxes - c.unknown_size;
    j["mean_width"] = known ? c.sum_width / static_cast<double>(known) : 0.0;
    j["min_width"] = c.min_width;
    j["max_width"] = c.max_width;
    return j;
  };
  json j;
  j["images"] = stats.images;
  j["images_without_boxes"] = stats.images_without_boxes;
  j["boxes"] = stats.boxes;
  j["size_bins"] = bins;
  j["classes"] = json::array();
  for (const ClassStats& c : stats.classes) j["classes"].push_back(class_json(c));
  j["all"] = class_json(stats.all);
  return j.dump(2) + "\n";
}

}  // namespace roadveil::dataset
