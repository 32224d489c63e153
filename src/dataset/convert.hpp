#pragma once
// `roadveil dataset convert`: read any format, select and rename classes, drop boxes on request, optionally
// split into training and validation, write any writable format, streaming one image at a time.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataset/format.hpp"
#include "dataset/read.hpp"
#include "dataset/report.hpp"
#include "dataset/tiles.hpp"
#include "dataset/write.hpp"

namespace roadveil::dataset {

struct ConvertOptions {
  std::filesystem::path input;
  Format from = Format::voc;
  Format to = Format::gt_manifest;
  std::filesystem::path output;      // the training output when splitting
  std::filesystem::path val_output;  // splitting only; empty: default_val_output(output)
  ReadOptions read;                  // read.classes selects classes by their source names
  WriteOptions write;                // write.classes is filled by convert()
  // Applied after the class selection: old source name -> new name (several may map to one).
  std::vector<std::pair<std::string, std::string>> rename;
  bool drop_group_of = false;
  bool drop_depiction = false;
  float min_size = 0;            // pixels; boxes narrower or shorter than this are dropped
  std::optional<double> split;  // fraction of the images that goes to training, in (0, 1)
  std::uint64_t seed = 0;
  // --tiles: crops around each image's small objects (dataset/tiles.hpp), each written as an image of its own
  // into the same split as its source (a tile never teaches what the validation images test). `write_tiles`
  // writes the crops of one image and returns their names as the annotations give them, in order (an empty
  // name: that tile could not be written; the callback reports why). `tiles_only` leaves the whole images out.
  std::optional<TileOptions> tiles;
  bool tiles_only = false;
  std::function<std::vector<std::string>(const AnnotatedImage& source, const std::vector<Tile>& tiles)> write_tiles;
};

struct ConvertResult {
  std::size_t images = 0, boxes = 0;  // written, both outputs together
  std::size_t train_images = 0, val_images = 0;
  std::size_t tiles = 0;  // of `images`, crops around small objects
  std::filesystem::path output, val_output;
  std::vector<std::pair<std::string, std::size_t>> boxes_per_class;  // in class number order
};

// Streams input to output(s). Bad input goes to `report` (strict: the first problem throws roadveil::Error
// and no output is left under its final name). Throws roadveil::Error for unusable options and when no image
// at all could be written (nothing is left behind then either).
ConvertResult convert(ConvertOptions options, Report& report);

// "old=new" -> {old, new}; throws roadveil::Error when there is no '=' or a side is empty.
std::pair<std::string, std::string> parse_rename(const std::string& spec);
// Comma-separated class list, blanks around names trimmed, empty entries dropped.
std::vector<std::string> parse_class_list(const std::string& list);

// Which side of the split an image falls on: a hash of its name and the seed, so that the assignment does
// not depend on the order of the input or on the other images, and the same seed always gives the same split.
bool in_training_split(std::string_view image, double fraction, std::uint64_t seed);
// "train.manifest" -> "train-val.manifest", "out/yolo" -> "out/yolo-val".
std::filesystem::path default_val_output(const std::filesystem::path& output);

}  // namespace roadveil::dataset
