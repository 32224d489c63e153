#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "detect/box_decoding.hpp"
#include "detect/preprocess.hpp"

using namespace roadveil;
using namespace roadveil::detect;

TEST(YunetDecoding, DecodesOneCellAtItsGridPosition) {
  // 64x32 tensor at stride 16: 4 columns x 2 rows. Cell index 5 = row 1, column 1.
  const int w = 64, h = 32, s = 16, n = (w / s) * (h / s);
  std::vector<float> cls(n, 0.0f), obj(n, 0.0f), bbox(4 * n, 0.0f);
  cls[5] = 0.81f;
  obj[5] = 1.0f;
  bbox[20] = 0.5f;              // cx = (1 + 0.5) * 16 = 24
  bbox[21] = 0.25f;             // cy = (1 + 0.25) * 16 = 20
  bbox[22] = std::log(2.0f);    // w = 32
  bbox[23] = 0.0f;              // h = 16
  std::vector<RawBox> out;
  decode_yunet(cls, obj, bbox, s, w, h, 0.5f, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].score, 0.9f, 1e-5);
  EXPECT_NEAR(out[0].box.x1, 8, 1e-4);
  EXPECT_NEAR(out[0].box.x2, 40, 1e-4);
  EXPECT_NEAR(out[0].box.y1, 12, 1e-4);
  EXPECT_NEAR(out[0].box.y2, 28, 1e-4);
  out.clear();
  decode_yunet(cls, obj, bbox, s, w, h, 0.95f, out);
  EXPECT_TRUE(out.empty());
}

TEST(Yolov9Decoding, DistributionFocalBoxFromPeakedBins) {
  const int gw = 3, gh = 2, s = 8;
  const size_t plane = gw * gh;
  std::vector<float> head(65 * plane, -20.0f);
  const size_t cell = 1 * gw + 2;  // x = 2, y = 1
  // A bin far above the others puts all the probability on it: left 3, top 1, right 2, bottom 4.
  const int dist[4] = {3, 1, 2, 4};
  for (int side = 0; side < 4; ++side) head[(side * 16 + dist[side]) * plane + cell] = 20.0f;
  head[64 * plane + cell] = 2.0f;  // sigmoid(2) = 0.88
  std::vector<RawBox> out;
  decode_yolov9_dfl(head, s, gw, gh, 0.5f, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].score, 1.0f / (1.0f + std::exp(-2.0f)), 1e-5);
  EXPECT_NEAR(out[0].box.x1, (2.5f - 3) * s, 1e-3);
  EXPECT_NEAR(out[0].box.y1, (1.5f - 1) * s, 1e-3);
  EXPECT_NEAR(out[0].box.x2, (2.5f + 2) * s, 1e-3);
  EXPECT_NEAR(out[0].box.y2, (1.5f + 4) * s, 1e-3);
}

TEST(YoloxDecoding, KeepsOnlyRequestedClassesAndUsesStrideOrder) {
  const int w = 32, h = 32;  // stride 8: 16 rows, stride 16: 4 rows, stride 32: 1 row
  const int rows = 16 + 4 + 1;
  std::vector<float> out_rows(rows * 85, 0.0f);
  auto set_row = [&](int row, int cls, float obj, float cls_score) {
    float* r = &out_rows[row * 85];
    r[0] = 0.5f; r[1] = 0.5f; r[2] = 0.0f; r[3] = 0.0f; r[4] = obj;
    r[5 + cls] = cls_score;
  };
  set_row(16 + 3, 2, 0.9f, 0.9f);  // stride 16 (2x2 grid), gx = 1, gy = 1: a car
  set_row(0, 16, 0.9f, 0.9f);      // a dog: not requested
  std::vector<float> floors(80, 2.0f);  // classes 0 and 2 requested (the built-in person/vehicle manifest lists its own)
  floors[0] = floors[2] = 0.3f;
  std::vector<RawBox> boxes;
  decode_yolox_grid(out_rows, w, h, floors, boxes);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_EQ(boxes[0].label, 2);
  EXPECT_NEAR(boxes[0].score, 0.81f, 1e-5);
  EXPECT_NEAR(boxes[0].box.cx(), 1.5f * 16, 1e-4);
  EXPECT_NEAR(boxes[0].box.cy(), 1.5f * 16, 1e-4);
  EXPECT_NEAR(boxes[0].box.width(), 16, 1e-4);
}

TEST(Nms, SuppressesOverlapsOfTheSameLabelOnly) {
  std::vector<RawBox> boxes = {
      {Box{0, 0, 10, 10}, 0.6f, 0}, {Box{1, 1, 11, 11}, 0.9f, 0}, {Box{1, 1, 11, 11}, 0.5f, 1}, {Box{50, 50, 60, 60}, 0.4f, 0}};
  nms(boxes, 0.45f);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_FLOAT_EQ(boxes[0].score, 0.9f);
  EXPECT_FLOAT_EQ(boxes[1].score, 0.5f);
  EXPECT_FLOAT_EQ(boxes[2].score, 0.4f);
}

TEST(PlanTensor, ScalesTheLongerSideAndAlignsTo32) {
  const TensorMapping m = plan_tensor(PixelRect{0, 0, 1920, 1080}, 1280, 2.0f, 32);
  EXPECT_EQ(m.content_w, 1280);
  EXPECT_EQ(m.content_h, 720);
  EXPECT_EQ(m.tensor_w, 1280);
  EXPECT_EQ(m.tensor_h, 736);
  const Box src = m.to_source(Box{640, 360, 660, 370});
  EXPECT_NEAR(src.x1, 960, 1e-3);
  EXPECT_NEAR(src.y2, 555, 1e-3);
  const TensorMapping small = plan_tensor(PixelRect{100, 50, 40, 20}, 1280, 2.0f, 32);
  EXPECT_FLOAT_EQ(small.scale, 2.0f);  // small crops are enlarged at most 2x
  EXPECT_EQ(small.tensor_w, 96);
  EXPECT_FLOAT_EQ(small.offset_x, 100);
}

TEST(AlignCrop, WidensToTheChromaGrid) {
  const PixelRect r = align_crop_to_chroma(PixelRect{3, 5, 10, 10}, AV_PIX_FMT_YUV420P, 100, 100);
  EXPECT_EQ(r, (PixelRect{2, 4, 12, 12}));
  const PixelRect edge = align_crop_to_chroma(PixelRect{95, 95, 4, 4}, AV_PIX_FMT_YUV420P, 99, 99);
  EXPECT_EQ(edge.x + edge.w, 99);
}

TEST(YoloxPlanarDecoding, ChannelFirstHeadWithThreeClasses) {
  // Stride 16, 3 x 2 cells; one cell (x = 1, y = 1) holds a head: dx 0.5, dy 0.25, w = 2 * 16, h = 16.
  const int gw = 3, gh = 2, s = 16;
  const size_t plane = gw * gh, cell = 1 * gw + 1;
  std::vector<float> head(8 * plane, 0.0f);
  head[0 * plane + cell] = 0.5f;
  head[1 * plane + cell] = 0.25f;
  head[2 * plane + cell] = std::log(2.0f);
  head[3 * plane + cell] = 0.0f;
  head[4 * plane + cell] = 0.9f;  // objectness
  head[5 * plane + cell] = 0.2f;  // body
  head[6 * plane + cell] = 0.8f;  // head
  head[7 * plane + cell] = 0.1f;  // hand
  std::vector<RawBox> out;
  decode_yolox_planar(head, s, gw, gh, 3, 0.5f, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].label, 1);
  EXPECT_NEAR(out[0].score, 0.72f, 1e-5);
  EXPECT_NEAR(out[0].box.cx(), (1 + 0.5f) * s, 1e-4);
  EXPECT_NEAR(out[0].box.cy(), (1 + 0.25f) * s, 1e-4);
  EXPECT_NEAR(out[0].box.width(), 32, 1e-3);
  EXPECT_NEAR(out[0].box.height(), 16, 1e-3);
  out.clear();
  decode_yolox_planar(head, s, gw, gh, 3, 0.75f, out);  // 0.9 * 0.8 = 0.72 < 0.75
  EXPECT_TRUE(out.empty());
  decode_yolox_planar(std::span<const float>(head).first(7 * plane), s, gw, gh, 3, 0.5f, out);  // too short
  EXPECT_TRUE(out.empty());
}

// The layouts of manifest models: per-class floors (above 1: not hidden), the best class above its floor.
TEST(ManifestLayouts, Yolov8ChannelMajorKeepsEachAnchorsBestListedClass) {
  // 2 classes, 3 anchors: [4 + 2, 3].
  const std::vector<float> t = {
      100, 200, 300,  // cx
      50, 60, 70,     // cy
      20, 10, 8,      // w
      10, 6, 4,       // h
      0.9f, 0.2f, 0.7f,  // class 0
      0.3f, 0.8f, 0.6f,  // class 1
  };
  std::vector<RawBox> out;
  const std::vector<float> floors = {0.5f, 2.0f};  // class 1 is not hidden
  decode_yolov8(t, 3, floors, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].label, 0);
  EXPECT_FLOAT_EQ(out[0].box.x1, 90);
  EXPECT_FLOAT_EQ(out[0].box.y2, 55);
  EXPECT_FLOAT_EQ(out[1].score, 0.7f);
  EXPECT_FLOAT_EQ(out[1].box.cx(), 300);
  out.clear();
  decode_yolov8(std::span<const float>(t).first(17), 3, floors, out);  // shorter than declared: nothing
  EXPECT_TRUE(out.empty());
}

TEST(ManifestLayouts, Yolov5RowsMultiplyObjectnessAndNmsRowsAreCorners) {
  const std::vector<float> rows = {100, 50, 20, 10, 0.9f, 0.8f,  // 0.72
                                   300, 70, 8, 4, 0.5f, 0.9f};   // 0.45
  std::vector<RawBox> out;
  const std::vector<float> floors = {0.5f};
  decode_yolov5(rows, floors, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].score, 0.72f, 1e-6);
  EXPECT_FLOAT_EQ(out[0].box.x2, 110);

  const std::vector<float> nms_rows = {10, 20, 50, 40, 0.8f, 0,   //
                                       10, 20, 50, 40, 0.9f, 3,   // class 3 is not in the list
                                       60, 20, 50, 40, 0.9f, 0};  // x2 < x1: padding rows of fixed-size outputs
  out.clear();
  decode_yolo_nms(nms_rows, 6, floors, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].box.x1, 10);
  EXPECT_FLOAT_EQ(out[0].box.y2, 40);
}

TEST(ManifestLayouts, YoloxGridIsTheBuiltInDecoderWithAnyClassCount) {
  // A 32 x 32 tensor: 16 cells at stride 8, 4 at 16, 1 at 32; 1 class: 6 columns.
  std::vector<float> rows(21 * 6, 0.0f);
  float* r = rows.data() + 5 * 6;  // stride 8, cell (1, 1)
  r[0] = 0.5f;
  r[1] = 0.5f;
  r[4] = 0.9f;
  r[5] = 0.9f;
  std::vector<RawBox> out;
  const std::vector<float> floors = {0.5f};
  decode_yolox_grid(rows, 32, 32, floors, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].box.cx(), 12);  // (0.5 + 1) * 8
  EXPECT_FLOAT_EQ(out[0].box.width(), 8);  // exp(0) * 8
  EXPECT_NEAR(out[0].score, 0.81f, 1e-6);
}
