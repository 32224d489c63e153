// #16 item 7: palette and 1-bit pictures decode into formats that detection and redaction work on.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "media/image_file.hpp"
#include "media/photo_metadata.hpp"
#include "tiff_writer.hpp"
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
  std::vector<std::uint8_t> jpeg = roadveil::testing::read_bytes(dir / "plain.jpg");
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

namespace roadveil::media {
namespace {


// #17 (outputs no bigger than their source): a JPEG photo was re-encoded at quantiser 2, finer than most
// cameras' tables, and came out larger; it keeps its own tables now.
TEST(EncodeImage, AJpegKeepsItsOwnQuantisationTables) {
  using roadveil::testing::quote;
  roadveil::testing::TempDir dir;
  // A source with tables of its own, different at every position (luma 2 + i, chroma 3 + 2i in row order;
  // FFmpeg writes the matrix it is given at quantiser 8, and its DC step 8), so the order is checked too.
  std::string luma, chroma;
  for (int i = 0; i < 64; ++i) {
    if (i > 0) {
      luma += ',';
      chroma += ',';
    }
    luma += std::to_string(2 + i);
    chroma += std::to_string(3 + 2 * i);
  }
  roadveil::testing::ffmpeg_make("-f lavfi -i testsrc2=size=640x360 -frames:v 1 -pix_fmt yuvj420p -q:v 8 -intra_matrix " + luma +
                                 " -chroma_intra_matrix " + chroma + " " + quote(dir / "src.jpg"));
  const std::vector<std::uint8_t> source = roadveil::testing::read_bytes(dir / "src.jpg");
  const auto tables = jpeg_quant_tables(source.data(), source.size());
  ASSERT_TRUE(tables);
  EXPECT_EQ(tables->luma[0], 8);
  for (int i = 1; i < 64; ++i) {
    EXPECT_EQ(tables->luma[static_cast<std::size_t>(i)], 2 + i) << i;
    EXPECT_EQ(tables->chroma[static_cast<std::size_t>(i)], 3 + 2 * i) << i;
  }
  const FramePtr picture = decode_image(dir / "src.jpg");
  encode_image(*picture, dir / "same.jpg", ImageEncodeOptions{}, dir / "src.jpg");
  encode_image(*picture, dir / "q2.jpg", ImageEncodeOptions{.jpeg_qscale = 2}, dir / "src.jpg");
  const std::vector<std::uint8_t> same = roadveil::testing::read_bytes(dir / "same.jpg"), q2 = roadveil::testing::read_bytes(dir / "q2.jpg");
  const auto same_tables = jpeg_quant_tables(same.data(), same.size());
  ASSERT_TRUE(same_tables);
  EXPECT_EQ(same_tables->luma, tables->luma);
  EXPECT_EQ(same_tables->chroma, tables->chroma);
  EXPECT_LE(same.size(), source.size() * 102 / 100);
  const auto q2_tables = jpeg_quant_tables(q2.data(), q2.size());
  ASSERT_TRUE(q2_tables);
  EXPECT_NE(q2_tables->luma, tables->luma);  // a quantiser asked for: FFmpeg's tables
  // The quantiser asked for is the one used: every JPEG was written at FFmpeg's floor, 2, whatever was asked.
  encode_image(*picture, dir / "q31.jpg", ImageEncodeOptions{.jpeg_qscale = 31}, dir / "src.jpg");
  const std::vector<std::uint8_t> q31 = roadveil::testing::read_bytes(dir / "q31.jpg");
  const auto q31_tables = jpeg_quant_tables(q31.data(), q31.size());
  ASSERT_TRUE(q31_tables);
  EXPECT_LT(q31.size(), q2.size() / 2);
  EXPECT_GT(q31_tables->luma[1], q2_tables->luma[1] * 10);
  // Without a JPEG source (a PNG, a mask, cover art without tables) the quantiser is the default one.
  encode_image(*picture, dir / "nosource.jpg", ImageEncodeOptions{});
  EXPECT_EQ(roadveil::testing::read_bytes(dir / "nosource.jpg"), q2);
  // Not a JPEG, 16-bit or missing tables: none.
  EXPECT_FALSE(jpeg_quant_tables(source.data(), 100));
  const std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_FALSE(jpeg_quant_tables(png.data(), png.size()));
}

}  // namespace
}  // namespace roadveil::media

namespace roadveil::media {
namespace {

// A JPEG up to its first scan: the DQT segments given, a start of frame (marker, sample precision, the
// table of each component), a start of scan.
std::vector<std::uint8_t> jpeg_with(const std::vector<std::vector<std::uint8_t>>& dqts, std::uint8_t sof, std::uint8_t precision,
                                    const std::vector<std::uint8_t>& component_tables) {
  std::vector<std::uint8_t> b = {0xFF, 0xD8};
  auto segment = [&](std::uint8_t marker, const std::vector<std::uint8_t>& body) {
    const std::size_t length = body.size() + 2;
    b.insert(b.end(), {0xFF, marker, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length & 0xFF)});
    b.insert(b.end(), body.begin(), body.end());
  };
  for (const auto& d : dqts) segment(0xDB, d);
  std::vector<std::uint8_t> frame = {precision, 0, 16, 0, 16, static_cast<std::uint8_t>(component_tables.size())};
  for (std::size_t c = 0; c < component_tables.size(); ++c)
    frame.insert(frame.end(), {static_cast<std::uint8_t>(c + 1), 0x11, component_tables[c]});
  segment(sof, frame);
  segment(0xDA, {1, 1, 0, 0, 63, 0});
  b.insert(b.end(), {0x00, 0xFF, 0xD9});
  return b;
}
// A table of one value everywhere (8-bit), or with precision 1 (16-bit).
std::vector<std::uint8_t> dqt(std::uint8_t id, std::uint8_t value, bool sixteen_bit = false) {
  std::vector<std::uint8_t> d = {static_cast<std::uint8_t>((sixteen_bit ? 0x10 : 0) | id)};
  for (int k = 0; k < 64; ++k) {
    if (sixteen_bit) d.push_back(0);
    d.push_back(value);
  }
  return d;
}

TEST(JpegQuantTables, WhichTablesAPictureHas) {
  using Table = std::array<std::uint16_t, 64>;
  auto filled = [](std::uint16_t v) {
    Table t;
    t.fill(v);
    return t;
  };
  auto tables_of = [](const std::vector<std::uint8_t>& b) { return jpeg_quant_tables(b.data(), b.size()); };
  auto colour = tables_of(jpeg_with({dqt(0, 5), dqt(1, 7)}, 0xC0, 8, {0, 1, 1}));
  ASSERT_TRUE(colour);
  EXPECT_EQ(colour->luma, filled(5));
  EXPECT_EQ(colour->chroma, filled(7));
  // Cr with a finer table of its own than Cb's: the output's shared chroma table is the finer.
  auto finer_cr = tables_of(jpeg_with({dqt(0, 5), dqt(1, 7), dqt(2, 3)}, 0xC2, 8, {0, 1, 2}));
  ASSERT_TRUE(finer_cr);
  EXPECT_EQ(finer_cr->chroma, filled(3));
  auto grey = tables_of(jpeg_with({dqt(0, 5)}, 0xC0, 8, {0}));
  ASSERT_TRUE(grey);
  EXPECT_EQ(grey->chroma, filled(5));
  // A table given after the frame, before the scan, counts.
  auto later = jpeg_with({}, 0xC0, 8, {0, 0, 0});
  const auto late_table = dqt(0, 9);
  const std::vector<std::uint8_t> segment = {0xFF, 0xDB, 0, 67};
  const std::size_t sos = later.size() - 3 - 10;  // the SOS segment: 2 + 2 + 6 bytes before the last 3
  later.insert(later.begin() + static_cast<std::ptrdiff_t>(sos), late_table.begin(), late_table.end());
  later.insert(later.begin() + static_cast<std::ptrdiff_t>(sos), segment.begin(), segment.end());
  auto late = tables_of(later);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->luma, filled(9));
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 5, true)}, 0xC0, 8, {0})));  // 16-bit table
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 5)}, 0xC1, 12, {0})));       // 12-bit samples
  EXPECT_FALSE(tables_of(jpeg_with({}, 0xC3, 8, {0})));                  // lossless: no tables
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 0)}, 0xC0, 8, {0})));         // a zero step
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 5)}, 0xC0, 8, {5})));         // no table 5
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 5)}, 0xC0, 8, {})));          // no components
  EXPECT_FALSE(tables_of(jpeg_with({dqt(0, 5)}, 0xC0, 8, {0, 1})));      // chroma's table never given
}

// The finest tables there are (quality 100: every step 1) make a valid picture with those tables.
TEST(EncodeImage, TheFinestTablesAreWrittenAsGiven) {
  roadveil::testing::TempDir dir;
  roadveil::testing::ffmpeg_make("-f lavfi -i testsrc2=size=64x48 -frames:v 1 -pix_fmt yuvj420p " + roadveil::testing::quote(dir / "a.jpg"));
  const FramePtr picture = decode_image(dir / "a.jpg");
  JpegQuantTables finest;
  finest.luma.fill(1);
  finest.chroma.fill(1);
  const auto bytes = encode_picture(*picture, AV_CODEC_ID_MJPEG, {}, "finest", &finest);
  const auto written = jpeg_quant_tables(bytes.data(), bytes.size());
  ASSERT_TRUE(written);
  EXPECT_EQ(written->luma[0], 8);  // FFmpeg's DC step, whatever the table
  for (std::size_t i = 1; i < 64; ++i) EXPECT_EQ(written->luma[i], 1) << i;
  std::ofstream(dir / "b.jpg", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  EXPECT_EQ(decode_image(dir / "b.jpg")->width, 64);
}

}  // namespace
}  // namespace roadveil::media

namespace roadveil::media {
namespace {

// A little-endian TIFF of 2x2 grey pages, uncompressed; each page's NewSubfileType as given (1: a
// reduced-resolution copy, a thumbnail).
std::vector<std::uint8_t> grey_tiff(const std::vector<std::uint32_t>& subfile_types) {
  testing::TiffWriter w{false, {'I', 'I', 42, 0, 0, 0, 0, 0}};
  std::size_t link = 4;  // where the offset of the next IFD goes
  for (const std::uint32_t type : subfile_types) {
    const auto pixels = static_cast<std::uint32_t>(w.bytes.size());
    for (int i = 0; i < 4; ++i) w.bytes.push_back(std::uint8_t(60 * i));
    const std::size_t ifd = w.bytes.size();
    for (int b = 0; b < 4; ++b) w.bytes[link + b] = std::uint8_t(ifd >> (8 * b));
    const std::vector<std::array<std::uint32_t, 3>> entries = {{254, 4, type}, {256, 3, 2}, {257, 3, 2}, {258, 3, 8}, {259, 3, 1},
                                                               {262, 3, 1}, {273, 4, pixels}, {277, 3, 1}, {278, 3, 2}, {279, 4, 4}};
    w.u16(static_cast<std::uint32_t>(entries.size()));
    for (const auto& [tag, kind, value] : entries) w.entry(tag, kind, value);
    link = w.bytes.size();
    w.u32(0);
  }
  return w.bytes;
}

// tiff_pages of a whole file.
int pages(const std::vector<std::uint8_t>& file) { return tiff_pages(file.data(), file.size()); }

// A multi-page TIFF decoded as its first page: the other pages were lost from the output and verify passed
// the faces on them. Refused now, naming what to do; a page with its thumbnail is one page.
TEST(ImageDecode, AMultiPageTiffIsRefusedAndAThumbnailIsNoPage) {
  EXPECT_EQ(pages(grey_tiff({0})), 1);
  EXPECT_EQ(pages(grey_tiff({0, 0, 2})), 3);
  EXPECT_EQ(pages(grey_tiff({0, 1})), 1);
  EXPECT_EQ(pages({'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 1);  // an IFD of no entries, no next
  EXPECT_EQ(pages({0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0}), 0);  // not a TIFF
  // An IFD chain that loops back to its first IFD is one page (it counted 4,096 and refused the file).
  std::vector<std::uint8_t> loop = grey_tiff({0});
  const std::size_t next = loop.size() - 4;
  std::copy(loop.begin() + 4, loop.begin() + 8, loop.begin() + static_cast<std::ptrdiff_t>(next));
  EXPECT_EQ(pages(loop), 1);
  testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return dir / name;
  };
  const auto one = write("one.tif", grey_tiff({0, 1}));
  const FramePtr frame = decode_image(one);
  EXPECT_EQ(frame->width, 2);
  try {
    decode_image(write("scan.tif", grey_tiff({0, 2})));
    FAIL() << "a 2-page TIFF was decoded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scan.tif: a TIFF of 2 pages"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace roadveil::media
