// #16 item 7: palette and 1-bit pictures decode into formats that detection and redaction work on.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

// A fill byte (FF) before the EXIF segment is valid JPEG; the metadata walk stopped there, and the output
// lost the EXIF (its orientation too).
TEST(EncodeImage, MetadataAfterAFillByteIsCarried) {
  roadveil::testing::TempDir dir;
  roadveil::testing::ffmpeg_make("-f lavfi -i color=c=gray:s=32x16 -frames:v 1 " + roadveil::testing::quote(dir / "plain.jpg"));
  std::ifstream in(dir / "plain.jpg", std::ios::binary);
  std::vector<std::uint8_t> jpeg{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_GT(jpeg.size(), 2u);
  // EXIF with one IFD0 entry: Orientation 1 (nothing to turn), so only the carrying is tested.
  const std::vector<std::uint8_t> app1 = {0xFF, 0xFF, 0xE1, 0x00, 34, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                          1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
  {
    std::ofstream out(dir / "fill.jpg", std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  }
  const FramePtr picture = decode_image(dir / "fill.jpg");
  encode_image(*picture, dir / "out.jpg", {}, dir / "fill.jpg");
  std::ifstream result(dir / "out.jpg", std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(result), std::istreambuf_iterator<char>()};
  EXPECT_NE(bytes.find(std::string("Exif\0\0II*", 9)), std::string::npos);
}

}  // namespace
}  // namespace roadveil::media
