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

namespace roadveil::media {
namespace {

// A grey picture written as JPEG was 4:4:4 (the best format by loss): three full planes, two of them constant.
// It is 4:2:0 now, the grey levels the same, the file smaller.
TEST(EncodeImage, AGreyPictureIsWrittenAsJpegWithQuarterChroma) {
  using roadveil::testing::quote;
  roadveil::testing::TempDir dir;
  roadveil::testing::ffmpeg_make("-f lavfi -i testsrc2=size=320x240 -frames:v 1 -pix_fmt gray " + quote(dir / "grey.png"));
  const FramePtr grey = decode_image(dir / "grey.png");
  ASSERT_EQ(grey->format, AV_PIX_FMT_GRAY8);
  encode_image(*grey, dir / "out.jpg", ImageEncodeOptions{});
  const auto probe = roadveil::testing::run_command("ffprobe -v error -show_entries stream=pix_fmt -of csv=p=0 " + quote(dir / "out.jpg"));
  EXPECT_EQ(probe.output, "yuvj420p\n");
  const FramePtr back = decode_image(dir / "out.jpg");
  ASSERT_EQ(back->width, 320);
  ASSERT_EQ(back->height, 240);
  double difference = 0;
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x)
      difference += std::abs(int(grey->data[0][y * grey->linesize[0] + x]) - int(back->data[0][y * back->linesize[0] + x]));
  EXPECT_LT(difference / (320 * 240), 1.5);  // JPEG at the default quality, nothing else
  // No colour came in: every chroma sample is neutral.
  for (int plane = 1; plane <= 2; ++plane)
    for (int y = 0; y < back->height / 2; ++y)
      for (int x = 0; x < back->width / 2; ++x)
        ASSERT_NEAR(back->data[plane][y * back->linesize[plane] + x], 128, 1) << plane << " " << x << "," << y;
}

}  // namespace
}  // namespace roadveil::media
