#include "media/rotation.hpp"

#include <cmath>
#include <cstring>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "core/error.hpp"

namespace roadveil::media {

namespace {

// Bytes per sample when every component lives alone in its plane with no packing, else 0.
int plain_planar_sample_bytes(const AVPixFmtDescriptor* d) {
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BE)))
    return 0;
  if (d->nb_components > 1 && !(d->flags & AV_PIX_FMT_FLAG_PLANAR)) return 0;
  const int bytes = d->comp[0].depth > 8 ? 2 : 1;
  for (int c = 0; c < d->nb_components; ++c)
    if (d->comp[c].step != bytes || d->comp[c].offset != 0 || d->comp[c].shift != 0) return 0;
  return bytes;
}

template <typename T>
void rotate_plane(const std::uint8_t* src, int src_stride, int w, int h, std::uint8_t* dst, int dst_stride, int degrees) {
  for (int y = 0; y < (degrees == 180 ? h : w); ++y) {
    T* out = reinterpret_cast<T*>(dst + static_cast<std::ptrdiff_t>(y) * dst_stride);
    const int out_w = degrees == 180 ? w : h;
    for (int x = 0; x < out_w; ++x) {
      int sx, sy;
      if (degrees == 90) sx = y, sy = h - 1 - x;
      else if (degrees == 180) sx = w - 1 - x, sy = h - 1 - y;
      else sx = w - 1 - y, sy = x;
      out[x] = reinterpret_cast<const T*>(src + static_cast<std::ptrdiff_t>(sy) * src_stride)[sx];
    }
  }
}

}  // namespace

bool display_matrix_mirrors(const std::int32_t* matrix) {
  return static_cast<double>(matrix[0]) * matrix[4] - static_cast<double>(matrix[1]) * matrix[3] < 0;
}

int display_matrix_rotation_degrees(const std::int32_t* matrix) {
  // A mirror (EXIF orientations 2, 4, 5, 7: FFmpeg sets the rotation, then flips the first column) makes the
  // matrix's determinant negative, and av_display_rotation_get reads the flip as part of the angle: a photo
  // mirrored left to right (orientation 2) read as turned 180 degrees, one mirrored top to bottom (4) as
  // upright, and both were searched upside down (a street photo: 18 regions instead of 79, 25 faces left
  // visible). The flip taken off again leaves the rotation alone.
  std::int32_t m[9];
  std::memcpy(m, matrix, sizeof m);
  if (display_matrix_mirrors(m)) av_display_matrix_flip(m, 1, 0);
  const double ccw = av_display_rotation_get(m);
  if (std::isnan(ccw)) return 0;
  int cw = static_cast<int>(std::lround(-ccw)) % 360;
  if (cw < 0) cw += 360;
  return (cw + 45) / 90 * 90 % 360;
}

int frame_rotation_degrees(const AVFrame& frame) {
  const AVFrameSideData* sd = av_frame_get_side_data(&frame, AV_FRAME_DATA_DISPLAYMATRIX);
  if (!sd || sd->size < 9 * sizeof(int32_t)) return 0;
  return display_matrix_rotation_degrees(reinterpret_cast<const int32_t*>(sd->data));
}

void rotate_into(const AVFrame& frame, int degrees, FramePtr& out) {
  if (degrees != 90 && degrees != 180 && degrees != 270) throw Error("rotation must be 90, 180 or 270 degrees");
  const AVFrame* src = &frame;
  FramePtr converted;
  const auto* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  int bytes = plain_planar_sample_bytes(desc);
  if (bytes == 0 || (degrees != 180 && desc->log2_chroma_w != desc->log2_chroma_h)) {
    // Keep the range: a full-range (JPEG) picture converted to limited range would look washed out.
    const bool full_range = frame.color_range == AVCOL_RANGE_JPEG || (desc && std::strncmp(desc->name, "yuvj", 4) == 0);
    const AVPixelFormat target = full_range ? AV_PIX_FMT_YUVJ444P : AV_PIX_FMT_YUV444P;
    converted = make_frame();
    converted->format = target;
    converted->width = frame.width;
    converted->height = frame.height;
    if (av_frame_get_buffer(converted.get(), 0) < 0) throw std::bad_alloc();
    SwsContext* sws = sws_getContext(frame.width, frame.height, static_cast<AVPixelFormat>(frame.format), frame.width,
                                     frame.height, target, SWS_POINT, nullptr, nullptr, nullptr);
    if (!sws) throw Error(std::string("cannot turn pictures of pixel format ") + (desc ? desc->name : "?") + " upright");
    sws_scale(sws, frame.data, frame.linesize, 0, frame.height, converted->data, converted->linesize);
    sws_freeContext(sws);
    src = converted.get();
    desc = av_pix_fmt_desc_get(target);
    bytes = 1;
  }
  const int out_w = degrees == 180 ? src->width : src->height, out_h = degrees == 180 ? src->height : src->width;
  if (!out || out->format != src->format || out->width != out_w || out->height != out_h || !out->buf[0] ||
      av_frame_is_writable(out.get()) == 0) {
    out = make_frame();
    out->format = src->format;
    out->width = out_w;
    out->height = out_h;
    if (av_frame_get_buffer(out.get(), 0) < 0) throw std::bad_alloc();
  }
  // What detection reads of a frame; not av_frame_copy_props, which would pile up side data on a reused
  // frame (and copy the display matrix: the copy is upright).
  out->pts = src->pts;
  out->color_range = src->color_range;
  out->colorspace = src->colorspace;
  out->color_primaries = src->color_primaries;
  out->color_trc = src->color_trc;
  // A quarter turn shows a pixel's height across.
  out->sample_aspect_ratio = degrees == 180 || src->sample_aspect_ratio.num <= 0 ? src->sample_aspect_ratio
                                            : AVRational{src->sample_aspect_ratio.den, src->sample_aspect_ratio.num};
  const int planes = av_pix_fmt_count_planes(static_cast<AVPixelFormat>(src->format));
  for (int p = 0; p < planes; ++p) {
    const bool chroma = p == 1 || p == 2;
    const int w = chroma ? AV_CEIL_RSHIFT(src->width, desc->log2_chroma_w) : src->width;
    const int h = chroma ? AV_CEIL_RSHIFT(src->height, desc->log2_chroma_h) : src->height;
    if (bytes == 1)
      rotate_plane<std::uint8_t>(src->data[p], src->linesize[p], w, h, out->data[p], out->linesize[p], degrees);
    else
      rotate_plane<std::uint16_t>(src->data[p], src->linesize[p], w, h, out->data[p], out->linesize[p], degrees);
  }
}

FramePtr rotated_copy(const AVFrame& frame, int degrees) {
  FramePtr out;
  rotate_into(frame, degrees, out);
  return out;
}

Box box_in_stored_frame(const Box& b, int degrees, int w, int h) {
  const float W = static_cast<float>(w), H = static_cast<float>(h);
  switch (degrees) {
    case 90: return {b.y1, H - b.x2, b.y2, H - b.x1};
    case 180: return {W - b.x2, H - b.y2, W - b.x1, H - b.y1};
    case 270: return {W - b.y2, b.x1, W - b.y1, b.x2};
    default: return b;
  }
}

Box box_in_upright_frame(const Box& b, int degrees, int w, int h) {
  const float W = static_cast<float>(w), H = static_cast<float>(h);
  switch (degrees) {
    case 90: return {H - b.y2, b.x1, H - b.y1, b.x2};
    case 180: return {W - b.x2, H - b.y2, W - b.x1, H - b.y1};
    case 270: return {b.y1, W - b.x2, b.y2, W - b.x1};
    default: return b;
  }
}

}  // namespace roadveil::media
