// Upright views of pictures stored sideways (#16 item 13): every sample lands where a clockwise turn puts it,
// in planar formats as they are and in others after conversion, and a box found upright maps back onto the
// stored pixels it covers.
#include <gtest/gtest.h>

extern "C" {
#include <libavutil/display.h>
}

#include "media/rotation.hpp"

namespace roadveil::media {
namespace {

FramePtr numbered(AVPixelFormat fmt, int w, int h) {
  FramePtr f = make_frame();
  f->format = fmt;
  f->width = w;
  f->height = h;
  EXPECT_GE(av_frame_get_buffer(f.get(), 0), 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(16 + 3 * x + 7 * y);
  const int cw = (w + 1) / 2, ch = fmt == AV_PIX_FMT_YUV420P ? (h + 1) / 2 : h;
  for (int p = 1; p <= 2; ++p)
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) f->data[p][y * f->linesize[p] + x] = 128;
  return f;
}

std::uint8_t luma(const AVFrame& f, int x, int y) { return f.data[0][y * f.linesize[0] + x]; }

TEST(Rotation, EveryLumaSampleLandsWhereAClockwiseTurnPutsIt) {
  const int w = 6, h = 4;
  const FramePtr f = numbered(AV_PIX_FMT_YUV420P, w, h);
  for (int degrees : {90, 180, 270}) {
    const FramePtr r = rotated_copy(*f, degrees);
    ASSERT_EQ(r->width, degrees == 180 ? w : h);
    ASSERT_EQ(r->height, degrees == 180 ? h : w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        // Where stored pixel (x, y) goes when turned clockwise.
        const int rx = degrees == 90 ? h - 1 - y : degrees == 180 ? w - 1 - x : y;
        const int ry = degrees == 90 ? x : degrees == 180 ? h - 1 - y : w - 1 - x;
        EXPECT_EQ(luma(*r, rx, ry), luma(*f, x, y)) << degrees << " deg, pixel " << x << "," << y;
        // A one-pixel box there maps back onto (x, y).
        const Box back = box_in_stored_frame(Box{float(rx), float(ry), float(rx + 1), float(ry + 1)}, degrees, w, h);
        EXPECT_EQ(back, (Box{float(x), float(y), float(x + 1), float(y + 1)})) << degrees << " deg";
      }
  }
}

TEST(Rotation, BoxesTurnBothWays) {
  const Box stored{10, 20, 50, 30};
  for (int degrees : {90, 180, 270}) {
    const Box up = box_in_upright_frame(stored, degrees, 160, 90);
    EXPECT_EQ(box_in_stored_frame(up, degrees, 160, 90), stored) << degrees;
    EXPECT_FLOAT_EQ(up.width(), degrees == 180 ? stored.width() : stored.height()) << degrees;
  }
}

TEST(Rotation, AReusedBufferGetsNoSideDataAndNoNewAllocation) {
  const FramePtr f = numbered(AV_PIX_FMT_YUV420P, 6, 4);
  av_frame_new_side_data(f.get(), AV_FRAME_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
  FramePtr out;
  rotate_into(*f, 90, out);
  const std::uint8_t* first = out->data[0];
  for (int i = 0; i < 5; ++i) rotate_into(*f, 90, out);
  EXPECT_EQ(out->data[0], first) << "the buffer is reused";
  EXPECT_EQ(out->nb_side_data, 0);
}

TEST(Rotation, Chroma422IsConvertedBeforeATurn) {
  const FramePtr f = numbered(AV_PIX_FMT_YUVJ422P, 8, 4);
  const FramePtr r = rotated_copy(*f, 90);
  EXPECT_EQ(r->format, AV_PIX_FMT_YUVJ444P) << "full range kept";
  EXPECT_EQ(r->width, 4);
  EXPECT_EQ(r->height, 8);
  EXPECT_NEAR(luma(*r, 3, 0), luma(*f, 0, 0), 2);  // stored top-left ends top-right
}

TEST(Rotation, TheDisplayMatrixSaysHowToTurn) {
  const FramePtr f = numbered(AV_PIX_FMT_YUV420P, 4, 4);
  EXPECT_EQ(frame_rotation_degrees(*f), 0);
  AVFrameSideData* sd = av_frame_new_side_data(f.get(), AV_FRAME_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
  ASSERT_NE(sd, nullptr);
  // av_display_rotation_set takes a clockwise angle, av_display_rotation_get gives a counter-clockwise one: the
  // JPEG decoder's matrix for EXIF 6 reads -90 ("rotation=-90" in ffprobe), i.e. turn 90 clockwise to show.
  av_display_rotation_set(reinterpret_cast<int32_t*>(sd->data), 90);
  EXPECT_EQ(av_display_rotation_get(reinterpret_cast<int32_t*>(sd->data)), -90);
  EXPECT_EQ(frame_rotation_degrees(*f), 90);
  av_display_rotation_set(reinterpret_cast<int32_t*>(sd->data), -90);  // EXIF 8
  EXPECT_EQ(frame_rotation_degrees(*f), 270);
  EXPECT_EQ(frame_rotation_degrees(*rotated_copy(*f, 270)), 0) << "the upright copy has no rotation left";
}

}  // namespace
}  // namespace roadveil::media
