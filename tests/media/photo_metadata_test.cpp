// Pictures hidden in metadata (media/photo_metadata.hpp): an EXIF thumbnail is unlinked and zeroed in both
// byte orders with the rest of the block intact, JPEGs and PNGs inside binary blocks are zeroed, base64
// pictures in XMP become 'A's, and a JPEG's metadata is scanned for them.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "media/photo_metadata.hpp"

using roadveil::media::pictures_in_jpeg_metadata;
using roadveil::media::remove_base64_pictures;
using roadveil::media::remove_binary_pictures;
using roadveil::media::remove_exif_pictures;

namespace {

const std::vector<std::uint8_t> kJpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x11, 0x22, 0xFF, 0xD9};

struct Writer {
  bool big;
  std::vector<std::uint8_t> bytes;
  void u16(std::uint32_t v) {
    if (big) bytes.insert(bytes.end(), {std::uint8_t(v >> 8), std::uint8_t(v)});
    else bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8)});
  }
  void u32(std::uint32_t v) {
    if (big) bytes.insert(bytes.end(), {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)});
    else bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8), std::uint8_t(v >> 16), std::uint8_t(v >> 24)});
  }
  void entry(std::uint32_t tag, std::uint32_t type, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == 3) {
      u16(value);
      u16(0);
    } else {
      u32(value);
    }
  }
};

// TIFF header, IFD0 (Orientation 6), IFD1 (the thumbnail: JPEGInterchangeFormat and its length), the thumbnail.
std::vector<std::uint8_t> exif(bool big) {
  Writer w{big, {}};
  w.bytes = big ? std::vector<std::uint8_t>{'M', 'M', 0, 42} : std::vector<std::uint8_t>{'I', 'I', 42, 0};
  w.u32(8);
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

TEST(MetadataPictures, JpegsAndPngsInsideBinaryBlocksAreZeroed) {
  std::vector<std::uint8_t> block = {'8', 'B', 'I', 'M', 0x04, 0x0C};
  block.insert(block.end(), kJpeg.begin(), kJpeg.end());
  block.insert(block.end(), {'x', 'y'});
  const std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 1, 2, 3, 4};
  block.insert(block.end(), png.begin(), png.end());
  block.push_back('z');
  EXPECT_EQ(remove_binary_pictures(block.data(), block.size()), 2);
  EXPECT_FALSE(holds(block, kJpeg));
  EXPECT_FALSE(holds(block, png));
  EXPECT_EQ(std::string(block.begin(), block.begin() + 4), "8BIM");
  EXPECT_EQ(block.back(), 'z');
  EXPECT_EQ(block[6 + kJpeg.size()], 'x');
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
  const auto found = pictures_in_jpeg_metadata(file);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("EXIF"), std::string::npos) << found[0];
  EXPECT_TRUE(pictures_in_jpeg_metadata(std::vector<std::uint8_t>(file.begin(), file.begin() + 2)).empty());
}
