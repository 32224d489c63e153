#include "dataset/tiles.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "dataset/text.hpp"

namespace roadveil::dataset {

namespace {
bool holds(const PixelRect& r, const Box& b) {
  return b.x1 >= static_cast<float>(r.x) && b.y1 >= static_cast<float>(r.y) && b.x2 <= static_cast<float>(r.x + r.w) &&
         b.y2 <= static_cast<float>(r.y + r.h);
}

// The start of a tile of side `side` along an image side of `extent` that holds [lo, hi], at `position` (0..1:
// the object at the tile's start .. end), clamped into the image and rounded down to even unless that would
// cut the object (an odd-sized image, an object at its far edge).
int place(float lo, float hi, int side, int extent, double position) {
  const float slack = std::max(0.0f, static_cast<float>(side) - (hi - lo));
  int start = static_cast<int>(std::floor(lo - static_cast<float>(position) * slack));
  start = std::clamp(start, 0, extent - side);
  if (start % 2 != 0 && static_cast<float>(start - 1) <= lo && hi <= static_cast<float>(start - 1 + side)) --start;
  return start;
}
}  // namespace

std::vector<Tile> plan_tiles(const AnnotatedImage& image, const TileOptions& o) {
  std::vector<Tile> tiles;
  if (image.normalized || image.width <= 0 || image.height <= 0) return tiles;
  const int tw = std::min(o.size, image.width), th = std::min(o.size, image.height);
  if (tw == image.width && th == image.height) return tiles;  // the image is a tile already
  // Small objects left to right, top to bottom: the same tiles whatever order the annotation lists them in.
  std::vector<const LabeledBox*> small;
  for (const LabeledBox& b : image.boxes)
    // An object a tile cannot hold whole (taller than the tile: a thin pole) gets none.
    if (b.box.width() < o.small_below && !b.box.empty() && b.box.width() <= static_cast<float>(tw) &&
        b.box.height() <= static_cast<float>(th))
      small.push_back(&b);
  std::sort(small.begin(), small.end(), [](const LabeledBox* a, const LabeledBox* b) {
    return std::tie(a->box.y1, a->box.x1, a->box.y2, a->box.x2) < std::tie(b->box.y1, b->box.x1, b->box.y2, b->box.x2);
  });
  for (const LabeledBox* s : small) {
    if (std::any_of(tiles.begin(), tiles.end(), [&](const Tile& t) { return holds(t.rect, s->box); })) continue;
    // Where the object lands in its tile: anywhere in the middle 80%, from a hash of the image and the box,
    // so that the same data and seed give the same tiles.
    const std::string key = image.image + "/" + std::to_string(s->box.x1) + "," + std::to_string(s->box.y1);
    const std::uint64_t h = text::hash64(key, o.seed);
    const double px = 0.1 + 0.8 * static_cast<double>(h & 0xffff) / 65535.0;
    const double py = 0.1 + 0.8 * static_cast<double>((h >> 16) & 0xffff) / 65535.0;
    Tile tile;
    tile.rect = {place(s->box.x1, s->box.x2, tw, image.width, px), place(s->box.y1, s->box.y2, th, image.height, py), tw, th};
    const Box area{static_cast<float>(tile.rect.x), static_cast<float>(tile.rect.y),
                   static_cast<float>(tile.rect.x + tw), static_cast<float>(tile.rect.y + th)};
    for (const LabeledBox& b : image.boxes) {
      const Box inside = intersection(b.box, area);
      if (inside.empty() || b.box.area() <= 0 || inside.area() < o.min_visible * b.box.area()) continue;
      LabeledBox kept = b;
      kept.box = {inside.x1 - area.x1, inside.y1 - area.y1, inside.x2 - area.x1, inside.y2 - area.y1};
      kept.is_truncated = b.is_truncated || inside.area() < b.box.area();
      tile.boxes.push_back(std::move(kept));
    }
    tiles.push_back(std::move(tile));
  }
  return tiles;
}

}  // namespace roadveil::dataset
