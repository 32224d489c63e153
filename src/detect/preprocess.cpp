#include "detect/preprocess.hpp"

#include <algorithm>
#include <cmath>

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

TensorMapping plan_tensor(const PixelRect& crop, int max_side, float max_upscale, int align) {
  TensorMapping m;
  const int longer = std::max(crop.w, crop.h);
  float scale = longer > 0 ? static_cast<float>(max_side) / static_cast<float>(longer) : 1.0f;
  scale = std::min(scale, max_upscale);
  m.scale = scale;
  m.content_w = std::max(1, static_cast<int>(std::lround(crop.w * scale)));
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
  if (crops_ > 0) spdlog::debug("detector input: {} crops scaled, {} scaler set-ups", crops_, scalers_created_);
}

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
  m.content_w = std::clamp(static_cast<int>(std::lround(crop.w * m.scale)), 1, m.tensor_w);
  m.content_h = std::clamp(static_cast<int>(std::lround(crop.h * m.scale)), 1, m.tensor_h);

  const std::uint8_t* src[4] = {nullptr, nullptr, nullptr, nullptr};
  int src_stride[4] = {0, 0, 0, 0};
  const bool rgb = d->flags & AV_PIX_FMT_FLAG_RGB;
  for (int p = 0; p < 4 && frame.data[p]; ++p) {
    // Bytes per pixel in this plane and whether it is subsampled, from the components stored in it.
    int step = 0;
    bool chroma = false;
    for (int c = 0; c < d->nb_components; ++c) {
      if (d->comp[c].plane != p) continue;
      step = std::max(step, d->comp[c].step);
      if (!rgb && (c == 1 || c == 2)) chroma = true;
    }
    const int sx = chroma ? crop.x >> d->log2_chroma_w : crop.x;
    const int sy = chroma ? crop.y >> d->log2_chroma_h : crop.y;
    src[p] = frame.data[p] + static_cast<std::ptrdiff_t>(sy) * frame.linesize[p] + static_cast<std::ptrdiff_t>(sx) * step;
    src_stride[p] = frame.linesize[p];
  }
  const int cw = m.content_w, ch = m.content_h;
  SwsContext* sws = scaler_for(crop.w, crop.h, fmt, cw, ch);
  ++crops_;
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
