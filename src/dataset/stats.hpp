#pragma once
// `roadveil dataset stats`: images, boxes per class and box-size histograms, computed in one streaming pass.
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "dataset/annotation.hpp"
#include "dataset/format.hpp"
#include "dataset/read.hpp"

namespace roadveil::dataset {

// Box sizes in pixels fall into [0,8) [8,16) [16,32) [32,64) [64,128) [128,256) [256,512) [512,inf): the
// small end matters most for faces and plates, which are often under 16 px wide in dashcam frames.
inline constexpr std::array<int, 7> kSizeBinEdges = {8, 16, 32, 64, 128, 256, 512};
inline constexpr std::size_t kSizeBins = kSizeBinEdges.size() + 1;
std::string size_bin_label(std::size_t bin);  // "<8", "8-16", ..., ">=512"

struct ClassStats {
  std::string name;
  std::size_t boxes = 0;
  std::size_t images = 0;  // images with at least one box of the class
  std::array<std::size_t, kSizeBins> width{}, height{};
  std::size_t unknown_size = 0;  // normalised boxes whose image size is unknown: not in the histograms
  double min_width = 0, max_width = 0, sum_width = 0;  // pixels, over boxes of known size
};

struct DatasetStats {
  std::size_t images = 0, boxes = 0, images_without_boxes = 0;
  std::vector<ClassStats> classes;  // by name
  ClassStats all;                   // every class together, name "all"
};

void add_image(DatasetStats& stats, const AnnotatedImage& image);
void sort_classes(DatasetStats& stats);
DatasetStats compute_stats(const std::filesystem::path& path, Format format, const ReadOptions& options);

std::string stats_text(const DatasetStats& stats);
std::string stats_json(const DatasetStats& stats);  // one JSON document, for scripts

}  // namespace roadveil::dataset
