#pragma once
// Crops around small objects, for training detectors of small things (a plate 20 px wide in a 1920 px frame
// is 7 px at a trainer's 640 px input): a square tile at full resolution around each small object that no
// earlier tile of its image holds, with every box of the image that the tile shows.
#include <cstdint>
#include <vector>

#include "core/geometry.hpp"
#include "dataset/annotation.hpp"

namespace roadveil::dataset {

struct TileOptions {
  int size = 640;            // side of a tile in source pixels (a side of the image shorter than this: the whole side)
  float small_below = 32;    // objects narrower than this many pixels get a tile
  float min_visible = 0.5f;  // a box cut by the tile's edge is kept (clipped, marked truncated) from this share inside
  std::uint64_t seed = 0;    // where in a tile its object lands (not always the centre: a trainer learns positions)
};

struct Tile {
  PixelRect rect;                 // in the source image; x and y even where the object allows (4:2:0 and 4:2:2 pictures crop on chroma samples)
  std::vector<LabeledBox> boxes;  // in tile pixels
};

// The tiles of one image whose size is known (not `normalized`); none when the image is no larger than a tile.
// A box less than `min_visible` inside a tile is left out of it; its visible part is then unlabelled, so a
// tile is placed to hold its object whole and a small object is never cut.
std::vector<Tile> plan_tiles(const AnnotatedImage& image, const TileOptions& options);

}  // namespace roadveil::dataset
