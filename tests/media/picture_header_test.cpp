// A photo's size and decoded bytes a pixel, from its header alone: what the run decides its memory by before
// it decodes the picture (pipeline/photo_memory.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <string>
#include <vector>

#include "media/image_file.hpp"
#include "media/picture_header.hpp"
#include "test_util.hpp"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace roadveil::media {
namespace {

using roadveil::testing::ffmpeg_make;
using roadveil::testing::quote;


// Every format a photo comes in, at an odd size, against what FFmpeg decodes: the same size, and at least the
// bytes a decoded pixel takes (palette pictures count their RGBA copy too), never more than twice.
TEST(PictureHeader, SizeAndBytesAPixelMatchWhatDecodes) {
  roadveil::testing::TempDir dir;
  struct Case {
    std::string name, options;
    double bytes;  // expected decoded bytes a pixel from the header
  };
  const std::vector<Case> cases = {
      {"a.jpg", "-pix_fmt yuvj420p", 1.5},   {"b.jpg", "-pix_fmt yuvj444p", 3},   {"c.jpg", "-pix_fmt yuvj422p", 2},
      {"a.png", "-pix_fmt rgb24", 3},      {"b.png", "-pix_fmt rgba", 4},
      {"c.png", "-pix_fmt rgb48be", 6},      {"d.png", "-pix_fmt pal8", 5},       {"e.png", "-pix_fmt gray", 1},
      {"a.webp", "-c:v libwebp", 1.5},       {"b.webp", "-c:v libwebp -lossless 1", 4},
      {"a.tiff", "-pix_fmt rgb24", 3},       {"b.tiff", "-pix_fmt rgb48le", 6},   {"a.gif", "", 5},
      {"a.bmp", "-pix_fmt bgr24", 3},        {"b.bmp", "-pix_fmt pal8", 5},
      {"a.ppm", "", 3},                      {"a.pgm", "", 1},                    {"b.ppm", "-pix_fmt rgb48be", 6},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir / c.name;
    ffmpeg_make("-f lavfi -i testsrc=size=333x217 -frames:v 1 " + c.options + " " + quote(path));
    const std::optional<PictureHeader> header = read_picture_header(path);
    ASSERT_TRUE(header.has_value());
    const FramePtr frame = decode_image(path);
    EXPECT_EQ(header->width, frame->width);
    EXPECT_EQ(header->height, frame->height);
    EXPECT_DOUBLE_EQ(header->decoded_bytes_per_pixel, c.bytes);
    const double decoded = av_image_get_buffer_size(static_cast<AVPixelFormat>(frame->format), frame->width, frame->height, 1) /
                           static_cast<double>(header->pixels());
    EXPECT_GE(header->decoded_bytes_per_pixel, decoded - 0.05);
    EXPECT_LE(header->decoded_bytes_per_pixel, 2 * decoded + 1.1);
    // From memory the same (FFmpeg's TIFF writes its IFD at the end: all of the file is there).
    const std::optional<PictureHeader> from_bytes = picture_header(roadveil::testing::read_bytes(path));
    ASSERT_TRUE(from_bytes.has_value());
    EXPECT_EQ(from_bytes->width, header->width);
  }
}

// A JPEG's frame header comes after its metadata: a 60 KB EXIF segment before it is walked over. A file cut
// before it, a text file and an empty one have no header.
TEST(PictureHeader, AJpegsFrameIsFoundAfterItsMetadataAndNothingIsGuessed) {
  roadveil::testing::TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc=size=640x480 -frames:v 1 " + quote(dir / "plain.jpg"));
  std::vector<std::uint8_t> jpeg = roadveil::testing::read_bytes(dir / "plain.jpg");
  std::vector<std::uint8_t> app1 = {0xFF, 0xE1, 0xEA, 0x62, 'E', 'x', 'i', 'f', 0, 0};  // length 60,002
  app1.resize(2 + 60002, 0);
  jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
  const std::optional<PictureHeader> header = picture_header(jpeg);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->width, 640);
  EXPECT_EQ(header->height, 480);
  jpeg.resize(30000);  // inside the EXIF segment
  EXPECT_FALSE(picture_header(jpeg).has_value());
  const std::string text = "width 640 height 480";
  EXPECT_FALSE(picture_header(std::vector<std::uint8_t>(text.begin(), text.end())).has_value());
  EXPECT_FALSE(picture_header(std::vector<std::uint8_t>{}).has_value());
  EXPECT_FALSE(read_picture_header(dir / "missing.jpg").has_value());
  // A WebP's VP8X chunk of exactly its ten bytes at the end of the data: its height is read from them alone
  // (a 32-bit read went one byte past them; AddressSanitizer in CI says so).
  const std::vector<std::uint8_t> vp8x = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                                          0x10, 0, 0, 0, 0x3F, 0x01, 0, 0xEF, 0, 0};
  const std::optional<PictureHeader> canvas = picture_header(std::vector<std::uint8_t>(vp8x.begin(), vp8x.end()));
  ASSERT_TRUE(canvas.has_value());
  EXPECT_EQ(canvas->width, 320);
  EXPECT_EQ(canvas->height, 240);
}

// FFmpeg's MJPEG encoder stores every Huffman code of a picture before it makes the picture's own tables:
// 6 bytes a pixel at 4:2:0, 12 at 4:4:4, as much as 1.1 GB for a 183-megapixel photo. Above 256 MiB of them
// (a 4:2:0 picture of 44 megapixels) a JPEG is written with the standard's tables, which need none.
TEST(EncodeImage, ALargeJpegIsWrittenWithTheStandardsHuffmanTables) {
  EXPECT_EQ(jpeg_huffman_table_bytes(1920, 1080, AV_PIX_FMT_YUVJ420P), std::uint64_t{120} * 68 * 6 * 64 * 4);
  EXPECT_EQ(jpeg_huffman_table_bytes(1920, 1080, AV_PIX_FMT_YUVJ444P), std::uint64_t{120} * 68 * 12 * 64 * 4);
  EXPECT_EQ(jpeg_huffman_table_bytes(1920, 1080, AV_PIX_FMT_YUVJ422P), std::uint64_t{120} * 68 * 8 * 64 * 4);
  // The luminance DC table of the standard (ITU T.81 K.3): codes of each length 1..16.
  const std::vector<std::uint8_t> standard_dc = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  auto first_dc_table = [](const std::vector<std::uint8_t>& jpeg) {
    for (std::size_t i = 2; i + 21 < jpeg.size(); ++i)
      if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC4 && jpeg[i + 4] == 0x00)
        return std::vector<std::uint8_t>(jpeg.begin() + static_cast<std::ptrdiff_t>(i) + 5, jpeg.begin() + static_cast<std::ptrdiff_t>(i) + 21);
    return std::vector<std::uint8_t>{};
  };
  for (const auto& [width, height, standard] : {std::tuple{1920, 1080, false}, std::tuple{9000, 5000, true}}) {
    SCOPED_TRACE(width);
    const FramePtr frame = make_frame();
    frame->format = AV_PIX_FMT_YUVJ420P;
    frame->width = width;
    frame->height = height;
    ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
    for (int p = 0; p < 3; ++p)
      for (int y = 0; y < (p ? height / 2 : height); ++y) std::fill_n(frame->data[p] + y * frame->linesize[p], p ? width / 2 : width, 128);
    const std::vector<std::uint8_t> jpeg = encode_picture(*frame, AV_CODEC_ID_MJPEG, {}, "test");
    const std::vector<std::uint8_t> dc = first_dc_table(jpeg);
    ASSERT_EQ(dc.size(), 16u);
    EXPECT_EQ(dc == standard_dc, standard);  // a flat grey picture's own table has one DC code, not twelve
  }
}

}  // namespace
}  // namespace roadveil::media
