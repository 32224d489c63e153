#pragma once
// Shared by the dataset tests: the real evaluation data, temporary folders, small files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dataset/annotation.hpp"
#include "dataset/read.hpp"
#include "dataset/report.hpp"
#include "test_util.hpp"

namespace roadveil::dataset::testing {

namespace fs = std::filesystem;

inline fs::path shared_eval() { return fs::path(ROADVEIL_SHARED_DIR) / "eval"; }
inline fs::path class_descriptions() { return shared_eval() / "openimages" / "class-descriptions-boxable.csv"; }

using roadveil::testing::TempDir;

inline void write_text(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

using roadveil::testing::read_text;

inline std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Reads annotations leniently, collecting every problem in `report`.
inline std::vector<AnnotatedImage> read_reporting(const fs::path& path, Format format, Report& report,
                                                  ReadOptions options = {}) {
  options.report = &report;
  return read_annotations(path, format, options);
}

inline std::vector<AnnotatedImage> by_name(std::vector<AnnotatedImage> images) {
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.image < b.image; });
  return images;
}

inline std::size_t box_count(const std::vector<AnnotatedImage>& images) {
  std::size_t n = 0;
  for (const auto& i : images) n += i.boxes.size();
  return n;
}

// Names of the files in a folder tree, relative, sorted (to check that nothing was left behind).
inline std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    names.push_back(e.path().lexically_relative(dir).generic_string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A small Open Images box CSV in the real column layout (none is shipped in ../shared).
inline const std::string kHeader =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside\n";

// Three images: a plate, a face and a group-of car; a depicted plate; a face with unknown flags.
inline const std::string kRows =
    "000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n"
    "000a1249af2bc5f0,xclick,/m/0dzct,1,0.3,0.35,0.2,0.3,1,0,0,0,0\n"
    "000a1249af2bc5f0,xclick,/m/0k4j,1,0.0,0.5,0.4,0.9,0,1,1,0,0\n"
    "0b6f22bf3b586889,activemil,/m/01jfm_,1,0.6,0.7,0.6,0.65,0,0,0,1,0\n"
    "0c2b5e4e1a0b8fd1,xclick,/m/0dzct,1,0.25,0.5,0.25,0.5,-1,-1,0,0,1\n";

// Real 1920x1080 JPEGs under the ImageIDs of the CSV.
inline void link_images(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path src = shared_eval() / "dashcam-berlin-dev" / "images";
  fs::create_symlink(src / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg", dir / "000a1249af2bc5f0.jpg");
  fs::create_symlink(src / "196eb840-75e8-4e0d-9de2-adcb93cb8bd1.jpg", dir / "0b6f22bf3b586889.jpg");
  fs::create_symlink(src / "1df7b59b-66e1-4ba0-99fe-1c7ade76f85b.jpg", dir / "0c2b5e4e1a0b8fd1.jpg");
}

}  // namespace roadveil::dataset::testing
