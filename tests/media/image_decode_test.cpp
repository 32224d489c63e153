// #16 item 7: palette and 1-bit pictures decode into formats that detection and redaction work on.
#include <gtest/gtest.h>

#include "media/image_file.hpp"
#include "test_util.hpp"

namespace roadveil::media {
namespace {

TEST(DecodeImage, PaletteBecomesRgbaAndOneBitBecomesGrey) {
  roadveil::testing::TempDir dir;
  roadveil::testing::ffmpeg_make("-f lavfi -i color=c=red:s=32x16 -frames:v 1 -pix_fmt pal8 " + roadveil::testing::quote(dir / "pal.png"));
  roadveil::testing::ffmpeg_make("-f lavfi -i color=c=white:s=32x16 -frames:v 1 -pix_fmt monob " + roadveil::testing::quote(dir / "mono.png"));
  const FramePtr pal = decode_image(dir / "pal.png");
  ASSERT_EQ(pal->format, AV_PIX_FMT_RGBA);
  EXPECT_EQ(pal->width, 32);
  const std::uint8_t* p = pal->data[0] + 15 * pal->linesize[0] + 31 * 4;  // the last pixel of the last row
  EXPECT_GT(p[0], 200);
  EXPECT_LT(p[1], 60);
  EXPECT_EQ(p[3], 255);
  const FramePtr mono = decode_image(dir / "mono.png");
  ASSERT_EQ(mono->format, AV_PIX_FMT_GRAY8);
  EXPECT_EQ(mono->data[0][15 * mono->linesize[0] + 31], 255);
}

}  // namespace
}  // namespace roadveil::media
