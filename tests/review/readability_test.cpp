// What a hidden region kept: a region rendered with its promised style measures ~0, a weaker mosaic or no
// redaction does not, whatever the pixel format; regions hidden later own their pixels.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

#include "redact/redact_plan.hpp"
#include "media/ffmpeg_util.hpp"
#include "review/readability.hpp"

namespace roadveil::review {
namespace {

using media::FramePtr;

// A frame of every component filled with smooth shapes plus fine texture, like a face: detail at every scale.
FramePtr textured(AVPixelFormat fmt, int w = 320, int h = 240) {
  FramePtr f = media::make_frame();
  f->format = fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-40, 40);
  for (int p = 0; p < 4 && f->data[p]; ++p) {
    const int cw = p == 1 || p == 2 ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
    const int ch = p == 1 || p == 2 ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        const int v = std::clamp(128 + static_cast<int>(60 * std::sin(x * 0.15) * std::cos(y * 0.11)) + noise(rng), 0, 255);
        if (d->comp[0].depth > 8) {
          const auto w16 = static_cast<std::uint16_t>(v << (d->comp[0].depth - 8));
          std::uint8_t* q = f->data[p] + y * f->linesize[p] + 2 * x;
          const bool be = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
          q[be ? 1 : 0] = static_cast<std::uint8_t>(w16 & 0xff);
          q[be ? 0 : 1] = static_cast<std::uint8_t>(w16 >> 8);
        }
        else f->data[p][y * f->linesize[p] + x] = static_cast<std::uint8_t>(v);
      }
  }
  return f;
}

redact::StyleOptions style(redact::Style s, int blocks = 6, redact::Shape shape = redact::Shape::Box) {
  redact::StyleOptions o;
  o.style = s;
  o.mosaic_blocks = blocks;
  o.shape = shape;
  return o;
}

TEST(Readability, ARegionRenderedAsPromisedKeepsNothingAndAnUnhiddenOneKeepsItsDetail) {
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV420P10BE, AV_PIX_FMT_NV12,
                            AV_PIX_FMT_GRAY8}) {
    const char* name = av_get_pix_fmt_name(fmt);
    for (redact::Shape shape : {redact::Shape::Box, redact::Shape::Ellipse}) {
      FramePtr f = textured(fmt);
      const PixelRect rect{41, 33, 90, 70};
      const Readability before = measure_readability(*f, rect, style(redact::Style::Mosaic, 6, shape), {});
      EXPECT_GT(before.residual, 10.0) << name;
      redact::Redactor r;
      r.apply(*f, rect, style(redact::Style::Mosaic, 6, shape));
      const Readability after = measure_readability(*f, rect, style(redact::Style::Mosaic, 6, shape), {});
      EXPECT_GT(after.samples, 100) << name;
      EXPECT_LT(after.residual, 0.01) << name;
    }
  }
}

TEST(Readability, AMosaicWithMoreBlocksThanPromisedIsReadable) {
  FramePtr f = textured(AV_PIX_FMT_YUV420P);
  const PixelRect rect{40, 40, 120, 96};
  redact::Redactor r;
  r.apply(*f, rect, style(redact::Style::Mosaic, 24));
  EXPECT_LT(measure_readability(*f, rect, style(redact::Style::Mosaic, 24), {}).residual, 0.01) << "its own promise";
  EXPECT_GT(measure_readability(*f, rect, style(redact::Style::Mosaic, 6), {}).residual, 4.0) << "the default promise";
}

TEST(Readability, FillAndBlurAreMeasuredAgainstTheirOwnStyle) {
  const PixelRect rect{60, 50, 100, 80};
  FramePtr filled = textured(AV_PIX_FMT_YUV420P);
  redact::Redactor r;
  r.apply(*filled, rect, style(redact::Style::Fill));
  const Readability fill = measure_readability(*filled, rect, style(redact::Style::Fill), {});
  EXPECT_GT(fill.samples, 1000) << "a fill is one block, and measured";
  EXPECT_LT(fill.residual, 0.01);
  EXPECT_GT(measure_readability(*textured(AV_PIX_FMT_YUV420P), rect, style(redact::Style::Fill), {}).residual, 10.0)
      << "an unhidden region promised as a fill";
  FramePtr blurred = textured(AV_PIX_FMT_YUV420P);
  EXPECT_GT(measure_readability(*blurred, rect, style(redact::Style::Blur), {}).residual, 10.0);
  r.apply(*blurred, rect, style(redact::Style::Blur));
  EXPECT_LT(measure_readability(*blurred, rect, style(redact::Style::Blur), {}).residual, 1.0);
}

TEST(Readability, PixelsOfRegionsHiddenLaterBelongToThem) {
  // Region B, hidden after A with a different grid, overlaps A: measured alone, A's blocks under B are not
  // flat any more; told about B, A measures clean.
  FramePtr f = textured(AV_PIX_FMT_YUV420P);
  const PixelRect a{40, 40, 120, 90}, b{90, 70, 100, 90};
  redact::Redactor r;
  r.apply(*f, a, style(redact::Style::Mosaic));
  r.apply(*f, b, style(redact::Style::Mosaic));
  EXPECT_GT(measure_readability(*f, a, style(redact::Style::Mosaic), {}).residual, 1.0);
  EXPECT_LT(measure_readability(*f, a, style(redact::Style::Mosaic), std::array{b}).residual, 0.01);
  // A region wholly hidden again by a later one promises nothing of its own: not measured.
  EXPECT_EQ(measure_readability(*f, PixelRect{100, 80, 40, 40}, style(redact::Style::Mosaic), std::array{b}).samples, 0);
}

TEST(Readability, RegionsAtAndBeyondTheFrameEdgeAreClampedLikeTheRenderer) {
  FramePtr f = textured(AV_PIX_FMT_YUV420P);
  const Box box{280.4f, -20.0f, 400.0f, 60.7f};  // crosses the right and top edges
  Regions regions{{ObjectClass::Plate, box, 1.0f}};
  redact::Redactor r;
  redact::ClassStyles styles{};
  redact::redact_regions(r, *f, regions, styles);
  const PixelRect rect = redact::hidden_rect(box, f->width, f->height);
  EXPECT_EQ(rect, (PixelRect{280, 0, 40, 61}));
  EXPECT_LT(measure_readability(*f, rect, styles[1], {}).residual, 0.01);
  EXPECT_EQ(measure_readability(*f, PixelRect{400, 300, 10, 10}, styles[1], {}).samples, 0) << "outside the frame";
}

TEST(Readability, DetailShareTellsAHiddenBoxFromAnUnhiddenOne) {
  FramePtr f = textured(AV_PIX_FMT_YUV420P);
  const PixelRect rect{50, 50, 96, 96};
  EXPECT_GT(detail_share(*f, rect, 4.0), 0.5);
  redact::Redactor r;
  r.apply(*f, rect, style(redact::Style::Mosaic));
  EXPECT_LT(detail_share(*f, rect, 4.0), 0.15);
}

// A picture enlarged 8x with bilinear interpolation (a face filmed from a small picture, or smoothed by the
// encoder): from one pixel to the next it changes by a few levels at most, but over a few pixels by tens.
// Before the measure also looked at the box's own scale, such a box passed as hidden (an untouched 300 px face
// in an H.264 clip: "0 exposed"); its mosaic and its blur still pass.
TEST(Readability, DetailShareFindsASmoothEnlargedPictureAndNotItsMosaicOrBlur) {
  const auto enlarged = [] {
    FramePtr f = textured(AV_PIX_FMT_YUV420P);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> level(40, 215);
    constexpr int kCell = 8, kCols = 41, kRows = 31;
    std::vector<int> coarse(static_cast<std::size_t>(kCols) * kRows);
    for (int& v : coarse) v = level(rng);
    const auto at = [&](int cx, int cy) { return static_cast<double>(coarse[static_cast<std::size_t>(cy) * kCols + static_cast<std::size_t>(cx)]); };
    for (int y = 0; y < f->height; ++y)
      for (int x = 0; x < f->width; ++x) {
        const double gx = static_cast<double>(x) / kCell, gy = static_cast<double>(y) / kCell;
        const int x0 = static_cast<int>(gx), y0 = static_cast<int>(gy);
        const double fx = gx - x0, fy = gy - y0;
        const double v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
        f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(std::lround(v));
      }
    return f;
  };
  const PixelRect rect{20, 20, 200, 200};
  EXPECT_GT(detail_share(*enlarged(), rect, 4.0), 0.3) << "detail at the box's own scale";
  redact::Redactor r;
  FramePtr mosaic = enlarged(), blurred = enlarged();
  r.apply(*mosaic, rect, style(redact::Style::Mosaic));
  EXPECT_LT(detail_share(*mosaic, rect, 4.0), 0.15);
  r.apply(*blurred, rect, style(redact::Style::Blur));
  EXPECT_LT(detail_share(*blurred, rect, 4.0), 0.15);
}

}  // namespace
}  // namespace roadveil::review
