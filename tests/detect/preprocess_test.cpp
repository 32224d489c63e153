#include <gtest/gtest.h>

extern "C" {
#include <libavutil/frame.h>
}

#include <vector>

#include "detect/preprocess.hpp"
#include "media/ffmpeg_util.hpp"

using namespace roadveil;
using namespace roadveil::detect;

namespace {
// A yuv420p frame: left half pure red-ish (limited-range BT.601 red: Y 81, U 90, V 240), right half grey.
media::FramePtr make_frame(int w, int h) {
  auto f = media::make_frame();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = w;
  f->height = h;
  EXPECT_EQ(av_frame_get_buffer(f.get(), 0), 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f->data[0][y * f->linesize[0] + x] = x < w / 2 ? 81 : 128;
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w / 2; ++x) {
      f->data[1][y * f->linesize[1] + x] = x < w / 4 ? 90 : 128;
      f->data[2][y * f->linesize[2] + x] = x < w / 4 ? 240 : 128;
    }
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

// Crops 1-3 px wide or tall (videos that narrow exist): libswscale writes whole vectors per row, so the
// scratch planes need an aligned stride; each row of the tensor must still hold its own row's value.
TEST(Preprocess, TinyCropsKeepEveryRowsValue) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 300}, {2, 300}, {3, 7}, {300, 2}, {2, 2}}) {
    auto f = media::make_frame();
    f->format = AV_PIX_FMT_GRAY8;
    f->width = w;
    f->height = h;
    ASSERT_EQ(av_frame_get_buffer(f.get(), 0), 0);
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

// Issue #17: a scaler set-up per window. Sizes that come back (keyframes, the windows of a track) reuse their
// scaler, with the same pixels as a fresh one; a stream of new sizes keeps at most a bounded number.
TEST(Preprocess, ScalersAreReusedForSizesThatComeBackAndGiveTheSamePixels) {
  auto frame = make_frame(256, 128);
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
  EXPECT_EQ(pre.scalers_created(), 4);
  EXPECT_EQ(run(pre, 42), run(fresh, 42));
  for (int side = 10; side < 90; side += 2) run(pre, side);  // 40 new sizes: older scalers are let go
  EXPECT_EQ(run(pre, 100), run(fresh, 100));
}
