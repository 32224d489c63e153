#include "redact/redactor.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "core/error.hpp"

namespace roadveil::redact {

std::size_t detail::Scratch::bytes() const {
  return spans.capacity() * sizeof(Span) + (luma_block_x.capacity() + luma_block_y.capacity() +
                                            block_x.capacity() + block_y.capacity()) * sizeof(int) +
         block_sums.capacity() * sizeof(std::uint64_t) + column_sums.capacity() * sizeof(std::int32_t) +
         (samples.capacity() + work16_a.capacity() + work16_b.capacity()) * sizeof(std::uint16_t) +
         work8_a.capacity() + work8_b.capacity();
}

namespace {

using detail::Scratch;
using detail::Span;

// Radii beyond this would overflow the 32-bit running sums of 16-bit samples; a box that wide has long
// turned the rect into its mean anyway.
constexpr int kMaxBlurRadius = 16383;

int ceil_rshift(int v, int s) { return -((-v) >> s); }

bool is_yuvj(AVPixelFormat f) {
  return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P ||
         f == AV_PIX_FMT_YUVJ440P || f == AV_PIX_FMT_YUVJ411P;
}

// Where one component lives, read from FFmpeg's descriptor with the same word rules as
// av_read_image_line2, so every non-bitstream format is handled by one reader and one writer.
struct Component {
  int plane = 0, step = 0, offset = 0, shift = 0, depth = 0;
  int word = 1;  // bytes holding the component: 1, 2 or 4
  bool big_endian = false;
  int log2_w = 0, log2_h = 0;

  // The byte is the whole component: process it in place, no unpacking.
  bool direct8() const { return word == 1 && step == 1 && depth == 8 && shift == 0; }
};

Component component_of(const AVPixFmtDescriptor& d, int c) {
  const AVComponentDescriptor& cd = d.comp[c];
  Component k;
  k.plane = cd.plane;
  k.step = cd.step;
  k.offset = cd.offset;
  k.shift = cd.shift;
  k.depth = cd.depth;
  k.big_endian = (d.flags & AV_PIX_FMT_FLAG_BE) != 0;
  k.word = cd.shift + cd.depth <= 8 ? 1 : cd.shift + cd.depth <= 16 ? 2 : 4;
  // A sub-byte component of a big-endian word lives in the word's last byte.
  if (k.word == 1 && k.big_endian) k.offset += 1;
  const bool chroma = c == 1 || c == 2;  // FFmpeg's rule: only components 1 and 2 are subsampled
  k.log2_w = chroma ? d.log2_chroma_w : 0;
  k.log2_h = chroma ? d.log2_chroma_h : 0;
  return k;
}

template <int Word, bool BE>
std::uint32_t load(const std::uint8_t* p) {
  if constexpr (Word == 1) {
    return p[0];
  } else if constexpr (BE == (std::endian::native == std::endian::big)) {
    // Native byte order: a plain (unaligned-safe) load, which the compiler can vectorise.
    std::conditional_t<Word == 2, std::uint16_t, std::uint32_t> v;
    std::memcpy(&v, p, Word);
    return v;
  } else {
    std::uint32_t v = 0;
    for (int i = 0; i < Word; ++i) v |= std::uint32_t{p[i]} << (8 * (BE ? Word - 1 - i : i));
    return v;
  }
}

template <int Word, bool BE>
void store(std::uint8_t* p, std::uint32_t v) {
  if constexpr (Word == 1) {
    p[0] = static_cast<std::uint8_t>(v);
  } else if constexpr (BE == (std::endian::native == std::endian::big)) {
    const auto n = static_cast<std::conditional_t<Word == 2, std::uint16_t, std::uint32_t>>(v);
    std::memcpy(p, &n, Word);
  } else {
    for (int i = 0; i < Word; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * (BE ? Word - 1 - i : i)));
  }
}

std::uint8_t* sample_ptr(const AVFrame& f, const Component& c, int x, int y) {
  return f.data[c.plane] + static_cast<std::ptrdiff_t>(y) * f.linesize[c.plane] + c.offset +
         static_cast<std::ptrdiff_t>(x) * c.step;
}

// Step is the byte distance between samples when known at compile time (0: take it from the component), so
// that the common planar and semi-planar layouts get a constant stride the compiler can vectorise.
template <int Word, bool BE, int Step>
void gather_t(const AVFrame& f, const Component& c, int x0, int y0, int w, int h, std::uint16_t* out) {
  const std::uint32_t mask = (1u << c.depth) - 1;
  const int shift = c.shift;
  const std::ptrdiff_t step = Step ? Step : c.step;
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* p = sample_ptr(f, c, x0, y0 + y);
    std::uint16_t* o = out + static_cast<std::ptrdiff_t>(y) * w;
    for (int x = 0; x < w; ++x) o[x] = static_cast<std::uint16_t>((load<Word, BE>(p + x * step) >> shift) & mask);
  }
}

// Read-modify-write: bits of the word that belong to other components or padding are kept.
template <int Word, bool BE, int Step>
void scatter_t(AVFrame& f, const Component& c, int x0, int y0, int w, int h, const std::uint16_t* in,
               const Span* spans) {
  const std::uint32_t mask = ((1u << c.depth) - 1) << c.shift;
  const int shift = c.shift;
  const std::ptrdiff_t step = Step ? Step : c.step;
  for (int y = 0; y < h; ++y) {
    const Span s = spans[y];
    std::uint8_t* p = sample_ptr(f, c, x0, y0 + y);
    const std::uint16_t* i = in + static_cast<std::ptrdiff_t>(y) * w;
    for (int x = s.begin; x < s.end; ++x) {
      std::uint8_t* q = p + x * step;
      store<Word, BE>(q, (load<Word, BE>(q) & ~mask) | ((std::uint32_t{i[x]} << shift) & mask));
    }
  }
}

template <bool Scatter, int Word, bool BE, int Step>
void transfer_as(AVFrame& f, const Component& c, int x0, int y0, int w, int h, std::uint16_t* buf,
                 const Span* spans) {
  if constexpr (Scatter)
    scatter_t<Word, BE, Step>(f, c, x0, y0, w, h, buf, spans);
  else
    gather_t<Word, BE, Step>(f, c, x0, y0, w, h, buf);
}

// Unpacks (Scatter = false) or repacks one component rect, picking a compile-time layout where one fits.
template <bool Scatter>
void transfer(AVFrame& f, const Component& c, int x0, int y0, int w, int h, std::uint16_t* buf,
              const Span* spans) {
  if (c.word == 1) {
    if (c.step == 2) return transfer_as<Scatter, 1, false, 2>(f, c, x0, y0, w, h, buf, spans);  // NV12 chroma
    return transfer_as<Scatter, 1, false, 0>(f, c, x0, y0, w, h, buf, spans);
  }
  if (c.word == 2) {
    if (c.big_endian) return transfer_as<Scatter, 2, true, 0>(f, c, x0, y0, w, h, buf, spans);
    if (c.step == 2) return transfer_as<Scatter, 2, false, 2>(f, c, x0, y0, w, h, buf, spans);  // planar, P010 luma
    if (c.step == 4) return transfer_as<Scatter, 2, false, 4>(f, c, x0, y0, w, h, buf, spans);  // P010 chroma
    return transfer_as<Scatter, 2, false, 0>(f, c, x0, y0, w, h, buf, spans);
  }
  if (c.big_endian) return transfer_as<Scatter, 4, true, 0>(f, c, x0, y0, w, h, buf, spans);
  return transfer_as<Scatter, 4, false, 0>(f, c, x0, y0, w, h, buf, spans);
}

// Rows of samples [x0, x0+w) x [y0, y0+h) of one component, either in the frame or in a scratch buffer.
template <class T>
struct View {
  T* data;
  std::ptrdiff_t stride;  // in elements
  int w, h;
  T* row(int y) const { return data + y * stride; }
};

// The samples of each row that may change: the whole row for a box; for an ellipse, those whose centre (in
// luma coordinates, so chroma follows the same outline as luma) lies inside the ellipse inscribed in `r`.
void compute_spans(const PixelRect& r, Shape shape, int log2_w, int log2_h, int x0, int y0, int w, int h,
                   std::vector<Span>& spans) {
  spans.resize(static_cast<std::size_t>(h));
  if (shape == Shape::Box) {
    std::fill(spans.begin(), spans.end(), Span{0, w});
    return;
  }
  const double cx = r.x + 0.5 * r.w, cy = r.y + 0.5 * r.h;
  const double rx = 0.5 * r.w, ry = 0.5 * r.h;
  const double sx = 1 << log2_w, sy = 1 << log2_h;
  for (int j = 0; j < h; ++j) {
    const double dy = ((y0 + j + 0.5) * sy - cy) / ry;
    const double t = 1.0 - dy * dy;
    Span s;
    if (t >= 0) {
      const double half = rx * std::sqrt(t);
      // Sample i is inside when its centre (i + 0.5) * sx is within [cx - half, cx + half].
      const double lo = std::ceil((cx - half) / sx - 0.5);
      const double hi = std::floor((cx + half) / sx - 0.5) + 1;
      s.begin = static_cast<int>(std::clamp(lo - x0, 0.0, static_cast<double>(w)));
      s.end = static_cast<int>(std::clamp(hi - x0, 0.0, static_cast<double>(w)));
      if (s.end <= s.begin) s = Span{};
    }
    spans[static_cast<std::size_t>(j)] = s;
  }
}

template <class T>
void fill(const View<T>& v, std::uint32_t value, const Span* spans) {
  for (int y = 0; y < v.h; ++y) std::fill(v.row(y) + spans[y].begin, v.row(y) + spans[y].end, static_cast<T>(value));
}

// Means are taken over the whole block (also outside an ellipse) so that the ellipse only decides which
// pixels are written, never what they become.
template <class T>
void mosaic(const View<T>& v, const std::vector<int>& bx, const std::vector<int>& by, const Span* spans,
            std::vector<std::uint64_t>& sums) {
  const int nbx = static_cast<int>(bx.size()) - 1;
  sums.resize(static_cast<std::size_t>(nbx));
  for (std::size_t k = 0; k + 1 < by.size(); ++k) {
    const int y0 = by[k], y1 = by[k + 1];
    if (y1 <= y0) continue;
    std::fill(sums.begin(), sums.end(), 0);
    for (int y = y0; y < y1; ++y) {
      const T* row = v.row(y);
      for (int b = 0; b < nbx; ++b) {
        std::uint32_t s = 0;  // one row of one block: up to 65536 samples of 16 bits cannot overflow
        for (int x = bx[b]; x < bx[b + 1]; ++x) s += row[x];
        sums[b] += s;
      }
    }
    for (int b = 0; b < nbx; ++b) {
      const std::uint64_t n = static_cast<std::uint64_t>(bx[b + 1] - bx[b]) * static_cast<std::uint64_t>(y1 - y0);
      sums[b] = n ? (sums[b] + n / 2) / n : 0;
    }
    for (int y = y0; y < y1; ++y) {
      T* row = v.row(y);
      const Span s = spans[y];
      for (int b = 0; b < nbx; ++b) {
        const int a = std::max(bx[b], s.begin), e = std::min(bx[b + 1], s.end);
        if (a < e) std::fill(row + a, row + e, static_cast<T>(sums[b]));
      }
    }
  }
}

// One vertical box pass over a w x h block, one running sum per column so that whole rows are processed at
// once (vectorisable), edges clamped.
template <class T>
void box_columns(const T* in, T* out, int w, int h, int r, float inv, std::int32_t* cols) {
  const int last = h - 1;
  const int m = std::min(r, last);
  const T* first_row = in;
  const T* last_row = in + static_cast<std::ptrdiff_t>(last) * w;
  for (int x = 0; x < w; ++x)
    cols[x] = static_cast<std::int32_t>(first_row[x]) * (r + 1) + static_cast<std::int32_t>(last_row[x]) * (r - m);
  for (int k = 1; k <= m; ++k) {
    const T* row = in + static_cast<std::ptrdiff_t>(k) * w;
    for (int x = 0; x < w; ++x) cols[x] += row[x];
  }
  for (int y = 0; y < h; ++y) {
    T* o = out + static_cast<std::ptrdiff_t>(y) * w;
    for (int x = 0; x < w; ++x) o[x] = static_cast<T>(static_cast<float>(cols[x]) * inv + 0.5f);
    const T* add = in + static_cast<std::ptrdiff_t>(std::min(y + r + 1, last)) * w;
    const T* sub = in + static_cast<std::ptrdiff_t>(std::max(y - r, 0)) * w;
    for (int x = 0; x < w; ++x) cols[x] += static_cast<std::int32_t>(add[x]) - static_cast<std::int32_t>(sub[x]);
  }
}

// dst (w rows of h samples) = transpose of src (h rows of w samples, `stride` apart); tiled so that both
// sides stay in cache.
template <class T>
void transpose(const T* src, std::ptrdiff_t stride, int w, int h, T* dst) {
  constexpr int kTile = 16;
  for (int y0 = 0; y0 < h; y0 += kTile)
    for (int x0 = 0; x0 < w; x0 += kTile) {
      const int y1 = std::min(y0 + kTile, h), x1 = std::min(x0 + kTile, w);
      for (int x = x0; x < x1; ++x)
        for (int y = y0; y < y1; ++y) dst[static_cast<std::ptrdiff_t>(x) * h + y] = src[y * stride + x];
    }
}

// Three box passes per axis approximate a Gaussian. Only samples of the view are read, so nothing outside
// the rect leaks in; the result is computed aside and written back through the spans. The horizontal
// passes run as vertical ones on the transposed rect: a vertical pass handles whole rows at once and
// vectorises, while a running sum along a row is a serial chain (measured: 40% less time per blur).
template <class T>
void blur(const View<T>& v, int rx, int ry, const Span* spans, std::vector<T>& a, std::vector<T>& b,
          std::vector<std::int32_t>& cols) {
  const std::size_t n = static_cast<std::size_t>(v.w) * static_cast<std::size_t>(v.h);
  a.resize(n);
  b.resize(n);
  cols.resize(static_cast<std::size_t>(std::max(v.w, v.h)));
  const float inv_x = 1.0f / static_cast<float>(2 * rx + 1);
  const float inv_y = 1.0f / static_cast<float>(2 * ry + 1);
  transpose(v.data, v.stride, v.w, v.h, b.data());
  box_columns(b.data(), a.data(), v.h, v.w, rx, inv_x, cols.data());
  box_columns(a.data(), b.data(), v.h, v.w, rx, inv_x, cols.data());
  box_columns(b.data(), a.data(), v.h, v.w, rx, inv_x, cols.data());
  transpose(a.data(), v.h, v.h, v.w, b.data());
  box_columns(b.data(), a.data(), v.w, v.h, ry, inv_y, cols.data());
  box_columns(a.data(), b.data(), v.w, v.h, ry, inv_y, cols.data());
  box_columns(b.data(), a.data(), v.w, v.h, ry, inv_y, cols.data());
  for (int y = 0; y < v.h; ++y) {
    const T* r = a.data() + static_cast<std::ptrdiff_t>(y) * v.w;
    std::copy(r + spans[y].begin, r + spans[y].end, v.row(y) + spans[y].begin);
  }
}

// Mosaic block edges of one component: the chroma sample j belongs to the block holding its co-sited luma
// sample j << log2, except that the first one also takes a sample straddling the rect's left/top edge.
void component_edges(const std::vector<int>& luma, int log2, int c0, int c1, std::vector<int>& out) {
  const std::size_t n = luma.size() - 1;
  out.resize(luma.size());
  out[0] = 0;
  for (std::size_t i = 1; i < n; ++i) out[i] = std::clamp(ceil_rshift(luma[i], log2), c0, c1) - c0;
  out[n] = c1 - c0;
}

void luma_edges(int start, int length, int block, std::vector<int>& out) {
  const int n = (length + block - 1) / block;
  out.resize(static_cast<std::size_t>(n) + 1);
  for (int i = 0; i <= n; ++i) out[static_cast<std::size_t>(i)] = start + std::min(i * block, length);
}

int blur_radius(float strength, int shorter) {
  const float r = strength * static_cast<float>(shorter);
  if (!(r > 2.0f)) return 2;  // also catches NaN
  return static_cast<int>(std::min(r, static_cast<float>(kMaxBlurRadius)));
}

// Black in the frame's colour space.
std::uint32_t black_value(int c, int depth, bool rgb, bool full_range) {
  if (rgb) return 0;
  if (c == 0) return full_range ? 0 : depth >= 8 ? 16u << (depth - 8) : 16u >> (8 - depth);
  return 1u << (depth - 1);
}

template <class T>
void run_style(const View<T>& v, const StyleOptions& opt, std::uint32_t black, int rx, int ry, Scratch& s,
               std::vector<T>& work_a, std::vector<T>& work_b) {
  switch (opt.style) {
    case Style::Fill: fill(v, black, s.spans.data()); break;
    case Style::Mosaic: mosaic(v, s.block_x, s.block_y, s.spans.data(), s.block_sums); break;
    case Style::Blur: blur(v, rx, ry, s.spans.data(), work_a, work_b, s.column_sums); break;
  }
}

}  // namespace

bool supports(AVPixelFormat fmt) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  if (!d || d->nb_components == 0) return false;
  constexpr std::uint64_t kRefused = AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL |
                                     AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER;
  if (d->flags & kRefused) return false;
  // XYZ is neither YUV nor RGB, so "black" and "mean" have no meaning we could rely on; UYYVYY411's
  // descriptor cannot express its luma layout (two samples per three bytes).
  if (fmt == AV_PIX_FMT_XYZ12LE || fmt == AV_PIX_FMT_XYZ12BE || fmt == AV_PIX_FMT_UYYVYY411) return false;
  for (int c = 0; c < d->nb_components; ++c) {
    const AVComponentDescriptor& cd = d->comp[c];
    if (cd.depth < 1 || cd.depth > 16 || cd.shift < 0 || cd.shift + cd.depth > 32 || cd.step < 1 || cd.offset < 0 ||
        cd.plane < 0 || cd.plane > 3)
      return false;
  }
  return true;
}

int mosaic_block_size(const PixelRect& rect, const StyleOptions& opt) {
  const int blocks = std::max(1, opt.mosaic_blocks);
  const int longer = std::max(rect.w, rect.h);
  return std::max({1, opt.min_block_px, (longer + blocks - 1) / blocks});
}

void Redactor::apply(AVFrame& frame, const PixelRect& rect_in, const StyleOptions& opt) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  if (!supports(fmt)) {
    const char* name = av_get_pix_fmt_name(fmt);
    throw Error(std::string("cannot hide regions in frames of pixel format ") + (name ? name : "unknown") +
                ": it is not supported by the redactor");
  }
  assert(av_frame_is_writable(&frame) && "the caller must call av_frame_make_writable first");
  const PixelRect rect = clamp_rect(rect_in, frame.width, frame.height);
  if (rect.empty()) return;

  const AVPixFmtDescriptor& desc = *av_pix_fmt_desc_get(fmt);
  const bool rgb = (desc.flags & AV_PIX_FMT_FLAG_RGB) != 0;
  const int alpha = (desc.flags & AV_PIX_FMT_FLAG_ALPHA) ? desc.nb_components - 1 : -1;
  const bool gray = !rgb && desc.nb_components - (alpha >= 0 ? 1 : 0) == 1;
  // swscale treats gray as full range unless told otherwise; follow it so black stays black.
  const bool full_range = frame.color_range == AVCOL_RANGE_JPEG || is_yuvj(fmt) ||
                          (gray && frame.color_range != AVCOL_RANGE_MPEG);

  Scratch& s = scratch_;
  int radius = 0;
  if (opt.style == Style::Mosaic) {
    const int block = mosaic_block_size(rect, opt);
    luma_edges(rect.x, rect.w, block, s.luma_block_x);
    luma_edges(rect.y, rect.h, block, s.luma_block_y);
  } else if (opt.style == Style::Blur) {
    radius = blur_radius(opt.blur_strength, std::min(rect.w, rect.h));
  }

  for (int c = 0; c < desc.nb_components; ++c) {
    // Alpha is hidden too: a picture can be drawn in it (a PNG whose transparent colour key turns the white
    // of a plate's text into its alpha; a cut-out head's outline), and left alone it stayed readable through
    // the mosaic on any background. Mosaic and blur treat it like the colours; fill makes the region opaque.
    const Component comp = component_of(desc, c);
    assert(frame.data[comp.plane] != nullptr);
    // Floor of the start and ceil of the end: the chroma rect covers the luma rect completely.
    const int x0 = rect.x >> comp.log2_w, y0 = rect.y >> comp.log2_h;
    const int x1 = std::min(ceil_rshift(frame.width, comp.log2_w), ceil_rshift(rect.x + rect.w, comp.log2_w));
    const int y1 = std::min(ceil_rshift(frame.height, comp.log2_h), ceil_rshift(rect.y + rect.h, comp.log2_h));
    const int w = x1 - x0, h = y1 - y0;
    if (w <= 0 || h <= 0) continue;

    compute_spans(rect, opt.shape, comp.log2_w, comp.log2_h, x0, y0, w, h, s.spans);
    if (opt.style == Style::Mosaic) {
      component_edges(s.luma_block_x, comp.log2_w, x0, x1, s.block_x);
      component_edges(s.luma_block_y, comp.log2_h, y0, y1, s.block_y);
    }
    const std::uint32_t black = c == alpha ? (std::uint32_t{1} << comp.depth) - 1 : black_value(c, comp.depth, rgb, full_range);
    const int rx = std::max(1, (radius + ((1 << comp.log2_w) >> 1)) >> comp.log2_w);
    const int ry = std::max(1, (radius + ((1 << comp.log2_h) >> 1)) >> comp.log2_h);

    if (comp.direct8()) {
      const View<std::uint8_t> v{sample_ptr(frame, comp, x0, y0), frame.linesize[comp.plane], w, h};
      run_style(v, opt, black, rx, ry, s, s.work8_a, s.work8_b);
    } else {
      s.samples.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
      // Fill only writes what it then scatters, so it needs nothing from the frame.
      if (opt.style != Style::Fill) transfer<false>(frame, comp, x0, y0, w, h, s.samples.data(), nullptr);
      const View<std::uint16_t> v{s.samples.data(), w, w, h};
      run_style(v, opt, black, rx, ry, s, s.work16_a, s.work16_b);
      transfer<true>(frame, comp, x0, y0, w, h, s.samples.data(), s.spans.data());
    }
  }
}

void draw_mask(AVFrame& mask, const PixelRect& rect_in, Shape shape) {
  if (mask.format != AV_PIX_FMT_GRAY8) throw Error("the review mask must be a GRAY8 frame");
  const PixelRect rect = clamp_rect(rect_in, mask.width, mask.height);
  if (rect.empty()) return;
  // Masks are drawn rarely (review output only), so a local buffer is fine here.
  std::vector<Span> spans;
  compute_spans(rect, shape, 0, 0, rect.x, rect.y, rect.w, rect.h, spans);
  for (int y = 0; y < rect.h; ++y) {
    std::uint8_t* row = mask.data[0] + static_cast<std::ptrdiff_t>(rect.y + y) * mask.linesize[0] + rect.x;
    std::fill(row + spans[static_cast<std::size_t>(y)].begin, row + spans[static_cast<std::size_t>(y)].end,
              std::uint8_t{255});
  }
}

}  // namespace roadveil::redact
