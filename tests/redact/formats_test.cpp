// Every pixel format the redactor claims to support, every style and shape, on odd frame sizes and rects
// touching the edges: only the rect changes (bit-exact elsewhere, padding included) and it changes as the
// style says.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "frame_helpers.hpp"
#include "redact/redactor.hpp"

namespace {

using roadveil::PixelRect;
using namespace roadveil::redact;
using namespace rvtest;

std::vector<AVPixelFormat> supported_formats() {
  std::vector<AVPixelFormat> out;
  for (const AVPixFmtDescriptor* d = av_pix_fmt_desc_next(nullptr); d; d = av_pix_fmt_desc_next(d)) {
    const AVPixelFormat f = av_pix_fmt_desc_get_id(d);
    if (supports(f)) out.push_back(f);
  }
  return out;
}

TEST(Supports, FormatsTheBriefNames) {
  for (AVPixelFormat f :
       {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV420P10LE,
        AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P12LE, AV_PIX_FMT_YUV420P16BE, AV_PIX_FMT_NV12, AV_PIX_FMT_NV21,
        AV_PIX_FMT_P010LE, AV_PIX_FMT_P010BE, AV_PIX_FMT_P016LE, AV_PIX_FMT_GRAY8, AV_PIX_FMT_GRAY16LE,
        AV_PIX_FMT_GRAY16BE, AV_PIX_FMT_GBRP, AV_PIX_FMT_GBRP10LE, AV_PIX_FMT_GBRAP, AV_PIX_FMT_RGB24,
        AV_PIX_FMT_BGR24, AV_PIX_FMT_RGBA, AV_PIX_FMT_BGRA, AV_PIX_FMT_ARGB, AV_PIX_FMT_ABGR, AV_PIX_FMT_RGB0,
        AV_PIX_FMT_0BGR, AV_PIX_FMT_RGB48LE, AV_PIX_FMT_RGBA64BE, AV_PIX_FMT_YUYV422, AV_PIX_FMT_UYVY422,
        AV_PIX_FMT_YUVA420P, AV_PIX_FMT_YA8, AV_PIX_FMT_RGB565LE, AV_PIX_FMT_X2RGB10LE, AV_PIX_FMT_Y210LE,
        AV_PIX_FMT_NV24, AV_PIX_FMT_YUV410P, AV_PIX_FMT_YUV440P})
    EXPECT_TRUE(supports(f)) << fmt_name(f);
}

TEST(Supports, RefusesPalettedBitstreamFloatHardwareAndOddballs) {
  for (AVPixelFormat f :
       {AV_PIX_FMT_PAL8, AV_PIX_FMT_MONOWHITE, AV_PIX_FMT_MONOBLACK, AV_PIX_FMT_RGB4, AV_PIX_FMT_BGR4,
        AV_PIX_FMT_GRAYF32LE, AV_PIX_FMT_GBRPF32LE, AV_PIX_FMT_GBRAPF32BE, AV_PIX_FMT_GRAYF32BE,
        AV_PIX_FMT_VAAPI, AV_PIX_FMT_CUDA, AV_PIX_FMT_QSV, AV_PIX_FMT_VDPAU, AV_PIX_FMT_DRM_PRIME,
        AV_PIX_FMT_VIDEOTOOLBOX, AV_PIX_FMT_BAYER_RGGB8, AV_PIX_FMT_BAYER_GRBG16LE, AV_PIX_FMT_XYZ12LE,
        AV_PIX_FMT_UYYVYY411, AV_PIX_FMT_NONE, AV_PIX_FMT_NB})
    EXPECT_FALSE(supports(f)) << fmt_name(f);
}

TEST(Supports, EveryFormatIsEitherSupportedOrRefusedForAReason) {
  int supported = 0;
  for (const AVPixFmtDescriptor* d = av_pix_fmt_desc_next(nullptr); d; d = av_pix_fmt_desc_next(d)) {
    const AVPixelFormat f = av_pix_fmt_desc_get_id(d);
    if (supports(f)) {
      ++supported;
      EXPECT_EQ(d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL |
                            AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER),
                0u)
          << d->name;
    }
  }
  EXPECT_GT(supported, 100);  // lavu 57 has ~150 integer, non-paletted, software formats
}

// Black as the spec defines it: limited range by default for YUV, full range for yuvj, gray and RGB; alpha
// opaque.
std::vector<std::uint32_t> black_of(const AVFrame& f) {
  const AVPixFmtDescriptor& d = desc_of(f);
  const bool rgb = d.flags & AV_PIX_FMT_FLAG_RGB;
  const bool gray = !rgb && d.nb_components - ((d.flags & AV_PIX_FMT_FLAG_ALPHA) ? 1 : 0) == 1;
  const bool yuvj = std::string(d.name).rfind("yuvj", 0) == 0;
  std::vector<std::uint32_t> b;
  for (int c = 0; c < d.nb_components; ++c) {
    const int depth = d.comp[c].depth;
    if (is_alpha(d, c)) b.push_back((1u << depth) - 1);  // fill makes the region opaque
    else if (rgb) b.push_back(0);
    else if (c == 0) b.push_back(gray || yuvj ? 0 : 16u << (depth - 8));
    else b.push_back(1u << (depth - 1));
  }
  return b;
}

class AllFormats : public ::testing::TestWithParam<AVPixelFormat> {};

TEST_P(AllFormats, EveryStyleAndShapeHidesExactlyTheRect) {
  const AVPixelFormat fmt = GetParam();
  struct Case {
    int w, h;
    PixelRect r;
  };
  const std::vector<Case> cases = {
      {33, 17, {20, 9, 13, 8}},  // touches the right and bottom edges of an odd-sized frame
      {33, 17, {0, 0, 33, 17}},  // the whole frame
      {33, 17, {1, 1, 5, 3}},    // odd start: chroma samples straddle the rect edge
      {33, 17, {7, 4, 10, 9}},
      {33, 17, {32, 16, 1, 1}},  // last pixel
      {33, 17, {3, 5, 0, 4}},    // empty
      {1, 1, {0, 0, 1, 1}},
      {2, 3, {1, 1, 1, 2}},
      {64, 40, {5, 3, 50, 31}},  // several mosaic blocks, long blur lines
  };
  Redactor redactor;
  std::uint32_t seed = 7;
  for (const Case& k : cases)
    for (Style style : {Style::Mosaic, Style::Blur, Style::Fill})
      for (Shape shape : {Shape::Box, Shape::Ellipse}) {
        SCOPED_TRACE(::testing::Message() << fmt_name(fmt) << " " << k.w << "x" << k.h << " rect " << k.r.x << ","
                                          << k.r.y << " " << k.r.w << "x" << k.r.h << " style "
                                          << static_cast<int>(style) << " shape " << static_cast<int>(shape));
        FramePtr f = make_frame(fmt, k.w, k.h, ++seed);
        const Snapshot bytes_before = snapshot(*f);
        const std::vector<Plane> before = all_values(*f);
        StyleOptions opt;
        opt.style = style;
        opt.shape = shape;
        redactor.apply(*f, k.r, opt);
        ASSERT_TRUE(only_rect_changed(bytes_before, *f, k.r));
        if (k.r.empty()) continue;
        const bool ellipse = shape == Shape::Ellipse;
        switch (style) {
          case Style::Mosaic: EXPECT_TRUE(check_mosaic(before, *f, k.r, opt.mosaic_blocks, opt.min_block_px, ellipse)); break;
          case Style::Fill: EXPECT_TRUE(check_fill(before, *f, k.r, black_of(*f), ellipse)); break;
          case Style::Blur: EXPECT_TRUE(check_blur(before, *f, k.r, ellipse, 4.0)); break;
        }
      }
}

std::string param_name(const ::testing::TestParamInfo<AVPixelFormat>& info) {
  std::string n = fmt_name(info.param);
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Redact, AllFormats, ::testing::ValuesIn(supported_formats()), param_name);

}  // namespace
