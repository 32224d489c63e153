// Golden checks on known pixels: hand-computed block sizes and fill values, blur strength and containment,
// ellipse outline, odd sizes, the fast 8-bit path against the generic one, and bad inputs.
#include <gtest/gtest.h>

#include <set>

#include <cmath>
#include <functional>
#include <limits>

#include "core/error.hpp"
#include "frame_helpers.hpp"
#include "redact/redactor.hpp"

namespace {

using roadveil::PixelRect;
using namespace roadveil::redact;
using namespace rvtest;

using Pattern = std::function<std::uint32_t(int c, int x, int y)>;

void paint(AVFrame& f, const Pattern& p) {
  for (int c = 0; c < desc_of(f).nb_components; ++c)
    for (int y = 0; y < comp_height(f, c); ++y)
      for (int x = 0; x < comp_width(f, c); ++x) set(f, c, x, y, p(c, x, y));
}

std::uint32_t gradient(int c, int x, int y) { return static_cast<std::uint32_t>((x * 7 + y * 13 + c * 50) % 256); }
std::uint32_t checker(int, int x, int y) { return ((x / 2 + y / 2) % 2) ? 255u : 0u; }

StyleOptions style(Style s, Shape shape = Shape::Box) {
  StyleOptions o;
  o.style = s;
  o.shape = shape;
  return o;
}

TEST(Mosaic, GoldenBlocksOnYuv420p) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 64, 48);
  paint(*f, gradient);
  const auto before = all_values(*f);
  const Snapshot bytes = snapshot(*f);
  const PixelRect r{5, 7, 30, 20};  // longer side 30, 6 blocks -> 5 px blocks, 6 x 4 of them
  Redactor red;
  red.apply(*f, r, style(Style::Mosaic));
  EXPECT_TRUE(only_rect_changed(bytes, *f, r));
  for (int by = 0; by < 4; ++by)
    for (int bx = 0; bx < 6; ++bx) {
      unsigned sum = 0;
      for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 5; ++x) sum += before[0].at(5 + 5 * bx + x, 7 + 5 * by + y);
      const unsigned mean = (sum + 12) / 25;
      for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 5; ++x)
          ASSERT_EQ(get(*f, 0, 5 + 5 * bx + x, 7 + 5 * by + y), mean) << "block " << bx << "," << by;
    }
  // Chroma rect: x [2, 18), y [3, 14). Sample x=2 sits before the rect (luma 4) yet belongs to block 0;
  // x=5 (luma 10) starts block 1.
  EXPECT_EQ(get(*f, 1, 2, 3), get(*f, 1, 4, 3));
  EXPECT_NE(get(*f, 1, 4, 3), get(*f, 1, 5, 3));
  EXPECT_EQ(get(*f, 1, 1, 3), before[1].at(1, 3));
  EXPECT_EQ(get(*f, 1, 18, 3), before[1].at(18, 3));
  EXPECT_EQ(get(*f, 2, 17, 13), get(*f, 2, 15, 13));
  EXPECT_EQ(get(*f, 2, 17, 14), before[2].at(17, 14));
  EXPECT_TRUE(check_mosaic(before, *f, r, 6, 4, false));
}

TEST(Mosaic, BlockCountIsBoundedWhateverTheSize) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 1024, 64);
  paint(*f, [](int, int x, int y) { return static_cast<std::uint32_t>(x / 8 + y); });  // no wrap: block means rise
  Redactor red;
  StyleOptions o = style(Style::Mosaic);
  o.mosaic_blocks = 6;
  const PixelRect r{3, 2, 1000, 40};  // 167 px blocks: 6 across, one row
  red.apply(*f, r, o);
  int runs = 0;
  for (int x = r.x; x < r.x + r.w; ++x) {
    if (x == r.x || get(*f, 0, x, 20) != get(*f, 0, x - 1, 20)) ++runs;
    EXPECT_EQ(get(*f, 0, x, r.y), get(*f, 0, x, r.y + r.h - 1));  // one block row: columns are uniform
  }
  EXPECT_LE(runs, 6);
  EXPECT_EQ(runs, 6);
}

TEST(Mosaic, NeverSmallerThanMinBlock) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 32, 32);
  paint(*f, gradient);
  const auto before = all_values(*f);
  Redactor red;
  const PixelRect r{8, 8, 8, 8};  // ceil(8/6) = 2 px, raised to 4
  red.apply(*f, r, style(Style::Mosaic));
  for (int y = 8; y < 12; ++y)
    for (int x = 8; x < 12; ++x) EXPECT_EQ(get(*f, 0, x, y), get(*f, 0, 8, 8));
  EXPECT_NE(get(*f, 0, 8, 8), get(*f, 0, 12, 8));
  EXPECT_TRUE(check_mosaic(before, *f, r, 6, 4, false));
}

TEST(Mosaic, DegenerateOptionsAreSafe) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 40, 30);
  Redactor red;
  StyleOptions o = style(Style::Mosaic);
  o.mosaic_blocks = 0;
  o.min_block_px = 0;
  const auto before = all_values(*f);
  red.apply(*f, {3, 3, 20, 10}, o);  // treated as one block
  EXPECT_TRUE(check_mosaic(before, *f, {3, 3, 20, 10}, 1, 1, false));
  o.mosaic_blocks = 1000;  // min_block_px 0 -> 1 px blocks: every pixel is its own mean
  const auto again = all_values(*f);
  red.apply(*f, {0, 0, 40, 30}, o);
  EXPECT_TRUE(check_mosaic(again, *f, {0, 0, 40, 30}, 1000, 1, false));
}

struct FillCase {
  AVPixelFormat fmt;
  AVColorRange range;
  std::vector<std::uint32_t> black;  // per component
};

TEST(Fill, BlackInEachColourSpace) {
  const std::vector<FillCase> cases = {
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_UNSPECIFIED, {16, 128, 128}},
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_MPEG, {16, 128, 128}},
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_JPEG, {0, 128, 128}},
      {AV_PIX_FMT_YUVJ420P, AVCOL_RANGE_UNSPECIFIED, {0, 128, 128}},
      {AV_PIX_FMT_YUVJ444P, AVCOL_RANGE_JPEG, {0, 128, 128}},
      {AV_PIX_FMT_YUV420P10LE, AVCOL_RANGE_MPEG, {64, 512, 512}},
      {AV_PIX_FMT_YUV420P10LE, AVCOL_RANGE_JPEG, {0, 512, 512}},
      {AV_PIX_FMT_YUV422P10LE, AVCOL_RANGE_UNSPECIFIED, {64, 512, 512}},
      {AV_PIX_FMT_YUV444P12LE, AVCOL_RANGE_MPEG, {256, 2048, 2048}},
      {AV_PIX_FMT_YUV420P16LE, AVCOL_RANGE_MPEG, {4096, 32768, 32768}},
      {AV_PIX_FMT_NV12, AVCOL_RANGE_MPEG, {16, 128, 128}},
      {AV_PIX_FMT_NV21, AVCOL_RANGE_JPEG, {0, 128, 128}},
      {AV_PIX_FMT_P010LE, AVCOL_RANGE_MPEG, {64, 512, 512}},
      {AV_PIX_FMT_P010BE, AVCOL_RANGE_MPEG, {64, 512, 512}},
      {AV_PIX_FMT_YUYV422, AVCOL_RANGE_MPEG, {16, 128, 128}},
      {AV_PIX_FMT_GRAY8, AVCOL_RANGE_UNSPECIFIED, {0}},
      {AV_PIX_FMT_GRAY8, AVCOL_RANGE_MPEG, {16}},
      {AV_PIX_FMT_GRAY10LE, AVCOL_RANGE_MPEG, {64}},
      {AV_PIX_FMT_GRAY16LE, AVCOL_RANGE_UNSPECIFIED, {0}},
      {AV_PIX_FMT_RGB24, AVCOL_RANGE_UNSPECIFIED, {0, 0, 0}},
      {AV_PIX_FMT_BGR24, AVCOL_RANGE_UNSPECIFIED, {0, 0, 0}},
      {AV_PIX_FMT_GBRP, AVCOL_RANGE_UNSPECIFIED, {0, 0, 0}},
      {AV_PIX_FMT_GBRP10LE, AVCOL_RANGE_UNSPECIFIED, {0, 0, 0}},
  };
  Redactor red;
  for (const FillCase& k : cases) {
    SCOPED_TRACE(fmt_name(k.fmt) + " range " + std::to_string(k.range));
    FramePtr f = make_frame(k.fmt, 33, 17);
    f->color_range = k.range;
    const auto before = all_values(*f);
    const Snapshot bytes = snapshot(*f);
    const PixelRect r{20, 9, 13, 8};
    red.apply(*f, r, style(Style::Fill));
    EXPECT_TRUE(only_rect_changed(bytes, *f, r));
    EXPECT_TRUE(check_fill(before, *f, r, k.black, false));
    ASSERT_EQ(static_cast<int>(k.black.size()), desc_of(*f).nb_components);
    EXPECT_EQ(get(*f, 0, 32, 16), k.black[0]);
    EXPECT_EQ(get(*f, 0, 19, 16), before[0].at(19, 16));
  }
}

TEST(Fill, P010KeepsTheLowPaddingBits) {
  FramePtr f = make_frame(AV_PIX_FMT_P010LE, 8, 4);
  const std::uint16_t low_before = f->data[0][0] & 0x3f;
  Redactor red;
  red.apply(*f, {0, 0, 8, 4}, style(Style::Fill));
  const std::uint16_t word = static_cast<std::uint16_t>(f->data[0][0] | f->data[0][1] << 8);
  EXPECT_EQ(word >> 6, 64);
  EXPECT_EQ(word & 0x3f, low_before);
}

// A picture can be drawn in the alpha channel (a PNG whose transparent colour key turns a plate's white into
// its alpha, a cut-out head's outline): it was left alone and stayed readable through the mosaic on any
// background. Fill makes the region opaque; mosaic averages alpha per block like the colours.
TEST(Redact, AlphaIsHiddenToo) {
  FramePtr f = make_frame(AV_PIX_FMT_RGBA, 16, 16);
  const auto before = all_values(*f);
  Redactor red;
  red.apply(*f, {2, 2, 10, 10}, style(Style::Fill));
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) {
      const bool inside = x >= 2 && x < 12 && y >= 2 && y < 12;
      if (inside) {
        EXPECT_EQ(get(*f, 0, x, y), 0u);
      }
      EXPECT_EQ(get(*f, 3, x, y), inside ? 255u : before[3].at(x, y)) << x << "," << y;
    }
  // Text drawn in alpha alone (every colour white): after the mosaic no block holds two alpha values.
  FramePtr text = make_frame(AV_PIX_FMT_YA8, 32, 32);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      text->data[0][y * text->linesize[0] + 2 * x] = 255;
      text->data[0][y * text->linesize[0] + 2 * x + 1] = ((x / 3 + y / 5) % 2) ? 255 : 0;
    }
  StyleOptions mosaic = style(Style::Mosaic);
  red.apply(*text, {0, 0, 32, 32}, mosaic);
  std::set<std::uint32_t> alphas;
  for (int x = 0; x < 4; ++x) alphas.insert(get(*text, 1, x, 0));
  EXPECT_EQ(alphas.size(), 1u) << "the first mosaic block's alpha is one value";
}

double rect_variance(const AVFrame& f, int c, const PixelRect& r) {
  std::vector<double> v;
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x) v.push_back(get(f, c, x, y));
  return variance(v);
}

TEST(Blur, FlattensACheckerboard) {
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUV420P10LE}) {
    SCOPED_TRACE(fmt_name(fmt));
    FramePtr f = make_frame(fmt, 96, 64);
    paint(*f, checker);
    const Snapshot bytes = snapshot(*f);
    const auto before = all_values(*f);
    const PixelRect r{10, 10, 60, 40};
    const double var_before = rect_variance(*f, 0, r);
    ASSERT_GT(var_before, 16000.0);
    Redactor red;
    red.apply(*f, r, style(Style::Blur));
    EXPECT_TRUE(only_rect_changed(bytes, *f, r));
    // What is left is a gentle gradient from the clamped edges (the rect's border rows weigh more), not
    // the pattern.
    EXPECT_LT(rect_variance(*f, 0, r), var_before / 200.0);
    EXPECT_TRUE(check_blur(before, *f, r, false, 200.0));
  }
}

// The edges are clamped to the rect: a rect of one value stays exactly that value whatever surrounds it
// (here: zeros, so that any leak shows), for short and long radii.
TEST(Blur, NothingLeaksInFromOutsideTheRect) {
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_RGB24})
    for (float strength : {0.0f, 0.5f, 3.0f}) {  // radius 2 (the floor), 10, and far beyond the rect
      SCOPED_TRACE(fmt_name(fmt) + " strength " + std::to_string(strength));
      FramePtr f = make_frame(fmt, 50, 40);
      const PixelRect r{9, 7, 24, 20};  // odd start: the chroma rect is a little larger than the luma rect
      for (int c = 0; c < 3; ++c) {
        const CompRect cr = comp_rect(*f, c, r);
        for (int y = 0; y < comp_height(*f, c); ++y)
          for (int x = 0; x < comp_width(*f, c); ++x) set(*f, c, x, y, cr.contains(x, y) ? 100 + 10 * c : 0);
      }
      Redactor red;
      StyleOptions o = style(Style::Blur);
      o.blur_strength = strength;
      red.apply(*f, r, o);
      for (int c = 0; c < 3; ++c) {
        const CompRect cr = comp_rect(*f, c, r);
        for (int y = cr.y0; y < cr.y1; ++y)
          for (int x = cr.x0; x < cr.x1; ++x)
            ASSERT_EQ(get(*f, c, x, y), 100u + 10 * c) << c << " " << x << "," << y;
      }
    }
}

TEST(Blur, RadiusFollowsStrengthAndHasAFloor) {
  // A vertical edge: with radius 2 (the floor) the blur spreads a few pixels, with strength 0.5 on a 40 px
  // rect it spreads across the whole rect.
  auto spread = [](float strength) {
    FramePtr f = make_frame(AV_PIX_FMT_GRAY8, 64, 48);
    paint(*f, [](int, int x, int) { return x < 32 ? 0u : 255u; });
    Redactor red;
    StyleOptions o = style(Style::Blur);
    o.blur_strength = strength;
    red.apply(*f, {12, 4, 40, 40}, o);
    int changed = 0;
    for (int x = 12; x < 52; ++x) changed += get(*f, 0, x, 20) != (x < 32 ? 0u : 255u);
    return changed;
  };
  const int weak = spread(0.0f), strong = spread(0.5f);
  EXPECT_GE(weak, 4);
  EXPECT_LE(weak, 14);  // three passes of radius 2 reach 6 px on each side of the edge
  EXPECT_GE(strong, 36);
  EXPECT_EQ(spread(std::numeric_limits<float>::quiet_NaN()), weak);
}

TEST(Ellipse, CornersKeptCentreHidden) {
  for (Style s : {Style::Mosaic, Style::Blur, Style::Fill}) {
    SCOPED_TRACE(static_cast<int>(s));
    FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 64, 48);
    paint(*f, checker);
    const auto before = all_values(*f);
    const PixelRect r{8, 8, 40, 30};
    Redactor red;
    red.apply(*f, r, style(s, Shape::Ellipse));
    for (auto [x, y] : {std::pair{8, 8}, {47, 8}, {8, 37}, {47, 37}, {10, 9}, {45, 36}})
      EXPECT_EQ(get(*f, 0, x, y), before[0].at(x, y)) << x << "," << y;
    for (int y = 20; y < 26; ++y)
      for (int x = 24; x < 32; ++x) EXPECT_NE(get(*f, 0, x, y), before[0].at(x, y)) << x << "," << y;
    // The ends of both axes are inside.
    EXPECT_NE(get(*f, 0, 8, 22), before[0].at(8, 22));
    EXPECT_NE(get(*f, 0, 28, 37), before[0].at(28, 37));
    if (s == Style::Mosaic) {
      EXPECT_TRUE(check_mosaic(before, *f, r, 6, 4, true));
    } else if (s == Style::Fill) {
      EXPECT_TRUE(check_fill(before, *f, r, {16, 128, 128}, true));
    } else {
      EXPECT_TRUE(check_blur(before, *f, r, true, 0));
    }
  }
}

TEST(OddSizes, RectAtTheRightAndBottomEdges) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 33, 17);
  const auto before = all_values(*f);
  const Snapshot bytes = snapshot(*f);
  Redactor red;
  red.apply(*f, {20, 9, 13, 8}, style(Style::Fill));
  EXPECT_TRUE(only_rect_changed(bytes, *f, {20, 9, 13, 8}));
  // Chroma plane is 17 x 9; the chroma rect is x [10, 17), y [4, 9): it reaches the last sample.
  EXPECT_EQ(get(*f, 1, 16, 8), 128u);
  EXPECT_EQ(get(*f, 2, 10, 4), 128u);
  EXPECT_EQ(get(*f, 1, 9, 8), before[1].at(9, 8));
  EXPECT_EQ(get(*f, 1, 16, 3), before[1].at(16, 3));
}

TEST(OddSizes, OneByOneFrame) {
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_P010LE, AV_PIX_FMT_YUYV422}) {
    SCOPED_TRACE(fmt_name(fmt));
    Redactor red;
    FramePtr f = make_frame(fmt, 1, 1);
    const auto before = all_values(*f);
    red.apply(*f, {0, 0, 1, 1}, style(Style::Mosaic));
    red.apply(*f, {0, 0, 1, 1}, style(Style::Blur, Shape::Ellipse));
    for (int c = 0; c < 3; ++c) EXPECT_EQ(get(*f, c, 0, 0), before[c].at(0, 0));  // the mean of one sample
    // In 4:2:0 the chroma sample's centre (1, 1) lies outside the ellipse inscribed in a 1x1 rect: only
    // luma changes.
    red.apply(*f, {0, 0, 1, 1}, style(Style::Fill, Shape::Ellipse));
    if (desc_of(*f).log2_chroma_h == 1) {
      EXPECT_EQ(get(*f, 1, 0, 0), before[1].at(0, 0));
    }
    red.apply(*f, {0, 0, 1, 1}, style(Style::Fill));
    const int depth = desc_of(*f).comp[0].depth;
    EXPECT_EQ(get(*f, 0, 0, 0), 16u << (depth - 8));
    EXPECT_EQ(get(*f, 1, 0, 0), 1u << (depth - 1));
  }
}

TEST(Rects, EmptyIsANoOpAndOutsideIsClamped) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 33, 17);
  const Snapshot bytes = snapshot(*f);
  Redactor red;
  for (PixelRect r : {PixelRect{5, 5, 0, 4}, PixelRect{5, 5, 4, 0}, PixelRect{5, 5, -3, 4}, PixelRect{40, 2, 5, 5},
                      PixelRect{-10, -10, 5, 5}, PixelRect{0, 17, 33, 5}})
    red.apply(*f, r, style(Style::Fill));
  EXPECT_TRUE(only_rect_changed(bytes, *f, {}));
  red.apply(*f, {-5, -5, 10, 10}, style(Style::Fill));
  EXPECT_TRUE(only_rect_changed(bytes, *f, {0, 0, 5, 5}));
  EXPECT_EQ(get(*f, 0, 4, 4), 16u);
  red.apply(*f, {30, 14, 1000, std::numeric_limits<int>::max()}, style(Style::Fill));
  EXPECT_FALSE(only_rect_changed(bytes, *f, {0, 0, 5, 5}));  // the second rect changed too
  EXPECT_EQ(get(*f, 0, 32, 16), 16u);
}

// The in-place 8-bit path and the unpack/repack path must give the same values for the same content.
TEST(Paths, FastPlanarMatchesGenericLayouts) {
  const std::vector<std::pair<AVPixelFormat, std::vector<AVPixelFormat>>> groups = {
      {AV_PIX_FMT_YUV420P, {AV_PIX_FMT_NV12, AV_PIX_FMT_NV21, AV_PIX_FMT_YUVA420P}},
      {AV_PIX_FMT_YUV422P, {AV_PIX_FMT_YUYV422, AV_PIX_FMT_UYVY422, AV_PIX_FMT_NV16}},
      {AV_PIX_FMT_YUV444P, {AV_PIX_FMT_NV24, AV_PIX_FMT_NV42}},
      {AV_PIX_FMT_GBRP, {AV_PIX_FMT_GBRAP}},
  };
  for (const auto& [ref_fmt, others] : groups)
    for (AVPixelFormat other : others)
      for (Style s : {Style::Mosaic, Style::Blur, Style::Fill})
        for (Shape shape : {Shape::Box, Shape::Ellipse}) {
          SCOPED_TRACE(fmt_name(ref_fmt) + " vs " + fmt_name(other) + " style " + std::to_string(int(s)));
          FramePtr a = make_frame(ref_fmt, 45, 31, 1);
          FramePtr b = make_frame(other, 45, 31, 2);
          for (int c = 0; c < 3; ++c)
            for (int y = 0; y < comp_height(*a, c); ++y)
              for (int x = 0; x < comp_width(*a, c); ++x) set(*b, c, x, y, get(*a, c, x, y));
          Redactor red;
          const PixelRect r{3, 5, 37, 23};
          red.apply(*a, r, style(s, shape));
          red.apply(*b, r, style(s, shape));
          for (int c = 0; c < 3; ++c) {
            const Plane pa = values(*a, c), pb = values(*b, c);
            ASSERT_EQ(pa.v, pb.v) << "component " << c;
          }
        }
}

TEST(Frames, NegativeLinesizeIsHandled) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 32, 16);
  const auto before = all_values(*f);
  // View the frame bottom-up, as some filters hand frames over.
  for (int p = 0; p < 3; ++p) {
    const int rows = p == 0 ? 16 : 8;
    f->data[p] += static_cast<std::ptrdiff_t>(rows - 1) * f->linesize[p];
    f->linesize[p] = -f->linesize[p];
  }
  Redactor red;
  red.apply(*f, {4, 0, 8, 4}, style(Style::Fill));
  red.apply(*f, {16, 8, 16, 8}, style(Style::Blur));
  for (int y = 0; y < 4; ++y) EXPECT_EQ(get(*f, 0, 5, y), 16u);
  EXPECT_EQ(get(*f, 0, 5, 4), before[0].at(5, 15 - 4));  // before was read top-down
  EXPECT_EQ(get(*f, 1, 2, 0), 128u);
}

TEST(Redactor, ScratchStopsGrowingInSteadyState) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 320, 240);
  FramePtr g = make_frame(AV_PIX_FMT_P010LE, 320, 240);
  Redactor red;
  auto all = [&] {
    for (Style s : {Style::Mosaic, Style::Blur, Style::Fill})
      for (const PixelRect& r : {PixelRect{10, 10, 200, 150}, PixelRect{50, 60, 30, 40}, PixelRect{0, 0, 320, 240}}) {
        red.apply(*f, r, style(s, Shape::Ellipse));
        red.apply(*g, r, style(s));
      }
  };
  all();
  const std::size_t warm = red.scratch_bytes();
  EXPECT_GT(warm, 0u);
  for (int i = 0; i < 3; ++i) all();
  EXPECT_EQ(red.scratch_bytes(), warm);
}

TEST(Redactor, UnsupportedFrameFormatThrows) {
  FramePtr f = make_frame(AV_PIX_FMT_PAL8, 16, 16);
  Redactor red;
  EXPECT_THROW(red.apply(*f, {0, 0, 4, 4}, style(Style::Fill)), roadveil::Error);
  FramePtr g = make_frame(AV_PIX_FMT_GRAYF32LE, 16, 16);
  EXPECT_THROW(red.apply(*g, {0, 0, 4, 4}, style(Style::Mosaic)), roadveil::Error);
}

TEST(Mask, BoxAndEllipse) {
  FramePtr m = make_frame(AV_PIX_FMT_GRAY8, 40, 30);
  for (int y = 0; y < 30; ++y) std::fill_n(m->data[0] + y * m->linesize[0], 40, 0);
  draw_mask(*m, {2, 3, 10, 6}, Shape::Box);
  draw_mask(*m, {20, 10, 20, 20}, Shape::Ellipse);  // touches the right and bottom edges
  draw_mask(*m, {-4, 28, 8, 8}, Shape::Box);        // clamped
  auto at = [&](int x, int y) { return m->data[0][y * m->linesize[0] + x]; };
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      const bool box = x >= 2 && x < 12 && y >= 3 && y < 9;
      const bool clamped = x < 4 && y >= 28;
      const double dx = (x + 0.5 - 30) / 10, dy = (y + 0.5 - 20) / 10;
      const double d = dx * dx + dy * dy;
      if (box || clamped || d < 0.999) {
        EXPECT_EQ(at(x, y), 255) << x << "," << y;
      } else if (d > 1.001) {
        EXPECT_EQ(at(x, y), 0) << x << "," << y;
      }
    }
  FramePtr wrong = make_frame(AV_PIX_FMT_YUV420P, 8, 8);
  EXPECT_THROW(draw_mask(*wrong, {0, 0, 2, 2}, Shape::Box), roadveil::Error);
}

}  // namespace
