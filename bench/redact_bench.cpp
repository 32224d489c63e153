// Cost of hiding a typical dashcam frame's worth of regions: 1080p, 10 face-sized and 5 plate-sized rects.
// One iteration = one frame; items = rects. yuv420p takes the in-place 8-bit path, NV12 chroma and
// yuv420p10le take the generic unpack/repack path.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

#include "bench_frames.hpp"
#include "redact/redactor.hpp"

namespace {

using roadveil::PixelRect;
using namespace roadveil::redact;

using roadveil::bench::FramePtr;
using roadveil::bench::noisy_frame;

// Faces 60..160 px tall (near and mid-distance pedestrians), plates 110..220 x 25..50 px.
std::vector<PixelRect> dashcam_rects() {
  std::vector<PixelRect> rects;
  for (int i = 0; i < 10; ++i) {
    const int h = 60 + 11 * i;
    rects.push_back({90 + 175 * i, 120 + 37 * (i % 5), h * 4 / 5, h});
  }
  for (int i = 0; i < 5; ++i) rects.push_back({150 + 340 * i, 700 + 45 * i, 110 + 27 * i, 25 + 6 * i});
  return rects;
}

void run(benchmark::State& state, AVPixelFormat fmt, Style style, Shape shape) {
  FramePtr frame = noisy_frame(fmt, 1920, 1080);
  const std::vector<PixelRect> rects = dashcam_rects();
  StyleOptions opt;
  opt.style = style;
  opt.shape = shape;
  Redactor redactor;
  for (auto _ : state) {
    for (const PixelRect& r : rects) redactor.apply(*frame, r, opt);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rects.size()));
}

void BM_Redact_Mosaic_Yuv420p(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P, Style::Mosaic, Shape::Box); }
void BM_Redact_Blur_Yuv420p(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P, Style::Blur, Shape::Box); }
void BM_Redact_Fill_Yuv420p(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P, Style::Fill, Shape::Box); }
void BM_Redact_MosaicEllipse_Yuv420p(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P, Style::Mosaic, Shape::Ellipse); }
void BM_Redact_BlurEllipse_Yuv420p(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P, Style::Blur, Shape::Ellipse); }
void BM_Redact_Mosaic_Nv12(benchmark::State& s) { run(s, AV_PIX_FMT_NV12, Style::Mosaic, Shape::Box); }
void BM_Redact_Blur_Nv12(benchmark::State& s) { run(s, AV_PIX_FMT_NV12, Style::Blur, Shape::Box); }
void BM_Redact_Fill_Nv12(benchmark::State& s) { run(s, AV_PIX_FMT_NV12, Style::Fill, Shape::Box); }
void BM_Redact_Mosaic_Yuv420p10(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P10LE, Style::Mosaic, Shape::Box); }
void BM_Redact_Blur_Yuv420p10(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P10LE, Style::Blur, Shape::Box); }
void BM_Redact_Fill_Yuv420p10(benchmark::State& s) { run(s, AV_PIX_FMT_YUV420P10LE, Style::Fill, Shape::Box); }

}  // namespace

BENCHMARK(BM_Redact_Mosaic_Yuv420p)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Blur_Yuv420p)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Fill_Yuv420p)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_MosaicEllipse_Yuv420p)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_BlurEllipse_Yuv420p)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Mosaic_Nv12)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Blur_Nv12)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Fill_Nv12)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Mosaic_Yuv420p10)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Blur_Yuv420p10)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Redact_Fill_Yuv420p10)->Unit(benchmark::kMicrosecond);
