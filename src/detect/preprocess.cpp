#include "detect/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace roadveil::detect {

namespace {
constexpr int kScratchAlign = 64;  // bytes: the widest vector libswscale writes, and a cache line
constexpr std::size_t kScalers = 16;
}  // namespace

TensorMapping plan_tensor(const PixelRect& crop, int max_side, float max_upscale, int align, float pixel_aspect) {
  TensorMapping m;
  m.pixel_aspect = pixel_aspect > 0 ? pixel_aspect : 1.0f;
  const float longer = std::max(static_cast<float>(crop.w) * m.pixel_aspect, static_cast<float>(crop.h));
  float scale = longer > 0 ? static_cast<float>(max_side) / longer : 1.0f;
  scale = std::min(scale, max_upscale);
  m.scale = scale;
  m.content_w = std::max(1, static_cast<int>(std::lround(crop.w * m.scale_x())));
  m.content_h = std::max(1, static_cast<int>(std::lround(crop.h * scale)));
  m.tensor_w = (m.content_w + align - 1) / align * align;
  m.tensor_h = (m.content_h + align - 1) / align * align;
  m.offset_x = static_cast<float>(crop.x);
  m.offset_y = static_cast<float>(crop.y);
  return m;
}

PixelRect align_crop_to_chroma(const PixelRect& crop, int pixel_format, int frame_w, int frame_h) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pixel_format));
  if (!d) return crop;
  const int ax = 1 << d->log2_chroma_w, ay = 1 << d->log2_chroma_h;
  const int x1 = crop.x / ax * ax, y1 = crop.y / ay * ay;
  const int x2 = std::min(frame_w, (crop.x + crop.w + ax - 1) / ax * ax);
  const int y2 = std::min(frame_h, (crop.y + crop.h + ay - 1) / ay * ay);
  return {x1, y1, x2 - x1, y2 - y1};
}

Preprocessor::~Preprocessor() {
  for (Scaler& s : scalers_) sws_freeContext(s.context);
  if (crops_ > 0)
    spdlog::debug("detector input: {} crops scaled, {} of them by libswscale ({} scaler set-ups)", crops_,
                  swscale_crops_, scalers_created_);
}

std::size_t Preprocessor::scratch_bytes() const {
  std::size_t bytes = (source_rows_.capacity() + output_rows_.capacity()) * sizeof(float);
  for (const AxisFilter* f : {&luma_x_, &luma_y_, &chroma_x_, &chroma_y_})
    bytes += f->index.capacity() * sizeof(int) + f->weight.capacity() * sizeof(float);
  return bytes;
}

void Preprocessor::build_axis(AxisFilter& filter, int samples, float length, int outputs) {
  const float ratio = length / static_cast<float>(outputs);  // source samples per output sample
  filter.identity = samples == outputs && length == static_cast<float>(samples);
  // Downscaling: a triangle over the samples an output spans on each side; upscaling: the two nearest.
  const float radius = std::max(1.0f, ratio);
  const int taps = filter.identity ? 1 : std::max(1, static_cast<int>(std::ceil(2 * radius)));
  filter.taps = taps;
  filter.index.resize(static_cast<std::size_t>(outputs) * taps);  // never shrinks its capacity
  filter.weight.resize(static_cast<std::size_t>(outputs) * taps);
  for (int o = 0; o < outputs; ++o) {
    int* index = filter.index.data() + static_cast<std::size_t>(o) * taps;
    float* weight = filter.weight.data() + static_cast<std::size_t>(o) * taps;
    if (filter.identity) {
      index[0] = o;
      weight[0] = 1;
      continue;
    }
    // Sample centres: output o covers [o, o + 1) * ratio of the source, centred on (o + 0.5) * ratio.
    const float centre = (static_cast<float>(o) + 0.5f) * ratio - 0.5f;
    const int first = static_cast<int>(std::floor(centre - radius)) + 1;
    float sum = 0;
    for (int k = 0; k < taps; ++k) {
      const int at = first + k;
      weight[k] = std::max(0.0f, 1.0f - std::abs(static_cast<float>(at) - centre) / radius);
      index[k] = std::clamp(at, 0, samples - 1);  // the edge sample stands for what lies beyond it
      sum += weight[k];
    }
    for (int k = 0; k < taps; ++k) weight[k] /= sum;  // sum > 0: the nearest sample is within 0.5 < radius
  }
}

namespace {

// Y'CbCr to R'G'B' for one frame: the matrix of its colour space and its range.
struct YuvToRgb {
  float y_offset, y_gain, c_gain;  // Y' = (Y - y_offset) * y_gain, Cb = (U - 128) * c_gain
  float r_cr, g_cb, g_cr, b_cb;
};

YuvToRgb yuv_to_rgb(const AVFrame& frame, const AVPixFmtDescriptor& d) {
  float kr = 0.299f, kb = 0.114f;  // BT.601
  switch (frame.colorspace) {
    case AVCOL_SPC_BT709: kr = 0.2126f; kb = 0.0722f; break;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: break;
    case AVCOL_SPC_FCC: kr = 0.30f; kb = 0.11f; break;
    case AVCOL_SPC_SMPTE240M: kr = 0.212f; kb = 0.087f; break;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: kr = 0.2627f; kb = 0.0593f; break;
    default:
      // Untagged (most dashcams): HD and larger pictures are BT.709, smaller ones BT.601, as players assume.
      if (frame.height >= 720) {
        kr = 0.2126f;
        kb = 0.0722f;
      }
  }
  const float kg = 1 - kr - kb;
  const bool full = frame.color_range == AVCOL_RANGE_JPEG || std::strncmp(d.name, "yuvj", 4) == 0;
  YuvToRgb t{};
  t.y_offset = full ? 0.0f : 16.0f;
  t.y_gain = full ? 1.0f : 255.0f / 219.0f;
  t.c_gain = full ? 1.0f : 255.0f / 224.0f;
  t.r_cr = 2 * (1 - kr);
  t.b_cb = 2 * (1 - kb);
  t.g_cb = -2 * kb * (1 - kb) / kg;
  t.g_cr = -2 * kr * (1 - kr) / kg;
  return t;
}

// The per-row loops of the direct path, on pointers that do not alias so that they vectorise; min/max
// rather than std::clamp, whose reference result kept the compiler to scalar branches (7x slower).
// Each has an AVX2 build chosen at load time where the CPU has it (8 lanes and gathers instead of 4 and none).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ROADVEIL_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ROADVEIL_VECTOR_CLONES
#endif

inline float clamp_byte(float v) { return std::min(std::max(v, 0.0f), 255.0f); }

ROADVEIL_VECTOR_CLONES
void yuv_row(const float* __restrict y, const float* __restrict u, const float* __restrict v, const YuvToRgb& t,
             float scale, int n, float* __restrict r, float* __restrict g, float* __restrict b) {
  const float y_offset = t.y_offset, y_gain = t.y_gain, c_gain = t.c_gain;
  const float r_cr = t.r_cr, g_cb = t.g_cb, g_cr = t.g_cr, b_cb = t.b_cb;
  for (int x = 0; x < n; ++x) {
    const float luma = (y[x] - y_offset) * y_gain;
    const float cb = (u[x] - 128.0f) * c_gain, cr = (v[x] - 128.0f) * c_gain;
    r[x] = clamp_byte(luma + r_cr * cr) * scale;
    g[x] = clamp_byte(luma + g_cb * cb + g_cr * cr) * scale;
    b[x] = clamp_byte(luma + b_cb * cb) * scale;
  }
}

ROADVEIL_VECTOR_CLONES
void rgb_row(const float* __restrict r_in, const float* __restrict g_in, const float* __restrict b_in, float scale,
             int n, float* __restrict r, float* __restrict g, float* __restrict b) {
  for (int x = 0; x < n; ++x) {
    r[x] = r_in[x] * scale;
    g[x] = g_in[x] * scale;
    b[x] = b_in[x] * scale;
  }
}

ROADVEIL_VECTOR_CLONES
void grey_row(const float* __restrict y, float offset, float gain, float scale, int n, float* __restrict r,
              float* __restrict g, float* __restrict b) {
  for (int x = 0; x < n; ++x) r[x] = g[x] = b[x] = clamp_byte((y[x] - offset) * gain) * scale;
}

// Vertical pass: out = w * row (first tap) or out += w * row, over `n` samples `step` bytes apart.
ROADVEIL_VECTOR_CLONES
void weigh_row(const std::uint8_t* __restrict src, int step, float w, bool first, int n, float* __restrict out) {
  if (step == 1) {
    if (first)
      for (int x = 0; x < n; ++x) out[x] = w * static_cast<float>(src[x]);
    else
      for (int x = 0; x < n; ++x) out[x] += w * static_cast<float>(src[x]);
  } else {
    if (first)
      for (int x = 0; x < n; ++x) out[x] = w * static_cast<float>(src[x * step]);
    else
      for (int x = 0; x < n; ++x) out[x] += w * static_cast<float>(src[x * step]);
  }
}

// Horizontal pass: out[x] = sum of the filter's taps of `in`.
ROADVEIL_VECTOR_CLONES
void filter_row(const float* __restrict in, const int* __restrict index, const float* __restrict weight, int taps,
                int n, float* __restrict out) {
  if (taps == 2) {
    for (int x = 0; x < n; ++x) out[x] = in[index[2 * x]] * weight[2 * x] + in[index[2 * x + 1]] * weight[2 * x + 1];
    return;
  }
  for (int x = 0; x < n; ++x) {
    float sum = 0;
    for (int k = 0; k < taps; ++k) sum += in[index[x * taps + k]] * weight[x * taps + k];
    out[x] = sum;
  }
}

}  // namespace



SwsContext* Preprocessor::scaler_for(int src_w, int src_h, int format, int dst_w, int dst_h) {
  ++uses_;
  Scaler* oldest = nullptr;
  for (Scaler& s : scalers_) {
    if (s.src_w == src_w && s.src_h == src_h && s.format == format && s.dst_w == dst_w && s.dst_h == dst_h) {
      s.last_use = uses_;
      return s.context;
    }
    if (!oldest || s.last_use < oldest->last_use) oldest = &s;
  }
  SwsContext* context = sws_getContext(src_w, src_h, static_cast<AVPixelFormat>(format), dst_w, dst_h, AV_PIX_FMT_GBRP,
                                       SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!context) throw Error("cannot create the scaler for detector input");
  ++scalers_created_;
  if (scalers_.size() < kScalers) {
    scalers_.push_back({src_w, src_h, format, dst_w, dst_h, context, uses_});
  } else {
    sws_freeContext(oldest->context);
    *oldest = {src_w, src_h, format, dst_w, dst_h, context, uses_};
  }
  return context;
}

void Preprocessor::run(const AVFrame& frame, PixelRect crop, TensorMapping& m, const TensorFormat& format,
                       float* tensor) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL)))
    throw Error(std::string("cannot prepare detector input from pixel format ") + (d ? d->name : "?"));
  crop = align_crop_to_chroma(crop, frame.format, frame.width, frame.height);
  if (crop.empty()) return;
  // The aligned crop may be a little larger: keep the planned scale, adjust the content size to fit.
  m.offset_x = static_cast<float>(crop.x);
  m.offset_y = static_cast<float>(crop.y);
  m.content_w = std::clamp(static_cast<int>(std::lround(crop.w * m.scale_x())), 1, m.tensor_w);
  m.content_h = std::clamp(static_cast<int>(std::lround(crop.h * m.scale)), 1, m.tensor_h);
  ++crops_;
  if (!run_direct(frame, *d, crop, m, format, tensor)) run_swscale(frame, *d, crop, m, format, tensor);
}

bool Preprocessor::run_direct(const AVFrame& frame, const AVPixFmtDescriptor& d, const PixelRect& crop,
                              const TensorMapping& m, const TensorFormat& format, float* tensor) {
  if (d.flags & (AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER)) return false;
  const bool rgb = d.flags & AV_PIX_FMT_FLAG_RGB;
  const int used = rgb || d.nb_components >= 3 ? 3 : 1;  // grey (alpha, if any, is ignored)
  if (d.nb_components < used) return false;
  struct Component {
    const std::uint8_t* origin;  // the crop's first sample
    std::ptrdiff_t stride;
    int step;    // bytes from one sample to the next in a row
    int width;   // samples in a row of the crop
    bool chroma;
  };
  Component comps[3];
  for (int c = 0; c < used; ++c) {
    const AVComponentDescriptor& cd = d.comp[c];
    if (cd.depth != 8 || cd.shift != 0) return false;  // 10-bit and packed 5/6-bit formats: libswscale
    const bool chroma = !rgb && c > 0 && (d.log2_chroma_w > 0 || d.log2_chroma_h > 0);
    const int sx = chroma ? crop.x >> d.log2_chroma_w : crop.x;
    const int sy = chroma ? crop.y >> d.log2_chroma_h : crop.y;
    comps[c] = {frame.data[cd.plane] + static_cast<std::ptrdiff_t>(sy) * frame.linesize[cd.plane] +
                    static_cast<std::ptrdiff_t>(sx) * cd.step + cd.offset,
                frame.linesize[cd.plane], cd.step, chroma ? -((-crop.w) >> d.log2_chroma_w) : crop.w, chroma};
  }
  const int cw = m.content_w, ch = m.content_h;
  build_axis(luma_x_, crop.w, static_cast<float>(crop.w), cw);
  build_axis(luma_y_, crop.h, static_cast<float>(crop.h), ch);
  const bool subsampled = used == 3 && comps[1].chroma;
  if (subsampled) {
    // The chroma planes cover the same picture with fewer samples (at an odd frame edge, the last one
    // covers half a luma sample past it).
    build_axis(chroma_x_, comps[1].width, std::ldexp(static_cast<float>(crop.w), -d.log2_chroma_w), cw);
    build_axis(chroma_y_, -((-crop.h) >> d.log2_chroma_h), std::ldexp(static_cast<float>(crop.h), -d.log2_chroma_h), ch);
  }
  source_rows_.resize(static_cast<std::size_t>(3) * crop.w);
  output_rows_.resize(static_cast<std::size_t>(3) * cw);

  const std::size_t tplane = static_cast<std::size_t>(m.tensor_w) * m.tensor_h;
  float* red = tensor + (format.order == ChannelOrder::RGB ? 0 : 2) * tplane;
  float* green = tensor + tplane;
  float* blue = tensor + (format.order == ChannelOrder::RGB ? 2 : 0) * tplane;
  const YuvToRgb yuv = yuv_to_rgb(frame, d);
  // Grey is full range unless tagged otherwise (libswscale's reading too).
  const bool grey_limited = frame.color_range == AVCOL_RANGE_MPEG;
  const float scale = format.scale;

  const float* rows[3] = {nullptr, nullptr, nullptr};
  for (int oy = 0; oy < ch; ++oy) {
    for (int c = 0; c < used; ++c) {
      const Component& comp = comps[c];
      const AxisFilter& fy = comp.chroma ? chroma_y_ : luma_y_;
      const AxisFilter& fx = comp.chroma ? chroma_x_ : luma_x_;
      // Vertical pass over the crop's row of this component.
      float* vertical = source_rows_.data() + static_cast<std::size_t>(c) * crop.w;
      const int w = comp.width;
      bool first = true;
      for (int k = 0; k < fy.taps; ++k) {
        const float wk = fy.weight[static_cast<std::size_t>(oy) * fy.taps + k];
        if (wk == 0) continue;
        const std::uint8_t* src = comp.origin + fy.index[static_cast<std::size_t>(oy) * fy.taps + k] * comp.stride;
        weigh_row(src, comp.step, wk, first, w, vertical);
        first = false;
      }
      // Horizontal pass into the tensor's width.
      if (fx.identity) {
        rows[c] = vertical;
        continue;
      }
      float* horizontal = output_rows_.data() + static_cast<std::size_t>(c) * cw;
      filter_row(vertical, fx.index.data(), fx.weight.data(), fx.taps, cw, horizontal);
      rows[c] = horizontal;
    }
    const std::size_t at = static_cast<std::size_t>(oy) * m.tensor_w;
    float* r = red + at;
    float* g = green + at;
    float* b = blue + at;
    if (used == 1) {
      const float gain = grey_limited ? 255.0f / 219.0f : 1.0f, offset = grey_limited ? 16.0f : 0.0f;
      grey_row(rows[0], offset, gain, scale, cw, r, g, b);
    } else if (rgb) {
      rgb_row(rows[0], rows[1], rows[2], scale, cw, r, g, b);
    } else {
      yuv_row(rows[0], rows[1], rows[2], yuv, scale, cw, r, g, b);
    }
    for (float* plane : {r, g, b}) std::fill(plane + cw, plane + m.tensor_w, format.pad_value);
  }
  for (float* plane : {red, green, blue})
    std::fill(plane + static_cast<std::size_t>(ch) * m.tensor_w, plane + tplane, format.pad_value);
  return true;
}

void Preprocessor::run_swscale(const AVFrame& frame, const AVPixFmtDescriptor& d, const PixelRect& crop,
                               const TensorMapping& m, const TensorFormat& format, float* tensor) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  ++swscale_crops_;
  const std::uint8_t* src[4] = {nullptr, nullptr, nullptr, nullptr};
  int src_stride[4] = {0, 0, 0, 0};
  const bool rgb = d.flags & AV_PIX_FMT_FLAG_RGB;
  for (int p = 0; p < 4 && frame.data[p]; ++p) {
    // Bytes per pixel in this plane and whether it is subsampled, from the components stored in it.
    int step = 0;
    bool chroma = false;
    for (int c = 0; c < d.nb_components; ++c) {
      if (d.comp[c].plane != p) continue;
      step = std::max(step, d.comp[c].step);
      if (!rgb && (c == 1 || c == 2)) chroma = true;
    }
    const int sx = chroma ? crop.x >> d.log2_chroma_w : crop.x;
    const int sy = chroma ? crop.y >> d.log2_chroma_h : crop.y;
    src[p] = frame.data[p] + static_cast<std::ptrdiff_t>(sy) * frame.linesize[p] + static_cast<std::ptrdiff_t>(sx) * step;
    src_stride[p] = frame.linesize[p];
  }
  const int cw = m.content_w, ch = m.content_h;
  SwsContext* sws = scaler_for(crop.w, crop.h, fmt, cw, ch);
  // libswscale writes whole SIMD vectors: each destination row needs an aligned stride and the planes room
  // past their last row (with a stride of the picture's width, a 2 px wide video overran the buffer).
  const int stride = (cw + kScratchAlign - 1) / kScratchAlign * kScratchAlign;
  const size_t plane = static_cast<size_t>(stride) * ch + kScratchAlign;
  std::vector<std::uint8_t>& planes = *planes_;
  if (planes.size() < 3 * plane + kScratchAlign) planes.resize(3 * plane + kScratchAlign);
  std::uint8_t* base = planes.data() + (kScratchAlign - reinterpret_cast<std::uintptr_t>(planes.data()) % kScratchAlign) % kScratchAlign;
  std::uint8_t* dst[4] = {base, base + plane, base + 2 * plane, nullptr};
  int dst_stride[4] = {stride, stride, stride, 0};
  sws_scale(sws, src, src_stride, 0, crop.h, dst, dst_stride);

  // GBRP planes are G, B, R.
  const std::uint8_t* g = dst[0];
  const std::uint8_t* b = dst[1];
  const std::uint8_t* r = dst[2];
  const std::uint8_t* order[3] = {format.order == ChannelOrder::BGR ? b : r, g, format.order == ChannelOrder::BGR ? r : b};
  const size_t tplane = static_cast<size_t>(m.tensor_w) * m.tensor_h;
  for (int c = 0; c < 3; ++c) {
    float* out = tensor + c * tplane;
    const std::uint8_t* in = order[c];
    for (int y = 0; y < ch; ++y) {
      float* row = out + static_cast<size_t>(y) * m.tensor_w;
      const std::uint8_t* irow = in + static_cast<size_t>(y) * stride;
      for (int x = 0; x < cw; ++x) row[x] = irow[x] * format.scale;
      std::fill(row + cw, row + m.tensor_w, format.pad_value);
    }
    std::fill(out + static_cast<size_t>(ch) * m.tensor_w, out + tplane, format.pad_value);
  }
}

}  // namespace roadveil::detect
