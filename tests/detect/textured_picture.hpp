#pragma once
// Pictures with texture for the appearance tests: a static background of 6 px blocks of random grey (a
// wall, a road: texture at the scale of the appearance samples) and, over it, each box as a patch of bars
// and stripes scaled to the box (the pattern grows with the object).
#include <cstdint>
#include <new>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "core/geometry.hpp"
#include "media/ffmpeg_util.hpp"

namespace roadveil::detect {

// 8-bit (yuv420p, luma 30..220 on the patches, 80..143 around them) or 10-bit (yuv420p10le, the same levels x4).
inline media::FramePtr textured_picture(int width, int height, const std::vector<Box>& objects, std::int64_t pts = 0,
                                        int format = AV_PIX_FMT_YUV420P) {
  media::FramePtr f = media::make_frame();
  f->format = format;
  f->width = width;
  f->height = height;
  f->pts = pts;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  const bool wide = format != AV_PIX_FMT_YUV420P;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      unsigned v = 80 + (static_cast<unsigned>((x / 6) * 7919 + (y / 6) * 104729) * 2654435761u >> 26);
      for (const Box& b : objects)
        if (!b.empty() && x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2) {
          const int u = static_cast<int>(8 * (x - b.x1) / b.width()), w = static_cast<int>(4 * (y - b.y1) / b.height());
          v = (u + w) % 3 == 0 ? 30 : (u % 2 ? 220 : 150);
        }
      if (wide) reinterpret_cast<std::uint16_t*>(f->data[0] + y * f->linesize[0])[x] = static_cast<std::uint16_t>(v << 2);
      else f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(v);
    }
  return f;
}

}  // namespace roadveil::detect
