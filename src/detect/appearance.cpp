#include "detect/appearance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace roadveil::detect {

namespace {

constexpr int kCells = Appearance::kGrid * Appearance::kGrid;
constexpr float kMinDeviation = 4.0f;  // levels of 255: flatter areas match anything

// Bilinear reads of a frame's first component, in 8-bit levels.
class LumaReader {
 public:
  explicit LumaReader(const AVFrame& frame) : frame_(frame) {
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
    // Integer little-endian (native) components of up to 16 bits; other formats are not compared.
    constexpr auto unread = AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_FLOAT;
    ok_ = desc && !(desc->flags & unread) && desc->comp[0].depth >= 1 && desc->comp[0].depth <= 16 &&
          frame.width > 1 && frame.height > 1;
    if (!ok_) return;
    c_ = desc->comp[0];
    wide_ = c_.depth > 8;
    to_8bit_ = 255.0f / static_cast<float>((1u << c_.depth) - 1);
  }
  bool ok() const { return ok_; }
  // Whether a sample at (x, y) reads inside the picture.
  bool inside(float x, float y) const {
    return x >= 0 && y >= 0 && x <= static_cast<float>(frame_.width - 1) && y <= static_cast<float>(frame_.height - 1);
  }
  float at(float x, float y) const {
    const int x0 = std::min(static_cast<int>(x), frame_.width - 2), y0 = std::min(static_cast<int>(y), frame_.height - 2);
    const float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
    const float top = (1 - fx) * pixel(x0, y0) + fx * pixel(x0 + 1, y0);
    const float bottom = (1 - fx) * pixel(x0, y0 + 1) + fx * pixel(x0 + 1, y0 + 1);
    return (1 - fy) * top + fy * bottom;
  }

 private:
  float pixel(int x, int y) const {
    const std::uint8_t* p = frame_.data[c_.plane] + static_cast<std::ptrdiff_t>(y) * frame_.linesize[c_.plane] +
                            static_cast<std::ptrdiff_t>(x) * c_.step + c_.offset;
    unsigned v = wide_ ? static_cast<unsigned>(p[0] | (p[1] << 8)) : p[0];
    v = (v >> c_.shift) & ((1u << c_.depth) - 1);
    return static_cast<float>(v) * to_8bit_;
  }
  const AVFrame& frame_;
  AVComponentDescriptor c_{};
  bool ok_ = false, wide_ = false;
  float to_8bit_ = 1;
};

// The sampled area of `box`: the box and its margin.
Box sampled_area(const Box& box) {
  return Box::from_center(box.cx(), box.cy(), box.width() * (1 + 2 * Appearance::kContext),
                          box.height() * (1 + 2 * Appearance::kContext));
}

// Samples `area` on the grid into `out`, made zero-mean and unit-norm; false outside the picture or flat.
// Each sample is the mean of four bilinear reads a half cell apart (a coarse low-pass over the cell), so
// that a shift by a fraction of a cell changes the samples by less than a point sample landing on either
// side of an edge would.
bool sample_normalised(const LumaReader& luma, const Box& area, std::array<float, kCells>& out) {
  const float cw = area.width() / Appearance::kGrid, ch = area.height() / Appearance::kGrid;
  const float x0 = area.x1 + 0.25f * cw, y0 = area.y1 + 0.25f * ch;
  if (!luma.inside(x0, y0) || !luma.inside(area.x2 - 0.25f * cw, area.y2 - 0.25f * ch)) return false;
  const float hx = 0.5f * cw, hy = 0.5f * ch;
  double sum = 0;
  for (int j = 0; j < Appearance::kGrid; ++j)
    for (int i = 0; i < Appearance::kGrid; ++i) {
      const float x = x0 + static_cast<float>(i) * cw, y = y0 + static_cast<float>(j) * ch;
      const float v = 0.25f * (luma.at(x, y) + luma.at(x + hx, y) + luma.at(x, y + hy) + luma.at(x + hx, y + hy));
      out[j * Appearance::kGrid + i] = v;
      sum += v;
    }
  const float mean = static_cast<float>(sum / kCells);
  double squares = 0;
  for (float& v : out) {
    v -= mean;
    squares += static_cast<double>(v) * v;
  }
  if (std::sqrt(squares / kCells) < kMinDeviation) return false;
  const float norm = static_cast<float>(1.0 / std::sqrt(squares));
  for (float& v : out) v *= norm;
  return true;
}

}  // namespace

Appearance sample_appearance(const AVFrame& frame, const Box& box, float min_side) {
  Appearance look;
  const LumaReader luma(frame);
  if (!luma.ok() || box.width() < min_side || box.height() < min_side) return look;
  look.valid = sample_normalised(luma, sampled_area(box), look.samples);
  return look;
}

AppearanceMatch match_appearance(const AVFrame& frame, const Appearance& look, const Box& predicted, float reach) {
  AppearanceMatch best;
  const LumaReader luma(frame);
  if (!look.valid || !luma.ok() || predicted.empty()) return best;
  const Box area = sampled_area(predicted);
  const float cw = area.width() / Appearance::kGrid, ch = area.height() / Appearance::kGrid;
  const int reach_x = std::max(1, static_cast<int>(std::lround(reach * predicted.width() / cw)));
  const int reach_y = std::max(1, static_cast<int>(std::lround(reach * predicted.height() / ch)));
  std::array<float, kCells> here;
  float best_x = 0, best_y = 0;
  auto compare = [&](float sx, float sy) {
    if (!sample_normalised(luma, {area.x1 + sx, area.y1 + sy, area.x2 + sx, area.y2 + sy}, here)) return;
    float similarity = 0;
    for (int k = 0; k < kCells; ++k) similarity += look.samples[k] * here[k];
    if (similarity > best.similarity) {
      best.similarity = similarity;
      best_x = sx;
      best_y = sy;
    }
  };
  // Whole cells over the reach, then half and quarter cells around the best.
  for (int dy = -reach_y; dy <= reach_y; ++dy)
    for (int dx = -reach_x; dx <= reach_x; ++dx) compare(static_cast<float>(dx) * cw, static_cast<float>(dy) * ch);
  if (best.similarity <= -1) return best;
  for (const float step : {0.5f, 0.25f}) {
    const float cx = best_x, cy = best_y;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if (dx || dy) compare(cx + static_cast<float>(dx) * step * cw, cy + static_cast<float>(dy) * step * ch);
  }
  best.box = {predicted.x1 + best_x, predicted.y1 + best_y, predicted.x2 + best_x, predicted.y2 + best_y};
  return best;
}

}  // namespace roadveil::detect
