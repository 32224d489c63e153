#include <gtest/gtest.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "detect/preprocess.hpp"
#include "media/ffmpeg_util.hpp"

using namespace roadveil;
using namespace roadveil::detect;

namespace {
// An allocated, unfilled frame (`align` 1: rows exactly as wide as the picture).
media::FramePtr allocated_frame(int w, int h, AVPixelFormat fmt, int align = 0) {
  auto f = media::make_frame();
  f->format = fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), align) < 0)  // ends the test, failed, as an ASSERT would
    throw std::runtime_error(std::string("cannot allocate a ") + av_get_pix_fmt_name(fmt) + " frame");
  return f;
}

// A yuv420p frame: left half pure red-ish (limited-range BT.601 red: Y 81, U 90, V 240), right half grey.
media::FramePtr make_frame(int w, int h) {
  auto f = allocated_frame(w, h, AV_PIX_FMT_YUV420P);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f->data[0][y * f->linesize[0] + x] = x < w / 2 ? 81 : 128;
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w / 2; ++x) {
      f->data[1][y * f->linesize[1] + x] = x < w / 4 ? 90 : 128;
      f->data[2][y * f->linesize[2] + x] = x < w / 4 ? 240 : 128;
    }
  return f;
}

// A picture with smooth colour gradients and some edges (yuv420p, limited range).
media::FramePtr smooth_frame(int w, int h) {
  auto f = allocated_frame(w, h, AV_PIX_FMT_YUV420P);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      f->data[0][y * f->linesize[0] + x] = static_cast<uint8_t>(40 + (x * 150) / w + ((x / 40 + y / 40) % 2) * 30);
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w / 2; ++x) {
      f->data[1][y * f->linesize[1] + x] = static_cast<uint8_t>(90 + (y * 80) / (h / 2));
      f->data[2][y * f->linesize[2] + x] = static_cast<uint8_t>(170 - (x * 80) / (w / 2));
    }
  return f;
}

// The picture in another pixel format (libswscale, full quality: only the layout is under test).
media::FramePtr convert(const AVFrame& src, AVPixelFormat fmt) {
  auto f = allocated_frame(src.width, src.height, fmt);
  SwsContext* sws = sws_getContext(src.width, src.height, static_cast<AVPixelFormat>(src.format), src.width, src.height,
                                   fmt, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  EXPECT_NE(sws, nullptr);
  sws_scale(sws, src.data, src.linesize, 0, src.height, f->data, f->linesize);
  sws_freeContext(sws);
  return f;
}
}  // namespace

TEST(Preprocess, WritesChannelsInTheModelsOrderAndPadsTheRest) {
  auto frame = make_frame(64, 32);
  TensorMapping m = plan_tensor(PixelRect{0, 0, 64, 32}, 32, 1.0f, 32);
  ASSERT_EQ(m.tensor_w, 32);
  ASSERT_EQ(m.tensor_h, 32);  // content 32x16 + padding below
  std::vector<float> tensor(3 * 32 * 32, -1.0f);
  Preprocessor pre;
  pre.run(*frame, PixelRect{0, 0, 64, 32}, m, TensorFormat{ChannelOrder::BGR, 1.0f, 7.0f, 32}, tensor.data());
  auto at = [&](int c, int y, int x) { return tensor[c * 32 * 32 + y * 32 + x]; };
  // BGR order: channel 2 is red. Left: red high, blue low. Right: grey.
  EXPECT_GT(at(2, 4, 2), 200);
  EXPECT_LT(at(0, 4, 2), 60);
  EXPECT_NEAR(at(0, 4, 28), at(2, 4, 28), 6);
  EXPECT_FLOAT_EQ(at(1, 20, 5), 7.0f);  // padding below the content

  std::vector<float> rgb(3 * 32 * 32);
  pre.run(*frame, PixelRect{0, 0, 64, 32}, m, TensorFormat{ChannelOrder::RGB, 1.0f / 255, 0.5f, 32}, rgb.data());
  EXPECT_NEAR(rgb[0 * 1024 + 4 * 32 + 2] * 255, at(2, 4, 2), 1.0);  // red first now, scaled to 0..1
}

TEST(Preprocess, CropMapsBackToSourceCoordinates) {
  auto frame = make_frame(64, 32);
  TensorMapping m = plan_tensor(PixelRect{31, 0, 32, 32}, 64, 2.0f, 32);
  std::vector<float> tensor(3 * m.tensor_w * m.tensor_h);
  Preprocessor pre;
  pre.run(*frame, PixelRect{31, 0, 32, 32}, m, TensorFormat{}, tensor.data());
  EXPECT_FLOAT_EQ(m.offset_x, 30);  // widened to the chroma grid
  const Box b = m.to_source(Box{0, 0, 4, 4});
  EXPECT_FLOAT_EQ(b.x1, 30);
}

// Pixels shown twice as wide as high (an anamorphic video): the tensor holds the crop as shown, its longer
// side as shown within max_side, and its boxes map back to stored pixels.
TEST(Preprocess, AWidePixelIsWideInTheTensor) {
  TensorMapping m = plan_tensor(PixelRect{10, 0, 50, 80}, 100, 2.0f, 32, 2.0f);
  EXPECT_FLOAT_EQ(m.scale, 1.0f);  // shown 100x80: its longer side is the width
  EXPECT_EQ(m.content_w, 100);
  EXPECT_EQ(m.content_h, 80);
  const Box b = m.to_source(Box{20, 8, 60, 48});
  EXPECT_EQ(b, (Box{20, 8, 40, 48}));
  // Rounded up to the alignment: not enlarged past max_upscale of the picture as shown.
  const TensorMapping tall = plan_tensor(PixelRect{0, 0, 40, 40}, 1000, 1.0f, 32, 0.5f);
  EXPECT_EQ(tall.content_w, 20);
  EXPECT_EQ(tall.content_h, 40);
  // The picture in the tensor is the crop as shown: a stored column is two tensor columns wide.
  auto frame = make_frame(64, 32);
  TensorMapping wide = plan_tensor(PixelRect{0, 0, 64, 32}, 128, 2.0f, 32, 2.0f);
  ASSERT_EQ(wide.content_w, 128);
  ASSERT_EQ(wide.content_h, 32);
  std::vector<float> tensor(3 * wide.tensor_w * wide.tensor_h);
  Preprocessor pre;
  pre.run(*frame, PixelRect{0, 0, 64, 32}, wide, TensorFormat{}, tensor.data());
  EXPECT_EQ(wide.content_w, 128);
  const float* red = tensor.data() + 2 * wide.tensor_w * wide.tensor_h;  // BGR: red is the third plane
  EXPECT_GT(red[16 * wide.tensor_w + 60], 200.0f);  // the red half of the frame: the left 64 tensor columns
  EXPECT_LT(red[16 * wide.tensor_w + 68], 150.0f);
}

// Crops 1-3 px wide or tall (videos that narrow exist): libswscale writes whole vectors per row, so the
// scratch planes need an aligned stride; each row of the tensor must still hold its own row's value.
TEST(Preprocess, TinyCropsKeepEveryRowsValue) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 300}, {2, 300}, {3, 7}, {300, 2}, {2, 2}}) {
    auto f = allocated_frame(w, h, AV_PIX_FMT_GRAY8);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<uint8_t>(16 + (y * 200) / h);
    TensorMapping m = plan_tensor(PixelRect{0, 0, w, h}, std::max(w, h), 1.0f, 32);
    std::vector<float> tensor(3 * static_cast<size_t>(m.tensor_w) * m.tensor_h, -1.0f);
    Preprocessor pre;
    pre.run(*f, PixelRect{0, 0, w, h}, m, TensorFormat{ChannelOrder::RGB, 1.0f, 0.0f, 32}, tensor.data());
    ASSERT_EQ(m.content_w, w);
    ASSERT_EQ(m.content_h, h);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          ASSERT_NEAR(tensor[(static_cast<size_t>(c) * m.tensor_h + y) * m.tensor_w + x], 16 + (y * 200) / h, 2.0)
              << w << "x" << h << " c" << c << " y" << y << " x" << x;
  }
}

// Issue #17: a scaler set-up per window. Formats that take libswscale (here 10-bit) reuse the scaler of a size
// that comes back, with the same pixels as a fresh one; a stream of new sizes keeps at most a bounded number.
TEST(Preprocess, ScalersAreReusedForSizesThatComeBackAndGiveTheSamePixels) {
  auto frame = convert(*smooth_frame(256, 128), AV_PIX_FMT_YUV420P10LE);
  Preprocessor pre, fresh;
  const TensorFormat format{ChannelOrder::RGB, 1.0f, 0.0f, 32};
  auto run = [&](Preprocessor& p, int side) {
    const PixelRect crop{8, 8, side, side};
    TensorMapping m = plan_tensor(crop, 96, 2.0f, 32);
    std::vector<float> tensor(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
    p.run(*frame, crop, m, format, tensor.data());
    return tensor;
  };
  for (int i = 0; i < 30; ++i) {
    run(pre, 100);  // a keyframe-like size
    run(pre, 40 + 2 * (i % 3));  // three window sizes
  }
  EXPECT_EQ(pre.crops(), 60);
  EXPECT_EQ(pre.swscale_crops(), 60);
  EXPECT_EQ(pre.scalers_created(), 4);
  EXPECT_EQ(run(pre, 42), run(fresh, 42));
  for (int side = 10; side < 90; side += 2) run(pre, side);  // 40 new sizes: older scalers are let go
  EXPECT_EQ(run(pre, 100), run(fresh, 100));
}

// Issue #17: 8-bit pictures, every common decoder's output, take no converter at all: a window of a new size
// every time costs no set-up and, once the scratch has grown to the largest crop, no allocation.
TEST(Preprocess, EightBitFormatsNeedNoScalerAndNoNewMemoryForNewSizes) {
  for (const AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUYV422,
                                  AV_PIX_FMT_YUV444P, AV_PIX_FMT_RGB24, AV_PIX_FMT_BGRA, AV_PIX_FMT_GRAY8}) {
    auto frame = convert(*smooth_frame(640, 360), fmt);
    Preprocessor pre;
    const TensorFormat format{ChannelOrder::BGR, 1.0f, 0.0f, 32};
    std::vector<float> tensor(static_cast<std::size_t>(3) * 640 * 640);
    auto run = [&](const PixelRect& crop, int side) {
      TensorMapping m = plan_tensor(crop, side, 2.0f, 32);
      pre.run(*frame, crop, m, format, tensor.data());
    };
    run({0, 0, 640, 360}, 640);  // a keyframe
    for (int i = 0; i < 60; ++i) run({10 + i, 20 + i, 60 + 3 * i, 50 + 2 * i}, 90 + 5 * i);  // 60 windows
    const std::size_t grown = pre.scratch_bytes();
    // 60 more windows, each of a size not seen before (a pixel smaller than one that was).
    for (int i = 0; i < 60; ++i) run({12 + i, 21 + i, 59 + 3 * i, 49 + 2 * i}, 89 + 5 * i);
    EXPECT_EQ(pre.scalers_created(), 0) << av_get_pix_fmt_name(fmt);
    EXPECT_EQ(pre.swscale_crops(), 0) << av_get_pix_fmt_name(fmt);
    EXPECT_EQ(pre.crops(), 121) << av_get_pix_fmt_name(fmt);
    EXPECT_EQ(pre.scratch_bytes(), grown) << av_get_pix_fmt_name(fmt);
  }
}

// The direct path gives what libswscale gives: each 8-bit layout of one picture against the libswscale path of
// its 10-bit version, on a window scaled up, one scaled down, and a keyframe at its own size.
TEST(Preprocess, DirectPathAgreesWithLibswscale) {
  auto source = smooth_frame(640, 360);
  auto reference_frame = convert(*source, AV_PIX_FMT_YUV420P10LE);
  const TensorFormat format{ChannelOrder::RGB, 1.0f, 0.0f, 32};
  for (const AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUYV422, AV_PIX_FMT_YUV444P}) {
    auto frame = convert(*source, fmt);
    for (const auto& [crop, side] : std::vector<std::pair<PixelRect, int>>{
             {{100, 60, 120, 90}, 240}, {{0, 0, 640, 360}, 256}, {{0, 0, 640, 360}, 640}}) {
      Preprocessor direct, reference;
      TensorMapping m = plan_tensor(crop, side, 2.0f, 32), mr = m;
      std::vector<float> a(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h), b(a.size());
      direct.run(*frame, crop, m, format, a.data());
      reference.run(*reference_frame, crop, mr, format, b.data());
      ASSERT_EQ(direct.swscale_crops(), 0);
      ASSERT_EQ(reference.swscale_crops(), 1);
      double total = 0;
      for (std::size_t i = 0; i < a.size(); ++i) total += std::abs(a[i] - b[i]);
      const double mean = total / static_cast<double>(a.size());
      std::printf("%s, crop %dx%d to %d: mean difference to libswscale %.3f of 255\n", av_get_pix_fmt_name(fmt),
                  crop.w, crop.h, side, mean);
      EXPECT_LT(mean, 0.6)
          << av_get_pix_fmt_name(fmt) << " crop " << crop.w << "x" << crop.h << " to " << side;
    }
  }
}

// Scaling down averages what an output pixel spans: 1 px stripes become an even grey, not a pattern of their
// own (point sampling would give stripes of 16 and 235, or a moire).
TEST(Preprocess, ScalingDownAveragesInsteadOfAliasing) {
  auto f = allocated_frame(300, 300, AV_PIX_FMT_GRAY8);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 300; ++x) f->data[0][y * f->linesize[0] + x] = (x + y) % 2 ? 235 : 16;
  for (const int side : {100, 128, 150, 211}) {
    TensorMapping m = plan_tensor(PixelRect{0, 0, 300, 300}, side, 1.0f, 32);
    std::vector<float> tensor(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
    Preprocessor pre;
    pre.run(*f, PixelRect{0, 0, 300, 300}, m, TensorFormat{ChannelOrder::RGB, 1.0f, 0.0f, 32}, tensor.data());
    for (int y = 2; y < m.content_h - 2; ++y)
      for (int x = 2; x < m.content_w - 2; ++x)
        ASSERT_NEAR(tensor[static_cast<std::size_t>(y) * m.tensor_w + x], 125.5, 20.0) << side << " at " << x << "," << y;
  }
}

// The colour matrix and range are the frame's: the same Y'CbCr values are another red under BT.709 than under
// BT.601, and untagged video is read as players read it (HD: BT.709, smaller: BT.601).
TEST(Preprocess, ColoursFollowTheFramesMatrixAndRange) {
  auto uniform = [](int w, int h, AVPixelFormat fmt, int y, int u, int v, AVColorSpace space, AVColorRange range) {
    auto f = allocated_frame(w, h, fmt);
    f->colorspace = space;
    f->color_range = range;
    for (int r = 0; r < h; ++r) std::memset(f->data[0] + r * f->linesize[0], y, w);
    for (int r = 0; r < h / 2; ++r) {
      std::memset(f->data[1] + r * f->linesize[1], u, w / 2);
      std::memset(f->data[2] + r * f->linesize[2], v, w / 2);
    }
    return f;
  };
  auto rgb_of = [](const AVFrame& f) {
    TensorMapping m = plan_tensor(PixelRect{0, 0, f.width, f.height}, 64, 1.0f, 32);
    std::vector<float> t(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
    Preprocessor pre;
    pre.run(f, PixelRect{0, 0, f.width, f.height}, m, TensorFormat{ChannelOrder::RGB, 1.0f, 0.0f, 32}, t.data());
    const std::size_t plane = static_cast<std::size_t>(m.tensor_w) * m.tensor_h, centre = 8 * m.tensor_w + 8;
    return std::array<float, 3>{t[centre], t[plane + centre], t[2 * plane + centre]};
  };
  // Pure red in BT.709, limited range: Y 63, Cb 102, Cr 240.
  const auto tagged = rgb_of(*uniform(1280, 720, AV_PIX_FMT_YUV420P, 63, 102, 240, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG));
  EXPECT_NEAR(tagged[0], 255, 3);
  EXPECT_NEAR(tagged[1], 0, 3);
  EXPECT_NEAR(tagged[2], 0, 3);
  const auto untagged_hd = rgb_of(*uniform(1280, 720, AV_PIX_FMT_YUV420P, 63, 102, 240, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED));
  EXPECT_NEAR(untagged_hd[0], 255, 3);
  // The same values under BT.601 (tagged, or a small untagged picture): a darker red.
  const auto bt601 = rgb_of(*uniform(1280, 720, AV_PIX_FMT_YUV420P, 63, 102, 240, AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG));
  const auto untagged_sd = rgb_of(*uniform(640, 360, AV_PIX_FMT_YUV420P, 63, 102, 240, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED));
  EXPECT_NEAR(bt601[0], 233, 3);
  EXPECT_NEAR(untagged_sd[0], 233, 3);
  // Full range (JPEG): pure red in BT.601 is Y 76, Cb 85, Cr 255.
  const auto jpeg = rgb_of(*uniform(640, 360, AV_PIX_FMT_YUVJ420P, 76, 85, 255, AVCOL_SPC_BT470BG, AVCOL_RANGE_JPEG));
  EXPECT_NEAR(jpeg[0], 255, 3);
  EXPECT_NEAR(jpeg[1], 0, 3);
  EXPECT_NEAR(jpeg[2], 0, 3);
}

TEST(Preprocess, AxisFiltersSumToOneAndStayInsideThePicture) {
  Preprocessor::AxisFilter f;
  for (const auto& [samples, outputs] : std::vector<std::pair<int, int>>{{100, 100}, {100, 37}, {37, 100}, {1, 5}, {7, 2}}) {
    Preprocessor::build_axis(f, samples, static_cast<float>(samples), outputs);
    ASSERT_EQ(f.index.size(), static_cast<std::size_t>(outputs) * f.taps);
    EXPECT_EQ(f.identity, samples == outputs);
    for (int o = 0; o < outputs; ++o) {
      float sum = 0;
      for (int k = 0; k < f.taps; ++k) {
        const std::size_t i = static_cast<std::size_t>(o) * f.taps + k;
        EXPECT_GE(f.index[i], 0);
        EXPECT_LT(f.index[i], samples);
        EXPECT_GE(f.weight[i], 0.0f);
        sum += f.weight[i];
      }
      EXPECT_NEAR(sum, 1.0f, 1e-5f) << samples << " -> " << outputs << " at " << o;
    }
  }
}

// Odd-sized 4:2:0 frames end on half a chroma sample: the last column and row read the last chroma sample,
// not past it (AddressSanitizer in CI), and keep the picture's value.
TEST(Preprocess, OddSizedFramesAreReadToTheirLastPixel) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{33, 17}, {1, 1}, {3, 5}, {641, 361}}) {
    auto f = allocated_frame(w, h, AV_PIX_FMT_YUV420P, 1);  // rows exactly as wide as the picture
    for (int y = 0; y < h; ++y) std::memset(f->data[0] + y * f->linesize[0], 180, w);
    for (int y = 0; y < (h + 1) / 2; ++y) {
      std::memset(f->data[1] + y * f->linesize[1], 128, (w + 1) / 2);
      std::memset(f->data[2] + y * f->linesize[2], 128, (w + 1) / 2);
    }
    for (const int side : {std::max(w, h), 2 * std::max(w, h), std::max(1, std::max(w, h) / 3)}) {
      const PixelRect crop{w > 2 ? 2 : 0, h > 2 ? 2 : 0, w > 2 ? w - 2 : w, h > 2 ? h - 2 : h};
      TensorMapping m = plan_tensor(crop, side, 2.0f, 32);
      std::vector<float> tensor(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
      Preprocessor pre;
      pre.run(*f, crop, m, TensorFormat{ChannelOrder::RGB, 1.0f, 0.0f, 32}, tensor.data());
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < m.content_h; ++y)
          for (int x = 0; x < m.content_w; ++x)
            ASSERT_NEAR(tensor[(static_cast<std::size_t>(c) * m.tensor_h + y) * m.tensor_w + x], (180 - 16) * 255.0 / 219, 1.0)
                << w << "x" << h << " to " << side << " c" << c << " at " << x << "," << y;
    }
  }
}
