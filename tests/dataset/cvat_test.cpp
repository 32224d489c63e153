// CVAT for images 1.1 XML (#15: `dataset convert|export` from what annotation teams export): images with their
// sizes, boxes with labels and the occluded flag, other shapes skipped, bad boxes counted, the format detected,
// and a CVAT for video file refused with where it belongs.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "dataset/convert.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

const std::string kCvatImages = R"(<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>street</name></task></meta>
  <image id="0" name="frames/a.jpg" width="1920" height="1080">
    <box label="plate" source="manual" occluded="0" xtl="100.5" ytl="200" xbr="160" ybr="215" z_order="0"></box>
    <box label="face" source="manual" occluded="1" xtl="900" ytl="300" xbr="930" ybr="340" z_order="0"></box>
    <polygon label="face" points="400,100;420,90;430,120;405,125" occluded="0" z_order="0"></polygon>
    <ellipse label="face" cx="600" cy="300" rx="10" ry="14" occluded="0" z_order="0"></ellipse>
    <box label="plate" occluded="0" xtl="1000" ytl="500" xbr="1040" ybr="510" rotation="90"></box>
    <tag label="night"></tag>
  </image>
  <image id="1" name="frames/b.jpg" width="1920" height="1080">
    <box label="plate" occluded="0" xtl="50" ytl="60" xbr="40" ybr="70"></box>
  </image>
  <image id="2" name="frames/c.jpg" width="1920" height="1080"></image>
</annotations>
)";

TEST(Cvat, ImagesBoxesAndFlagsAreReadAndOtherShapesBecomeTheirBoxes) {
  TempDir dir;
  write_text(dir / "annotations.xml", kCvatImages);
  EXPECT_EQ(detect_format(dir / "annotations.xml"), Format::cvat);
  EXPECT_EQ(detect_format(dir.path()), Format::cvat) << "an unzipped export: the folder holds annotations.xml";
  Report folder_report;
  EXPECT_EQ(read_reporting(dir.path(), Format::cvat, folder_report).size(), 3u);
  write_text(dir / "voc" / "a.xml", "<!-- <annotations> --><annotation><filename>a.jpg</filename></annotation>");
  EXPECT_EQ(detect_format(dir / "voc" / "a.xml"), Format::voc) << "the root decides, not a comment";
  Report report;
  const auto images = by_name(read_reporting(dir / "annotations.xml", Format::cvat, report));
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].image, "frames/a.jpg");
  EXPECT_EQ(images[0].width, 1920);
  // A face drawn as a polygon or an ellipse is a face (left out, the export would call it background); a box
  // rotated by 90 degrees stands upright; a tag is not a shape.
  ASSERT_EQ(images[0].boxes.size(), 5u);
  EXPECT_EQ(images[0].boxes[0].label, "plate");
  EXPECT_FLOAT_EQ(images[0].boxes[0].box.x1, 100.5f);
  EXPECT_FALSE(images[0].boxes[0].is_occluded);
  EXPECT_TRUE(images[0].boxes[1].is_occluded);
  const Box polygon = images[0].boxes[2].box, ellipse = images[0].boxes[3].box, rotated = images[0].boxes[4].box;
  EXPECT_EQ(images[0].boxes[2].label, "face");
  EXPECT_FLOAT_EQ(polygon.x1, 400);
  EXPECT_FLOAT_EQ(polygon.y1, 90);
  EXPECT_FLOAT_EQ(polygon.x2, 430);
  EXPECT_FLOAT_EQ(polygon.y2, 125);
  EXPECT_FLOAT_EQ(ellipse.x1, 590);
  EXPECT_FLOAT_EQ(ellipse.y2, 314);
  EXPECT_NEAR(rotated.width(), 10, 0.01);
  EXPECT_NEAR(rotated.height(), 40, 0.01);
  EXPECT_NEAR(rotated.cx(), 1020, 0.01);
  EXPECT_TRUE(images[1].boxes.empty()) << "xbr < xtl is a bad box, counted";
  EXPECT_EQ(report.problem_total(), 1u);
  EXPECT_TRUE(images[2].boxes.empty()) << "an image without boxes is kept (background)";
}

TEST(Cvat, ConvertsToYoloAndAVideoExportIsSentToEval) {
  TempDir dir;
  write_text(dir / "annotations.xml", kCvatImages);
  ConvertOptions o;
  o.input = dir / "annotations.xml";
  o.from = Format::cvat;
  o.to = Format::yolo;
  o.output = dir / "labels";
  Report report;
  const ConvertResult r = convert(o, report);
  EXPECT_EQ(r.images, 3u);
  EXPECT_EQ(r.boxes, 5u);
  const auto lines = read_lines(dir / "labels/frames/a.txt");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].substr(0, 2), "0 ");

  write_text(dir / "video.xml", R"(<annotations><version>1.1</version><track id="0" label="face">
    <box frame="0" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9"/></track></annotations>)");
  try {
    read_annotations(dir / "video.xml", Format::cvat, {});
    ADD_FAILURE() << "a video export was read as images";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CVAT for video"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("video.xml"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace roadveil::dataset
