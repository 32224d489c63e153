// Image sizes from headers alone, checked against the <size> that the VOC annotators recorded for the same
// real JPEGs, plus hand-made PNG and JPEG headers for the layouts the real files do not cover.
#include <gtest/gtest.h>

#include "dataset/image_size.hpp"
#include "dataset/read.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// Writes `content` as `name` in a fresh folder and checks the size read from its header.
void expect_header_size(const std::string& name, const std::string& content, int width, int height, int depth) {
  TempDir dir;
  write_text(dir / name, content);
  const auto size = read_image_size(dir / name);
  ASSERT_TRUE(size) << name;
  EXPECT_EQ(size->width, width) << name;
  EXPECT_EQ(size->height, height) << name;
  EXPECT_EQ(size->depth, depth) << name;
}

TEST(ImageSize, MatchesVocSizeOnEveryRealJpeg) {
  std::size_t checked = 0;
  for (const char* set : {"faces-street", "plates-dashcam-ro", "dashcam-berlin-dev"}) {
    const fs::path root = shared_eval() / set;
    for (const AnnotatedImage& a : read_annotations(root / "annotations", Format::voc, {})) {
      const auto size = read_image_size(root / "images" / a.image);
      ASSERT_TRUE(size) << a.image;
      EXPECT_EQ(size->width, a.width) << set << "/" << a.image;
      EXPECT_EQ(size->height, a.height) << set << "/" << a.image;
      EXPECT_EQ(size->depth, 3) << set << "/" << a.image;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 853u + 107u + 50u);
}

TEST(ImageSize, OpenAlprJpegsIncludingExifOnes) {
  // Some of these carry a large EXIF APP1 segment before the frame header; all must be sized.
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(shared_eval() / "plates-closeup-openalpr")) {
    if (e.path().extension() != ".jpg") continue;
    const auto size = read_image_size(e.path());
    ASSERT_TRUE(size) << e.path();
    EXPECT_GT(size->width, 100);
    EXPECT_GT(size->height, 100);
    ++n;
  }
  EXPECT_EQ(n, 330u);
}

TEST(ImageSize, Png) {
  // Signature, IHDR length 13, "IHDR", width 640, height 480, bit depth 8, colour type 6 (RGBA).
  expect_header_size("a.png",
                     bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x02,
                            0x80, 0, 0, 0x01, 0xE0, 8, 6, 0, 0, 0}),
                     640, 480, 4);
}

TEST(ImageSize, ProgressiveJpegAfterSkippedSegments) {
  std::string jpeg = bytes({0xFF, 0xD8});
  jpeg += bytes({0xFF, 0xE0, 0x00, 0x10}) + std::string(14, 'J');      // APP0, 16 bytes with the length
  jpeg += bytes({0xFF, 0xC4, 0x00, 0x05, 1, 2, 3});                   // DHT: in the SOF range, not a frame
  jpeg += bytes({0xFF, 0xFF, 0xC2, 0x00, 0x11, 8, 0x02, 0xD0, 0x05, 0x00, 1});  // fill byte, SOF2 720x1280, 1 comp
  jpeg += std::string(9, '\0');
  expect_header_size("p.jpg", jpeg, 1280, 720, 1);
}

TEST(ImageSize, RefusesTruncatedAndForeignFiles) {
  TempDir dir;
  write_text(dir / "t.jpg", bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J'}));
  write_text(dir / "scan.jpg", bytes({0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}));  // scan before any frame header
  write_text(dir / "x.gif", "GIF89a....");
  EXPECT_FALSE(read_image_size(dir / "t.jpg"));
  EXPECT_FALSE(read_image_size(dir / "scan.jpg"));
  EXPECT_FALSE(read_image_size(dir / "x.gif"));
  EXPECT_FALSE(read_image_size(dir / "missing.jpg"));
}

TEST(ImageSize, FindImageTriesTheUsualExtensions) {
  TempDir dir;
  write_text(dir / "a.PNG", "x");
  write_text(dir / "b.jpeg", "x");
  EXPECT_EQ(find_image(dir.path(), "a"), dir / "a.PNG");
  EXPECT_EQ(find_image(dir.path(), "b"), dir / "b.jpeg");
  EXPECT_TRUE(find_image(dir.path(), "c").empty());
}

}  // namespace
}  // namespace roadveil::dataset
