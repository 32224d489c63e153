// Open Images box CSVs written here in the real column layout (none is shipped in ../shared), read against
// the real class descriptions file and real JPEGs standing in for the images.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "dataset/read.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

ReadOptions options_for(const TempDir& dir, Report* report = nullptr) {
  ReadOptions o;
  o.class_descriptions = class_descriptions();
  o.images_dir = dir / "images";
  o.report = report;
  return o;
}

TEST(OpenImages, PixelsFromImageHeadersAndFlags) {
  TempDir dir;
  link_images(dir / "images");
  write_text(dir / "boxes.csv", kHeader + kRows);
  const auto images = read_annotations(dir / "boxes.csv", Format::openimages, options_for(dir));
  ASSERT_EQ(images.size(), 3u);
  const AnnotatedImage& a = images[0];
  EXPECT_EQ(a.image, "000a1249af2bc5f0.jpg");
  EXPECT_EQ(a.width, 1920);
  EXPECT_EQ(a.height, 1080);
  EXPECT_FALSE(a.normalized);
  ASSERT_EQ(a.boxes.size(), 3u);
  EXPECT_EQ(a.boxes[0].label, "Vehicle registration plate");
  // XMin,XMax,YMin,YMax = 0.1,0.2,0.5,0.55: x from 192 to 384, y from 540 to 594.
  EXPECT_FLOAT_EQ(a.boxes[0].box.x1, 192);
  EXPECT_FLOAT_EQ(a.boxes[0].box.x2, 384);
  EXPECT_FLOAT_EQ(a.boxes[0].box.y1, 540);
  EXPECT_FLOAT_EQ(a.boxes[0].box.y2, 594);
  EXPECT_EQ(a.boxes[1].label, "Human face");
  EXPECT_TRUE(a.boxes[1].is_occluded);
  EXPECT_EQ(a.boxes[2].label, "Car");
  EXPECT_TRUE(a.boxes[2].is_group_of);
  EXPECT_TRUE(a.boxes[2].is_truncated);
  EXPECT_TRUE(images[1].boxes[0].is_depiction);
  EXPECT_FALSE(images[2].boxes[0].is_occluded);  // -1: unknown reads as false
  EXPECT_TRUE(images[2].boxes[0].is_inside);
}

TEST(OpenImages, WithoutImagesBoxesStayNormalised) {
  TempDir dir;
  write_text(dir / "boxes.csv", kHeader + kRows);
  ReadOptions o;
  o.class_descriptions = class_descriptions();
  const auto images = read_annotations(dir / "boxes.csv", Format::openimages, o);
  ASSERT_EQ(images.size(), 3u);
  EXPECT_TRUE(images[0].normalized);
  EXPECT_EQ(images[0].width, 0);
  EXPECT_FLOAT_EQ(images[0].boxes[0].box.x1, 0.1f);
  EXPECT_FLOAT_EQ(images[0].boxes[0].box.y2, 0.55f);
}

TEST(OpenImages, ClassesByNameOrIdDropEmptiedImages) {
  TempDir dir;
  link_images(dir / "images");
  write_text(dir / "boxes.csv", kHeader + kRows);
  Report report;
  auto o = options_for(dir, &report);
  o.classes = {"Vehicle registration plate"};
  auto images = read_annotations(dir / "boxes.csv", Format::openimages, o);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(box_count(images), 2u);
  EXPECT_EQ(report.count(Drop::other_class), 3u);
  EXPECT_EQ(report.count(Drop::empty_image), 1u);
  o.classes = {"/m/0dzct"};
  images = read_annotations(dir / "boxes.csv", Format::openimages, o);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].boxes[0].label, "Human face");
  o.classes = {"Unicorn plate"};
  EXPECT_THROW(read_annotations(dir / "boxes.csv", Format::openimages, o), Error);
}

TEST(OpenImages, V6TrainLayoutWithClickColumns) {
  TempDir dir;
  write_text(dir / "train.csv",
             "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,"
             "IsInside,XClick1X,XClick2X,XClick3X,XClick4X,XClick1Y,XClick2Y,XClick3Y,XClick4Y\n"
             "000002b66c9c498e,xclick,/m/01g317,1,0.012500,0.195312,0.148438,0.587500,0,1,0,0,0,0.148438,0.012500,"
             "0.059375,0.195312,0.148438,0.357812,0.587500,0.325000\n");
  ReadOptions o;
  o.class_descriptions = class_descriptions();
  const auto images = read_annotations(dir / "train.csv", Format::openimages, o);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].boxes[0].label, "Person");
  EXPECT_FLOAT_EQ(images[0].boxes[0].box.x2, 0.195312f);
  EXPECT_TRUE(images[0].boxes[0].is_truncated);
}

TEST(OpenImages, NeedsTheClassDescriptions) {
  TempDir dir;
  write_text(dir / "boxes.csv", kHeader + kRows);
  try {
    read_annotations(dir / "boxes.csv", Format::openimages, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--class-descriptions"), std::string::npos) << e.what();
  }
}

// Each bad row, with the problem it must be counted as and the line it is on.
struct BadRow {
  const char* row;
  Problem kind;
  const char* message;
};

const BadRow kBadRows[] = {
    {"000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0\n", Problem::malformed, "expected 13 columns, found 12"},
    {"000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,1.2,0.5,0.55,0,0,0,0,0\n", Problem::bad_box, "between 0 and 1"},
    {"000a1249af2bc5f0,xclick,/m/01jfm_,1,0.3,0.2,0.5,0.55,0,0,0,0,0\n", Problem::bad_box, "XMin > XMax"},
    {"000a1249af2bc5f0,xclick,/m/01jfm_,1,0.3,abc,0.5,0.55,0,0,0,0,0\n", Problem::malformed, "must be numbers"},
    {"000a1249af2bc5f0,xclick,/m/zzzzzz,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n", Problem::unknown_label, "unknown label id \"/m/zzzzzz\""},
    {"000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,2,0,0\n", Problem::malformed, "IsGroupOf must be 0, 1 or -1"},
    {"ffff00000000aaaa,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n", Problem::missing_image, "is not in"},
    {"caf\xE9,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n", Problem::bad_encoding, "not valid UTF-8"},
};

TEST(OpenImages, BadRowsAreCountedWithFileAndLineAndSkipped) {
  for (const BadRow& bad : kBadRows) {
    TempDir dir;
    link_images(dir / "images");
    // The bad row is line 2, before the rows of the same first image.
    write_text(dir / "boxes.csv", kHeader + bad.row + kRows);
    Report report;
    const auto images = read_annotations(dir / "boxes.csv", Format::openimages, options_for(dir, &report));
    EXPECT_EQ(report.count(bad.kind), 1u) << bad.row << report.problem_summary();
    EXPECT_EQ(report.problem_total(), 1u) << bad.row << report.problem_summary();
    ASSERT_EQ(report.messages().size(), 1u);
    const std::string& m = report.messages()[0];
    EXPECT_EQ(m.rfind((dir / "boxes.csv").string() + ":2: ", 0), 0u) << m;
    EXPECT_NE(m.find(bad.message), std::string::npos) << m;
    // The good rows all made it.
    EXPECT_EQ(box_count(images), 5u) << bad.row;

    Report strict(true);
    try {
      read_annotations(dir / "boxes.csv", Format::openimages, options_for(dir, &strict));
      FAIL() << "strict mode accepted " << bad.row;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), m);
    }
  }
}

TEST(OpenImages, ImageIdThatComesBackLaterIsADuplicate) {
  TempDir dir;
  link_images(dir / "images");
  write_text(dir / "boxes.csv", kHeader + kRows + "000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n");
  Report report;
  const auto images = read_annotations(dir / "boxes.csv", Format::openimages, options_for(dir, &report));
  EXPECT_EQ(images.size(), 3u);
  EXPECT_EQ(report.count(Problem::duplicate_image), 1u);
  ASSERT_EQ(report.messages().size(), 1u);
  EXPECT_NE(report.messages()[0].find(":7: ImageID 000a1249af2bc5f0 appears again"), std::string::npos)
      << report.messages()[0];
}

TEST(OpenImages, CsvWithoutHeaderUsesTheStandardLayout) {
  TempDir dir;
  write_text(dir / "boxes.csv", kRows);
  ReadOptions o;
  o.class_descriptions = class_descriptions();
  EXPECT_EQ(box_count(read_annotations(dir / "boxes.csv", Format::openimages, o)), 5u);
}

TEST(OidTxt, ClassNamesWithSpacesAndMergedClassFolders) {
  TempDir dir;
  const fs::path root = dir / "OID" / "Dataset" / "train";
  // The OIDv4 toolkit writes one folder per class; an image in two classes has a label file in each.
  write_text(root / "Vehicle registration plate" / "Label" / "000a1249af2bc5f0.txt",
             "Vehicle registration plate 192.0 540.0 384.0 594.0\n");
  write_text(root / "Human face" / "Label" / "000a1249af2bc5f0.txt", "Human face 576 216 672 324\n");
  write_text(root / "Human face" / "Label" / "0c2b5e4e1a0b8fd1.txt", "Human face 10 20\n");
  link_images(dir / "images");
  fs::create_symlink(dir / "images" / "000a1249af2bc5f0.jpg", root / "Human face" / "000a1249af2bc5f0.jpg");
  Report report;
  const auto images = read_reporting(root, Format::oid_txt, report);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].image, "000a1249af2bc5f0.jpg");
  EXPECT_EQ(images[0].width, 1920);  // from the JPEG in the class folder above Label/
  ASSERT_EQ(images[0].boxes.size(), 2u);
  EXPECT_EQ(images[0].boxes[0].label, "Human face");
  EXPECT_EQ(images[0].boxes[1].label, "Vehicle registration plate");
  EXPECT_EQ(images[0].boxes[1].box, (Box{192, 540, 384, 594}));
  EXPECT_EQ(report.count(Problem::malformed), 1u);
  EXPECT_NE(report.messages()[0].find("0c2b5e4e1a0b8fd1.txt:1:"), std::string::npos) << report.messages()[0];
}

}  // namespace
}  // namespace roadveil::dataset
