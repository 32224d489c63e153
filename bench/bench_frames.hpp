#pragma once
// A frame of random pixels for the micro-benchmarks: no content the kernels could shortcut on.
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>

extern "C" {
#include <libavutil/frame.h>
}

namespace roadveil::bench {

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

inline FramePtr noisy_frame(AVPixelFormat fmt, int w, int h) {
  FramePtr f(av_frame_alloc());
  f->format = fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::runtime_error("av_frame_get_buffer failed");
  std::mt19937 rng(42);
  for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; ++i)
    for (std::size_t k = 0; k < f->buf[i]->size; ++k) f->buf[i]->data[k] = static_cast<std::uint8_t>(rng());
  return f;
}

}  // namespace roadveil::bench
