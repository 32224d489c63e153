#include "review/readability.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace roadveil::review {

namespace {

// The first component of `r` as floats on the 8-bit scale, row by row.
void read_first_component(const AVFrame& frame, const PixelRect& r, std::vector<float>& out) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  if (!desc || !redact::supports(static_cast<AVPixelFormat>(frame.format)))
    throw Error(std::string("cannot measure pixels of format ") + (desc ? desc->name : "unknown"));
  const AVComponentDescriptor& c = desc->comp[0];
  // The word holding the component: 1, 2 or 4 bytes, from its bit position (RGB565 keeps a 5-bit component
  // in a 16-bit word; X2RGB10 a 10-bit one in a 32-bit word).
  const int bits = c.shift + c.depth;
  const int bytes = bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
  const bool big_endian = (desc->flags & AV_PIX_FMT_FLAG_BE) != 0;
  const float to_8bit = 255.0f / static_cast<float>((1u << c.depth) - 1);
  out.resize(static_cast<std::size_t>(r.w) * static_cast<std::size_t>(r.h));
  for (int y = 0; y < r.h; ++y) {
    const std::uint8_t* row = frame.data[c.plane] + static_cast<std::ptrdiff_t>(r.y + y) * frame.linesize[c.plane];
    for (int x = 0; x < r.w; ++x) {
      const std::uint8_t* p = row + static_cast<std::ptrdiff_t>(r.x + x) * c.step + c.offset;
      std::uint32_t v = 0;
      for (int b = 0; b < bytes; ++b) v |= static_cast<std::uint32_t>(p[big_endian ? bytes - 1 - b : b]) << (8 * b);
      v = (v >> c.shift) & ((1u << c.depth) - 1);
      out[static_cast<std::size_t>(y) * static_cast<std::size_t>(r.w) + static_cast<std::size_t>(x)] = static_cast<float>(v) * to_8bit;
    }
  }
}

bool inside(const PixelRect& r, int x, int y) { return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h; }

// Mean of the 5x5 neighbourhood of (x, y) of a w-wide patch; the caller keeps it 2 px inside.
float local_mean(const std::vector<float>& p, int w, int x, int y) {
  float s = 0;
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx) s += p[static_cast<std::size_t>(y + dy) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x + dx)];
  return s / 25.0f;
}

}  // namespace

Readability measure_readability(const AVFrame& frame, const PixelRect& rect_in, const redact::StyleOptions& style,
                                std::span<const PixelRect> later) {
  const PixelRect rect = clamp_rect(rect_in, frame.width, frame.height);
  Readability out;
  if (rect.empty()) return out;
  std::vector<float> patch;
  read_first_component(frame, rect, patch);
  // The pixels the style wrote and no later region overwrote; for an ellipse, those well inside it (its
  // outline is anti-aliased by nothing, but lossy coding smears the step at its edge).
  const double cx = rect.x + 0.5 * rect.w, cy = rect.y + 0.5 * rect.h;
  const double rx = 0.46 * rect.w, ry = 0.46 * rect.h;
  auto owned = [&](int x, int y) {
    if (style.shape == redact::Shape::Ellipse) {
      const double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
      if (dx * dx + dy * dy > 1.0) return false;
    }
    // 2 px around a later region too: lossy coding smears the step at its edge into this region.
    return std::none_of(later.begin(), later.end(), [&](const PixelRect& l) {
      return inside(PixelRect{l.x - 2, l.y - 2, l.w + 4, l.h + 4}, x, y);
    });
  };
  auto value = [&](int x, int y) {
    return patch[static_cast<std::size_t>(y - rect.y) * static_cast<std::size_t>(rect.w) + static_cast<std::size_t>(x - rect.x)];
  };
  double sum = 0;
  std::vector<float> block, block_residuals;
  // Mosaic and fill: each block (the whole rect for a fill) should be one value. Its inner pixels (1 px
  // from the block's edges when the block is at least 4 px) are compared with their median, and the region
  // measures as its median block: lossy coding smears the steps between neighbouring blocks and at the
  // edges of regions hidden after it into a few blocks, a weaker mosaic or none leaves detail in most.
  auto measure_blocks = [&](int size_x, int size_y) {
    for (int by = rect.y; by < rect.y + rect.h; by += size_y) {
      for (int bx = rect.x; bx < rect.x + rect.w; bx += size_x) {
        const int ex = std::min(bx + size_x, rect.x + rect.w), ey = std::min(by + size_y, rect.y + rect.h);
        const int inset_x = ex - bx >= 4 ? 1 : 0, inset_y = ey - by >= 4 ? 1 : 0;
        block.clear();
        for (int y = by + inset_y; y < ey - inset_y; ++y)
          for (int x = bx + inset_x; x < ex - inset_x; ++x)
            if (owned(x, y)) block.push_back(value(x, y));
        if (block.size() < 4) continue;
        auto mid = block.begin() + static_cast<std::ptrdiff_t>(block.size() / 2);
        std::nth_element(block.begin(), mid, block.end());
        const float median = *mid;
        double deviation = 0;
        for (float v : block) deviation += std::abs(v - median);
        block_residuals.push_back(deviation / static_cast<double>(block.size()));
        out.samples += static_cast<int>(block.size());
      }
    }
    // A region (nearly) all hidden again by later ones promises nothing of its own any more; a fill, or a
    // mosaic of one block, is one block.
    const bool one_block = size_x >= rect.w && size_y >= rect.h;
    if (block_residuals.size() < (one_block ? 1u : 2u)) {
      out.samples = 0;
      return;
    }
    auto mid = block_residuals.begin() + static_cast<std::ptrdiff_t>(block_residuals.size() / 2);
    std::nth_element(block_residuals.begin(), mid, block_residuals.end());
    sum = *mid * out.samples;  // so that residual = sum / samples below is the median block's
  };
  switch (style.style) {
    case redact::Style::Mosaic: {
      const int size = redact::mosaic_block_size(rect, style);
      measure_blocks(size, size);
      break;
    }
    case redact::Style::Fill: measure_blocks(rect.w, rect.h); break;
    case redact::Style::Blur:
      for (int y = rect.y + 2; y < rect.y + rect.h - 2; ++y)
        for (int x = rect.x + 2; x < rect.x + rect.w - 2; ++x) {
          if (!owned(x, y)) continue;
          sum += std::abs(value(x, y) - local_mean(patch, rect.w, x - rect.x, y - rect.y));
          ++out.samples;
        }
      break;
  }
  out.residual = out.samples ? sum / out.samples : 0;
  return out;
}

namespace {

// The share of a w x h grid's inner cells that differ by more than `levels` from the median of their 3x3
// neighbourhood.
double share_off_median(const std::vector<float>& grid, int w, int h, double levels) {
  if (w < 3 || h < 3) return 0;
  int detailed = 0, total = 0;
  std::array<float, 9> n{};
  for (int y = 1; y < h - 1; ++y)
    for (int x = 1; x < w - 1; ++x) {
      int k = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          n[static_cast<std::size_t>(k++)] = grid[static_cast<std::size_t>(y + dy) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x + dx)];
      const float v = n[4];
      std::nth_element(n.begin(), n.begin() + 4, n.end());
      detailed += std::abs(v - n[4]) > levels;
      ++total;
    }
  return total ? static_cast<double>(detailed) / total : 0;
}

}  // namespace

double detail_share(const AVFrame& frame, const PixelRect& rect_in, double levels) {
  const PixelRect rect = clamp_rect(rect_in, frame.width, frame.height);
  if (rect.w < 5 || rect.h < 5) return 0;
  std::vector<float> patch;
  read_first_component(frame, rect, patch);
  // A mosaic pixel shares its value with most of its 3x3 neighbours, even at a block edge, and so does a
  // pixel of a fill or of a smooth blur; the characters of a plate or the features of a face do not.
  const double fine = share_off_median(patch, rect.w, rect.h, levels);
  // The same at the box's own scale, its longer side in kDetailCells cells (area means): a face enlarged
  // from a small picture, or smoothed by the encoder, changes by less than `levels` from one pixel to the
  // next, but its eyes and mouth are a few cells wide. A default mosaic (6 blocks across) is ~8 cells a
  // block, flat but for its corners; a fill is flat; a blur is smooth at every scale.
  // (Regression: a 300 px face in an ordinary H.264 clip showed 0% detail at pixel scale and passed as
  // hidden, where its PNG frame was found exposed.)
  constexpr int kDetailCells = 48;
  const int longer = std::max(rect.w, rect.h);
  if (longer < 2 * kDetailCells) return fine;
  const int cw = std::max(3, static_cast<int>(std::lround(static_cast<double>(rect.w) * kDetailCells / longer)));
  const int ch = std::max(3, static_cast<int>(std::lround(static_cast<double>(rect.h) * kDetailCells / longer)));
  std::vector<float> cells(static_cast<std::size_t>(cw) * static_cast<std::size_t>(ch), 0.0f);
  for (int cy = 0; cy < ch; ++cy) {
    const int y0 = cy * rect.h / ch, y1 = (cy + 1) * rect.h / ch;
    for (int cx = 0; cx < cw; ++cx) {
      const int x0 = cx * rect.w / cw, x1 = (cx + 1) * rect.w / cw;
      double sum = 0;
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) sum += patch[static_cast<std::size_t>(y) * static_cast<std::size_t>(rect.w) + static_cast<std::size_t>(x)];
      cells[static_cast<std::size_t>(cy) * static_cast<std::size_t>(cw) + static_cast<std::size_t>(cx)] =
          static_cast<float>(sum / std::max(1, (y1 - y0) * (x1 - x0)));
    }
  }
  return std::max(fine, share_off_median(cells, cw, ch, levels));
}

}  // namespace roadveil::review
