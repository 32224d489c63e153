// Pictures hidden in metadata (media/photo_metadata.hpp): an EXIF thumbnail is unlinked and zeroed in both
// byte orders with the rest of the block intact, JPEGs and PNGs inside binary blocks are zeroed, base64
// pictures in XMP become 'A's, and a JPEG's metadata is scanned for them.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "media/photo_metadata.hpp"
#include "tiff_writer.hpp"

using roadveil::media::pictures_in_photo_metadata;
using roadveil::media::remove_base64_pictures;
using roadveil::media::remove_binary_pictures;
using roadveil::media::remove_exif_pictures;

namespace {

const std::vector<std::uint8_t> kJpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x11, 0x22, 0xFF, 0xD9};

using Writer = roadveil::testing::TiffWriter;

// TIFF header, IFD0 (Orientation 6), IFD1 (the thumbnail: JPEGInterchangeFormat and its length), the thumbnail.
std::vector<std::uint8_t> exif(bool big) {
  Writer w = Writer::with_header(big);
  w.u16(1);
  w.entry(0x0112, 3, 6);
  const std::uint32_t ifd1 = 8 + 2 + 12 + 4;
  w.u32(ifd1);
  w.u16(2);
  const std::uint32_t thumbnail = ifd1 + 2 + 2 * 12 + 4;
  w.entry(0x0201, 4, thumbnail);
  w.entry(0x0202, 4, static_cast<std::uint32_t>(kJpeg.size()));
  w.u32(0);
  w.bytes.insert(w.bytes.end(), kJpeg.begin(), kJpeg.end());
  return w.bytes;
}

bool holds(const std::vector<std::uint8_t>& data, const std::vector<std::uint8_t>& what) {
  return std::search(data.begin(), data.end(), what.begin(), what.end()) != data.end();
}

}  // namespace

TEST(MetadataPictures, TheExifThumbnailIsUnlinkedAndZeroedInBothByteOrders) {
  for (const bool big : {false, true}) {
    SCOPED_TRACE(big ? "big-endian" : "little-endian");
    std::vector<std::uint8_t> block = exif(big);
    const std::vector<std::uint8_t> before = block;
    ASSERT_TRUE(holds(block, kJpeg));
    EXPECT_EQ(remove_exif_pictures(block.data(), block.size()), 1);
    EXPECT_FALSE(holds(block, kJpeg));
    EXPECT_EQ(block.size(), before.size());
    // IFD0's link to IFD1 is 0; its Orientation entry and the header are as they were.
    const std::size_t next = 8 + 2 + 12;
    EXPECT_EQ(std::vector<std::uint8_t>(block.begin() + next, block.begin() + next + 4), std::vector<std::uint8_t>(4, 0));
    EXPECT_TRUE(std::equal(block.begin(), block.begin() + next, before.begin()));
    // Nothing left to remove; a block that is no TIFF is left alone.
    EXPECT_EQ(remove_exif_pictures(block.data(), block.size()), 0);
    std::vector<std::uint8_t> text = {'n', 'o', 't', ' ', 't', 'i', 'f', 'f', 0xFF, 0xD8};
    EXPECT_EQ(remove_exif_pictures(text.data(), text.size()), 0);
  }
  // A truncated block: offsets past its end are not followed.
  std::vector<std::uint8_t> cut = exif(false);
  cut.resize(30);
  EXPECT_EQ(remove_exif_pictures(cut.data(), cut.size()), 0);
}

// Regression (review of photos): only IFD1's picture was zeroed; an uncompressed preview in IFD2, chained after
// the thumbnail's IFD, went out whole (80x54 pixels of the unredacted photo). Every IFD after IFD0 is emptied,
// and a chain that loops is followed once.
TEST(MetadataPictures, PicturesOfEveryIfdAfterTheFirstAreZeroed) {
  for (const bool loop : {false, true}) {
    SCOPED_TRACE(loop ? "IFD2 links back to IFD1" : "IFD2 ends the chain");
    Writer w = Writer::with_header(false);
    w.u16(1);
    w.entry(0x0112, 3, 1);
    const std::uint32_t ifd1 = 8 + 2 + 12 + 4;
    w.u32(ifd1);
    w.u16(2);
    const std::uint32_t ifd2 = ifd1 + 2 + 2 * 12 + 4;
    const std::uint32_t thumbnail = ifd2 + 2 + 2 * 12 + 4;
    const std::vector<std::uint8_t> strip(300, 0x7B);  // raw pixels: no signature to find
    w.entry(0x0201, 4, thumbnail);
    w.entry(0x0202, 4, static_cast<std::uint32_t>(kJpeg.size()));
    w.u32(ifd2);
    w.u16(2);
    w.entry(0x0111, 4, thumbnail + static_cast<std::uint32_t>(kJpeg.size()));
    w.entry(0x0117, 4, static_cast<std::uint32_t>(strip.size()));
    w.u32(loop ? ifd1 : 0);
    w.bytes.insert(w.bytes.end(), kJpeg.begin(), kJpeg.end());
    w.bytes.insert(w.bytes.end(), strip.begin(), strip.end());
    std::vector<std::uint8_t> block = w.bytes;
    EXPECT_EQ(remove_exif_pictures(block.data(), block.size()), 2);
    EXPECT_FALSE(holds(block, kJpeg));
    EXPECT_FALSE(holds(block, std::vector<std::uint8_t>(16, 0x7B)));
  }
}

TEST(MetadataPictures, JpegsAndPngsInsideBinaryBlocksAreZeroed) {
  std::vector<std::uint8_t> block = {'8', 'B', 'I', 'M', 0x04, 0x0C};
  block.insert(block.end(), kJpeg.begin(), kJpeg.end());
  block.insert(block.end(), {'x', 'y'});
  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  png.insert(png.end(), 17, 1);  // IHDR's 13 bytes and CRC
  png.insert(png.end(), {0, 0, 0, 0, 'I', 'E', 'N', 'D', 1, 2, 3, 4});
  block.insert(block.end(), png.begin(), png.end());
  block.push_back('z');
  EXPECT_EQ(remove_binary_pictures(block.data(), block.size()), 2);
  EXPECT_FALSE(holds(block, kJpeg));
  EXPECT_FALSE(holds(block, png));
  EXPECT_EQ(std::string(block.begin(), block.begin() + 4), "8BIM");
  EXPECT_EQ(block.back(), 'z');
  EXPECT_EQ(block[6 + kJpeg.size()], 'x');
}

// A WebP is zeroed to the end its RIFF size gives (the helper's exploratory test hid one, 80 px of a face, in
// an EXIF UserComment: it went out whole); "RIFF" that goes on as no WebP (a WAV) stays.
TEST(MetadataPictures, WebpsInsideBinaryBlocksAreZeroedToTheirRiffSize) {
  std::vector<std::uint8_t> webp = {'R', 'I', 'F', 'F', 13, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 1, 0, 0, 0, 0x2F};
  std::vector<std::uint8_t> block = {'A', 'S', 'C', 'I', 'I', 0, 0, 0};
  block.insert(block.end(), webp.begin(), webp.end());
  block.insert(block.end(), {0, 'k', 'e', 'p', 't'});  // the pad byte of an odd RIFF size, then what follows
  std::vector<std::uint8_t> wav = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 9};
  block.insert(block.end(), wav.begin(), wav.end());
  EXPECT_EQ(remove_binary_pictures(block.data(), block.size()), 1);
  EXPECT_FALSE(holds(block, webp));
  EXPECT_TRUE(holds(block, wav));
  EXPECT_EQ(std::string(block.begin() + 8 + 22, block.begin() + 8 + 26), "kept");

  std::vector<std::uint8_t> cut(webp.begin(), webp.end() - 2);  // the rest in the next packet
  bool runs_past_end = false;
  EXPECT_EQ(remove_binary_pictures(cut.data(), cut.size(), &runs_past_end), 1);
  EXPECT_TRUE(runs_past_end);
  EXPECT_EQ(std::count(cut.begin(), cut.end(), 0), static_cast<std::ptrdiff_t>(cut.size()));
}

// Review of this change: a RIFF size written too small (4) zeroed 12 bytes and left the VP8L bitstream after
// them whole; the first chunk's own size is the least now. A size near 2^32 runs past the block.
TEST(MetadataPictures, AWebpWithATooSmallRiffSizeIsZeroedToItsFirstChunksEnd) {
  std::vector<std::uint8_t> webp = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 9, 0, 0, 0,
                                    0x2F, 1, 2, 3, 4, 5, 6, 7, 8, 0};
  webp.push_back('z');
  EXPECT_EQ(remove_binary_pictures(webp.data(), webp.size()), 1);
  EXPECT_EQ(std::count(webp.begin(), webp.end() - 1, 0), static_cast<std::ptrdiff_t>(webp.size() - 1));
  EXPECT_EQ(webp.back(), 'z');
  std::vector<std::uint8_t> huge = {'R', 'I', 'F', 'F', 0xF8, 0xFF, 0xFF, 0xFF, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ', 1, 0, 0, 0, 7};
  bool runs_past_end = false;
  EXPECT_EQ(remove_binary_pictures(huge.data(), huge.size(), &runs_past_end), 1);
  EXPECT_TRUE(runs_past_end);
}

TEST(MetadataPictures, Base64PicturesInXmpBecomeZeros) {
  std::string xmp = R"(<x:xmpmeta><rdf:Description GImage:Mime="image/jpeg" GImage:Data="/9j/4AAQSkZJRg+/=="/>)"
                    R"(<xmpGImg:image>iVBORw0KGgoAAAANSUhEUg&#xA;AAAB</xmpGImg:image><dc:title>a/9j/x</dc:title></x:xmpmeta>)";
  std::vector<std::uint8_t> bytes(xmp.begin(), xmp.end());
  EXPECT_EQ(remove_base64_pictures(bytes.data(), bytes.size()), 2);
  const std::string out(bytes.begin(), bytes.end());
  EXPECT_NE(out.find(R"(GImage:Data="AAAAAAAAAAAAAAAA=="/>)"), std::string::npos) << out;
  EXPECT_EQ(out.find("iVBOR"), std::string::npos) << out;
  EXPECT_NE(out.find("AAAAAAAAAAAAAAAAAAAAAA&#xA;AAAA</xmpGImg:image>"), std::string::npos) << out;
  EXPECT_NE(out.find("<dc:title>a/9j/x</dc:title>"), std::string::npos) << out;  // not a value's start
  EXPECT_EQ(out.size(), xmp.size());
}

TEST(MetadataPictures, AJpegsMetadataIsScannedForPictures) {
  std::vector<std::uint8_t> file = {0xFF, 0xD8};
  auto segment = [&](std::uint8_t marker, const std::vector<std::uint8_t>& payload) {
    const std::size_t len = payload.size() + 2;
    file.insert(file.end(), {0xFF, marker, std::uint8_t(len >> 8), std::uint8_t(len)});
    file.insert(file.end(), payload.begin(), payload.end());
  };
  std::vector<std::uint8_t> app1 = {'E', 'x', 'i', 'f', 0, 0};
  const auto block = exif(false);
  app1.insert(app1.end(), block.begin(), block.end());
  segment(0xE1, app1);
  const std::string icc = "ICC_PROFILE";
  std::vector<std::uint8_t> app2(icc.begin(), icc.end());
  app2.insert(app2.end(), kJpeg.begin(), kJpeg.end());  // inside a profile: not a picture anyone shows
  segment(0xE2, app2);
  file.insert(file.end(), {0xFF, 0xDA, 0x00, 0x02});
  file.insert(file.end(), kJpeg.begin(), kJpeg.end());  // scan data is the picture itself
  const auto found = pictures_in_photo_metadata(file);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("EXIF"), std::string::npos) << found[0];
  EXPECT_TRUE(pictures_in_photo_metadata(std::vector<std::uint8_t>(file.begin(), file.begin() + 2)).empty());
}

// Only what walks as a picture is one: a chance FF D8 FF in maker-note values stays; a JPEG whose header holds
// FF D9 (its own thumbnail's end) is zeroed to its real end; one cut by the block's end says so.
TEST(MetadataPictures, PicturesAreWalkedNotMatched) {
  std::vector<std::uint8_t> chance = {1, 2, 0xFF, 0xD8, 0xFF, 0x12, 0x34, 0xFF, 0xD9, 5};
  const auto before = chance;
  EXPECT_EQ(remove_binary_pictures(chance.data(), chance.size()), 0);
  EXPECT_EQ(chance, before);

  // SOI, APP1 holding FF D9, a scan with a stuffed FF 00 and a restart marker, EOI, then a byte that stays.
  std::vector<std::uint8_t> nested = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0xAB, 0xCD,
                                      0xFF, 0xDA, 0x00, 0x02, 0x11, 0xFF, 0x00, 0x22, 0xFF, 0xD0, 0x33, 0xFF, 0xD9, 0x77};
  EXPECT_EQ(remove_binary_pictures(nested.data(), nested.size()), 1);
  EXPECT_EQ(std::count(nested.begin(), nested.end() - 1, 0), static_cast<std::ptrdiff_t>(nested.size() - 1));
  EXPECT_EQ(nested.back(), 0x77);

  std::vector<std::uint8_t> cut(kJpeg.begin(), kJpeg.end() - 4);
  bool runs_past_end = false;
  EXPECT_EQ(remove_binary_pictures(cut.data(), cut.size(), &runs_past_end), 1);
  EXPECT_TRUE(runs_past_end);
  EXPECT_EQ(std::count(cut.begin(), cut.end(), 0), static_cast<std::ptrdiff_t>(cut.size()));
}

// A thumbnail in strips of pixels (several StripOffsets) is zeroed; a block with a broken TIFF header still
// loses the JPEG inside it.
TEST(MetadataPictures, StripThumbnailsAndBrokenHeaders) {
  Writer w = Writer::with_header(false);
  w.u16(0);
  const std::uint32_t ifd1 = 8 + 2 + 4;
  w.u32(ifd1);
  w.u16(2);
  const std::uint32_t arrays = ifd1 + 2 + 24 + 4, pixels = arrays + 16;
  w.u16(0x0111); w.u16(4); w.u32(2); w.u32(arrays);       // StripOffsets: two LONGs at `arrays`
  w.u16(0x0117); w.u16(4); w.u32(2); w.u32(arrays + 8);   // StripByteCounts: two LONGs after them
  w.u32(0);
  w.u32(pixels); w.u32(pixels + 6); w.u32(6); w.u32(6);
  w.bytes.insert(w.bytes.end(), 12, 0x5A);
  ASSERT_EQ(w.bytes.size(), pixels + 12u);
  EXPECT_EQ(remove_exif_pictures(w.bytes.data(), w.bytes.size()), 2);
  EXPECT_EQ(std::count(w.bytes.begin() + pixels, w.bytes.end(), 0x5A), 0);

  std::vector<std::uint8_t> broken = {'X', 'X', 0, 0, 1, 2, 3, 4};
  broken.insert(broken.end(), kJpeg.begin(), kJpeg.end());
  EXPECT_EQ(remove_exif_pictures(broken.data(), broken.size()), 1);
  EXPECT_FALSE(holds(broken, kJpeg));
}

// verify's scan: pictures in a comment, a second picture after the first, a PNG's eXIf thumbnail.
TEST(MetadataPictures, VerifyFindsCommentsSecondPicturesAndPngExif) {
  std::vector<std::uint8_t> file = {0xFF, 0xD8, 0xFF, 0xFE, 0x00, static_cast<std::uint8_t>(2 + kJpeg.size())};
  file.insert(file.end(), kJpeg.begin(), kJpeg.end());
  file.insert(file.end(), {0xFF, 0xDA, 0x00, 0x02, 0x10, 0x20, 0xFF, 0xD9});
  auto found = pictures_in_photo_metadata(file);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("comment"), std::string::npos) << found[0];
  file.insert(file.end(), kJpeg.begin(), kJpeg.end());
  found = pictures_in_photo_metadata(file);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[1].find("second picture"), std::string::npos) << found[1];

  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  png.insert(png.end(), 17, 1);
  png.insert(png.end(), {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82});
  EXPECT_TRUE(pictures_in_photo_metadata(png).empty());
  png = roadveil::media::png_with_chunks(png, {{"eXIf", exif(true)}});
  found = pictures_in_photo_metadata(png);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("eXIf"), std::string::npos) << found[0];
}

namespace {
std::vector<std::uint8_t> deflated(const std::string& text) {
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::vector<std::uint8_t> out(size);
  EXPECT_EQ(compress2(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()), 9), Z_OK);
  out.resize(size);
  return out;
}
std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

// ImageMagick keeps a PNG's EXIF (with its thumbnail) as hex text in a compressed zTXt chunk, "Raw profile type
// exif"; XMP may be compressed iTXt. verify inflated neither and passed a photo whose face was in its thumbnail.
TEST(MetadataPictures, VerifyReadsCompressedPngTextAndHexProfiles) {
  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  png.insert(png.end(), 17, 1);
  png.insert(png.end(), {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82});
  std::vector<std::uint8_t> profile = bytes_of(std::string("Exif\0\0", 6));
  const std::vector<std::uint8_t> block = exif(false);
  profile.insert(profile.end(), block.begin(), block.end());
  std::string hex = "\nexif\n    " + std::to_string(profile.size()) + "\n";
  for (std::size_t i = 0; i < profile.size(); ++i) hex += fmt::format("{:02x}{}", profile[i], i % 36 == 35 ? "\n" : "");
  hex += "\n";

  std::vector<std::uint8_t> ztxt = bytes_of(std::string("Raw profile type exif\0\0", 23));
  const std::vector<std::uint8_t> packed = deflated(hex);
  ztxt.insert(ztxt.end(), packed.begin(), packed.end());
  auto found = pictures_in_photo_metadata(roadveil::media::png_with_chunks(png, {{"zTXt", ztxt}}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("zTXt chunk \"Raw profile type exif\""), std::string::npos) << found[0];

  // The same profile uncompressed (tEXt): the hex digits are no picture's bytes, the decoded profile is.
  std::vector<std::uint8_t> text = bytes_of(std::string("Raw profile type exif\0", 22) + hex);
  EXPECT_EQ(pictures_in_photo_metadata(roadveil::media::png_with_chunks(png, {{"tEXt", text}})).size(), 1u);

  // Compressed iTXt XMP holding a base64 picture; the same XMP without one is no finding.
  auto itxt = [&](const std::string& xmp) {
    std::vector<std::uint8_t> c = bytes_of(std::string("XML:com.adobe.xmp\0\x01\0\0\0", 22));
    const std::vector<std::uint8_t> z = deflated(xmp);
    c.insert(c.end(), z.begin(), z.end());
    return roadveil::media::png_with_chunks(png, {{"iTXt", c}});
  };
  found = pictures_in_photo_metadata(itxt(R"(<x:xmpmeta><rdf:Description GImage:Data="/9j/4AAQSkZJRg+/=="/></x:xmpmeta>)"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("iTXt"), std::string::npos) << found[0];
  EXPECT_TRUE(pictures_in_photo_metadata(itxt("<x:xmpmeta/>")).empty());

  // A damaged or bomb-like stream is no finding and no crash.
  std::vector<std::uint8_t> broken = ztxt;
  broken.resize(broken.size() - 8);
  EXPECT_TRUE(pictures_in_photo_metadata(roadveil::media::png_with_chunks(png, {{"zTXt", broken}})).empty());
  std::vector<std::uint8_t> bomb = bytes_of(std::string("Comment\0\0", 9));
  const std::vector<std::uint8_t> zeros = deflated(std::string(80u << 20, 'a'));
  bomb.insert(bomb.end(), zeros.begin(), zeros.end());
  EXPECT_TRUE(pictures_in_photo_metadata(roadveil::media::png_with_chunks(png, {{"zTXt", bomb}})).empty());
}

// Every reader of a JPEG's header walks it as a decoder does: fill bytes (FF FF ...) before a marker and
// markers without a length are skipped, and the walk says why it stopped.
TEST(JpegHeader, WalksFillBytesAndStandaloneMarkersAndSaysWhereItStopped) {
  using roadveil::media::jpeg_header;
  using Stop = roadveil::media::JpegHeader::Stop;
  const std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xE1, 0x00, 0x04, 1, 2,  // fill, APP1
                                          0xFF, 0x01, 0xFF, 0xFE, 0x00, 0x03, 'c',             // TEM, COM
                                          0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0xD9};
  auto h = jpeg_header(jpeg.data(), jpeg.size());
  ASSERT_EQ(h.segments.size(), 2u);
  EXPECT_EQ(h.segments[0].marker, 0xE1);
  EXPECT_EQ(h.segments[0].pos, 4u);
  EXPECT_EQ(h.segments[0].len, 4u);
  EXPECT_EQ(h.segments[1].marker, 0xFE);
  EXPECT_EQ(h.stop, Stop::Scan);
  EXPECT_EQ(h.stop_pos, 17u);
  h = jpeg_header(jpeg.data(), 9);  // inside APP1
  EXPECT_EQ(h.stop, Stop::Truncated);
  EXPECT_TRUE(h.segments.empty());
  const std::vector<std::uint8_t> odd = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x47, 0x00};
  h = jpeg_header(odd.data(), odd.size());
  EXPECT_EQ(h.stop, Stop::Unknown);
  EXPECT_EQ(h.stop_pos, 6u);
  EXPECT_EQ(h.segments.size(), 1u);
  // Concatenated segments without an SOI (what is carried into an output) from offset 0.
  h = jpeg_header(jpeg.data() + 4, 6, 0);
  ASSERT_EQ(h.segments.size(), 1u);
  EXPECT_EQ(h.stop, Stop::Truncated);
}
