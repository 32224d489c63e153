#pragma once
// Test-side access to frames of any pixel format. Values are read and written through FFmpeg's own
// av_read_image_line2 / av_write_image_line2, so the checks do not share code with the redactor.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

#include "core/geometry.hpp"

namespace rvtest {

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

inline const AVPixFmtDescriptor& desc_of(const AVFrame& f) {
  return *av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f.format));
}

// A frame whose every byte (padding included) is random, so that a stray write anywhere is visible.
inline FramePtr make_frame(AVPixelFormat fmt, int w, int h, std::uint32_t seed = 1) {
  FramePtr f(av_frame_alloc());
  f->format = fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0)
    throw std::runtime_error(std::string("av_frame_get_buffer failed for ") + av_get_pix_fmt_name(fmt));
  std::mt19937 rng(seed);
  for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; ++i)
    for (std::size_t k = 0; k < f->buf[i]->size; ++k) f->buf[i]->data[k] = static_cast<std::uint8_t>(rng());
  return f;
}

inline bool is_alpha(const AVPixFmtDescriptor& d, int c) {
  return (d.flags & AV_PIX_FMT_FLAG_ALPHA) && c == d.nb_components - 1;
}
inline int log2_w(const AVPixFmtDescriptor& d, int c) { return (c == 1 || c == 2) ? d.log2_chroma_w : 0; }
inline int log2_h(const AVPixFmtDescriptor& d, int c) { return (c == 1 || c == 2) ? d.log2_chroma_h : 0; }
inline int comp_width(const AVFrame& f, int c) { return AV_CEIL_RSHIFT(f.width, log2_w(desc_of(f), c)); }
inline int comp_height(const AVFrame& f, int c) { return AV_CEIL_RSHIFT(f.height, log2_h(desc_of(f), c)); }

inline std::uint32_t get(const AVFrame& f, int c, int x, int y) {
  const std::uint8_t* data[4] = {f.data[0], f.data[1], f.data[2], f.data[3]};
  std::uint32_t v = 0;
  av_read_image_line2(&v, data, f.linesize, &desc_of(f), x, y, c, 1, 0, 4);
  return v;
}

// Where a component sample's bits are: the bytes of its word and, per byte, the bits it owns. Follows the
// descriptor rules documented in pixdesc.h (and used by av_read_image_line2).
struct SampleBits {
  std::uint8_t* bytes[4] = {};
  std::uint8_t masks[4] = {};
  int count = 0;
};

inline SampleBits locate(const AVFrame& f, int c, int x, int y) {
  const AVPixFmtDescriptor& d = desc_of(f);
  const AVComponentDescriptor& cd = d.comp[c];
  const bool be = d.flags & AV_PIX_FMT_FLAG_BE;
  const int word = cd.shift + cd.depth <= 8 ? 1 : cd.shift + cd.depth <= 16 ? 2 : 4;
  std::uint8_t* p = f.data[cd.plane] + static_cast<std::ptrdiff_t>(y) * f.linesize[cd.plane] +
                    static_cast<std::ptrdiff_t>(x) * cd.step + cd.offset;
  if (word == 1 && be) p += 1;
  const std::uint64_t mask = ((std::uint64_t{1} << cd.depth) - 1) << cd.shift;
  SampleBits s;
  s.count = word;
  for (int i = 0; i < word; ++i) {
    const int significance = be ? word - 1 - i : i;  // byte i holds bits [8*significance, +8)
    s.bytes[i] = p + i;
    s.masks[i] = static_cast<std::uint8_t>(mask >> (8 * significance));
  }
  return s;
}

inline void set(AVFrame& f, int c, int x, int y, std::uint32_t v) {
  const SampleBits s = locate(f, c, x, y);
  for (int i = 0; i < s.count; ++i) *s.bytes[i] &= static_cast<std::uint8_t>(~s.masks[i]);
  std::uint8_t* data[4] = {f.data[0], f.data[1], f.data[2], f.data[3]};
  av_write_image_line2(&v, data, f.linesize, &desc_of(f), x, y, c, 1, 4);
  if (get(f, c, x, y) != v) throw std::logic_error("test helper set() disagrees with av_read_image_line2");
}

// All values of one component, row-major.
struct Plane {
  int w = 0, h = 0;
  std::vector<std::uint32_t> v;
  std::uint32_t at(int x, int y) const { return v[static_cast<std::size_t>(y) * w + x]; }
};

inline Plane values(const AVFrame& f, int c) {
  Plane p;
  p.w = comp_width(f, c);
  p.h = comp_height(f, c);
  p.v.resize(static_cast<std::size_t>(p.w) * p.h);
  for (int y = 0; y < p.h; ++y)
    for (int x = 0; x < p.w; ++x) p.v[static_cast<std::size_t>(y) * p.w + x] = get(f, c, x, y);
  return p;
}

// The component samples a luma rect maps to: floor of the start, ceil of the end.
struct CompRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};
inline CompRect comp_rect(const AVFrame& f, int c, const roadveil::PixelRect& r) {
  const int sw = log2_w(desc_of(f), c), sh = log2_h(desc_of(f), c);
  if (r.empty()) return {};
  return {r.x >> sw, r.y >> sh, (r.x + r.w + (1 << sw) - 1) >> sw, (r.y + r.h + (1 << sh) - 1) >> sh};
}

// Ellipse membership of a sample's centre, in luma coordinates: +1 clearly inside, -1 clearly outside,
// 0 on the outline (where rounding may go either way).
inline int ellipse_side(const AVFrame& f, int c, const roadveil::PixelRect& r, int x, int y) {
  const double sx = 1 << log2_w(desc_of(f), c), sy = 1 << log2_h(desc_of(f), c);
  const double dx = ((x + 0.5) * sx - (r.x + 0.5 * r.w)) / (0.5 * r.w);
  const double dy = ((y + 0.5) * sy - (r.y + 0.5 * r.h)) / (0.5 * r.h);
  const double d = dx * dx + dy * dy;
  return d < 1 - 1e-6 ? 1 : d > 1 + 1e-6 ? -1 : 0;
}

// Byte-exact snapshot of every buffer of a frame, padding included.
struct Snapshot {
  std::vector<std::vector<std::uint8_t>> bufs;
};
inline Snapshot snapshot(const AVFrame& f) {
  Snapshot s;
  for (int i = 0; i < AV_NUM_DATA_POINTERS && f.buf[i]; ++i) s.bufs.emplace_back(f.buf[i]->data, f.buf[i]->data + f.buf[i]->size);
  return s;
}

// Checks that, compared with `before`, only the bits of component samples (alpha included: it can carry a
// picture too) inside the component rects of `r` changed: everything else (other pixels, padding bits, row
// padding) is bit-identical.
inline ::testing::AssertionResult only_rect_changed(const Snapshot& before, const AVFrame& f,
                                                    const roadveil::PixelRect& r) {
  std::vector<std::vector<std::uint8_t>> allowed;
  for (const auto& b : before.bufs) allowed.emplace_back(b.size(), 0);
  const AVPixFmtDescriptor& d = desc_of(f);
  for (int c = 0; c < d.nb_components; ++c) {
    const CompRect cr = comp_rect(f, c, r);
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        const SampleBits s = locate(f, c, x, y);
        for (int i = 0; i < s.count; ++i) {
          bool found = false;
          for (std::size_t b = 0; b < before.bufs.size(); ++b) {
            const std::uint8_t* base = f.buf[b]->data;
            if (s.bytes[i] >= base && s.bytes[i] < base + f.buf[b]->size) {
              allowed[b][static_cast<std::size_t>(s.bytes[i] - base)] |= s.masks[i];
              found = true;
            }
          }
          if (!found) return ::testing::AssertionFailure() << "sample outside every buffer";
        }
      }
  }
  for (std::size_t b = 0; b < before.bufs.size(); ++b)
    for (std::size_t k = 0; k < before.bufs[b].size(); ++k) {
      const std::uint8_t diff = before.bufs[b][k] ^ f.buf[b]->data[k];
      if (diff & ~allowed[b][k])
        return ::testing::AssertionFailure() << "buffer " << b << " byte " << k << " changed outside the rect (bits "
                                             << int(diff & ~allowed[b][k]) << ")";
    }
  return ::testing::AssertionSuccess();
}

// The spec's mosaic, computed independently: block size from the luma rect, blocks aligned to its top-left;
// a chroma sample belongs to the block of its co-sited luma sample (or the first block when that sample
// lies before the rect).
inline int mosaic_block_size(const roadveil::PixelRect& r, int blocks, int min_px) {
  const int longer = std::max(r.w, r.h);
  return std::max(min_px, (longer + blocks - 1) / blocks);
}
inline int block_index(int j, int log2, int start, int block) { return (std::max(j << log2, start) - start) / block; }

// The checks below compare every component of `f` (alpha too) with its values `before` the call; with
// `ellipse`, samples clearly outside the ellipse must be unchanged and those on its outline are not judged.
inline ::testing::AssertionResult check_mosaic(const std::vector<Plane>& before, const AVFrame& f,
                                               const roadveil::PixelRect& r, int blocks, int min_px, bool ellipse) {
  const AVPixFmtDescriptor& d = desc_of(f);
  const int block = mosaic_block_size(r, blocks, min_px);
  for (int c = 0; c < d.nb_components; ++c) {
    const CompRect cr = comp_rect(f, c, r);
    const int sw = log2_w(d, c), sh = log2_h(d, c);
    const int nbx = (r.w + block - 1) / block, nby = (r.h + block - 1) / block;
    std::vector<std::uint64_t> sum(static_cast<std::size_t>(nbx) * nby, 0), cnt(sum.size(), 0);
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        const std::size_t k = static_cast<std::size_t>(block_index(y, sh, r.y, block)) * nbx + block_index(x, sw, r.x, block);
        sum[k] += before[c].at(x, y);
        ++cnt[k];
      }
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        const std::size_t k = static_cast<std::size_t>(block_index(y, sh, r.y, block)) * nbx + block_index(x, sw, r.x, block);
        const std::uint32_t mean = static_cast<std::uint32_t>((sum[k] + cnt[k] / 2) / cnt[k]);
        const std::uint32_t got = get(f, c, x, y);
        const int side = ellipse ? ellipse_side(f, c, r, x, y) : 1;
        if (side > 0 && got != mean)
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y << "): " << got
                                               << " instead of the block mean " << mean;
        if (side < 0 && got != before[c].at(x, y))
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y
                                               << ") outside the ellipse changed";
      }
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult check_fill(const std::vector<Plane>& before, const AVFrame& f,
                                             const roadveil::PixelRect& r, const std::vector<std::uint32_t>& black,
                                             bool ellipse) {
  const AVPixFmtDescriptor& d = desc_of(f);
  for (int c = 0; c < d.nb_components; ++c) {
    const CompRect cr = comp_rect(f, c, r);
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        const std::uint32_t got = get(f, c, x, y);
        const int side = ellipse ? ellipse_side(f, c, r, x, y) : 1;
        if (side > 0 && got != black[c])
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y << "): " << got
                                               << " instead of black " << black[c];
        if (side < 0 && got != before[c].at(x, y))
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y
                                               << ") outside the ellipse changed";
      }
  }
  return ::testing::AssertionSuccess();
}

inline double variance(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double m = 0, q = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) q += (x - m) * (x - m);
  return q / static_cast<double>(v.size());
}

// A blur is a weighted mean of samples of the rect only: every result lies within the range of the rect's
// values (nothing leaks in from outside), and, on noisy content, the variance drops by `min_factor`.
inline ::testing::AssertionResult check_blur(const std::vector<Plane>& before, const AVFrame& f,
                                             const roadveil::PixelRect& r, bool ellipse, double min_factor) {
  const AVPixFmtDescriptor& d = desc_of(f);
  for (int c = 0; c < d.nb_components; ++c) {
    const CompRect cr = comp_rect(f, c, r);
    std::uint32_t lo = UINT32_MAX, hi = 0;
    std::vector<double> vb, va;
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        lo = std::min(lo, before[c].at(x, y));
        hi = std::max(hi, before[c].at(x, y));
        vb.push_back(before[c].at(x, y));
        va.push_back(get(f, c, x, y));
      }
    for (int y = cr.y0; y < cr.y1; ++y)
      for (int x = cr.x0; x < cr.x1; ++x) {
        const std::uint32_t got = get(f, c, x, y);
        if (got < lo || got > hi)
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y << "): " << got
                                               << " outside the rect's range [" << lo << "," << hi << "]";
        if (ellipse && ellipse_side(f, c, r, x, y) < 0 && got != before[c].at(x, y))
          return ::testing::AssertionFailure() << "component " << c << " at (" << x << "," << y
                                               << ") outside the ellipse changed";
      }
    const double var_before = variance(vb), var_after = variance(va);
    if (!ellipse && min_factor > 0 && cr.x1 - cr.x0 >= 4 && cr.y1 - cr.y0 >= 4 && var_before >= 1.0 &&
        var_after * min_factor > var_before)
      return ::testing::AssertionFailure() << "component " << c << ": variance only went from " << var_before
                                           << " to " << var_after;
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<Plane> all_values(const AVFrame& f) {
  std::vector<Plane> v;
  for (int c = 0; c < desc_of(f).nb_components; ++c) v.push_back(values(f, c));
  return v;
}

inline std::string fmt_name(AVPixelFormat f) {
  const char* n = av_get_pix_fmt_name(f);
  return n ? n : "none";
}

}  // namespace rvtest
