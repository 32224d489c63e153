// Regions to hidden pixels: covering rects of fractional boxes, per-class styles, clamping, bad boxes.
#include <gtest/gtest.h>

#include <limits>

#include "frame_helpers.hpp"
#include "redact/redact_plan.hpp"

namespace {

using namespace roadveil;
using namespace roadveil::redact;
using namespace rvtest;

ClassStyles face_fill_plate_mosaic() {
  ClassStyles s;
  s[static_cast<int>(ObjectClass::Face)].style = Style::Fill;
  s[static_cast<int>(ObjectClass::Plate)].style = Style::Mosaic;
  return s;
}

Region region(ObjectClass cls, Box b) {
  Region r;
  r.cls = cls;
  r.box = b;
  r.score = 0.9f;
  return r;
}

TEST(RedactRegions, EachClassGetsItsStyleOverTheCoveringRect) {
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 64, 48);
  const auto before = all_values(*f);
  const Regions regions = {region(ObjectClass::Face, {10.3f, 5.7f, 30.2f, 20.1f}),
                           region(ObjectClass::Plate, {40.0f, 30.0f, 90.0f, 60.0f})};  // off the frame
  Redactor red;
  redact_regions(red, *f, regions, face_fill_plate_mosaic());
  const PixelRect face{10, 5, 21, 16};   // floor of the start, ceil of the end
  const PixelRect plate{40, 30, 24, 18};  // clamped to 64 x 48
  for (int y = face.y; y < face.y + face.h; ++y)
    for (int x = face.x; x < face.x + face.w; ++x) ASSERT_EQ(get(*f, 0, x, y), 16u) << x << "," << y;
  EXPECT_EQ(get(*f, 0, 9, 10), before[0].at(9, 10));
  EXPECT_EQ(get(*f, 0, 31, 10), before[0].at(31, 10));
  EXPECT_EQ(get(*f, 0, 20, 21), before[0].at(20, 21));
  EXPECT_TRUE(check_mosaic(before, *f, plate, 6, 4, false));
  // Nothing but the two rects changed: same as applying them by hand (same seed, same content).
  FramePtr g = make_frame(AV_PIX_FMT_YUV420P, 64, 48);
  Redactor red2;
  red2.apply(*g, face, face_fill_plate_mosaic()[0]);
  red2.apply(*g, plate, face_fill_plate_mosaic()[1]);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(values(*f, c).v, values(*g, c).v);
}

TEST(RedactRegions, EmptyOutsideAndNonFiniteBoxesAreSkipped) {
  FramePtr f = make_frame(AV_PIX_FMT_NV12, 33, 17);
  const Snapshot bytes = snapshot(*f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Regions regions = {region(ObjectClass::Face, {5, 5, 5, 9}),          // zero width
                           region(ObjectClass::Face, {40, 2, 50, 9}),        // right of the frame
                           region(ObjectClass::Plate, {-20, -9, -1, -1}),    // above and left
                           region(ObjectClass::Plate, {nan, 1, 4, 4}),
                           region(ObjectClass::Face, {1, 1, inf, 4}),
                           region(ObjectClass::Face, {-1e30f, -1e30f, 1e30f, 2})};  // huge: clamped, not UB
  Redactor red;
  redact_regions(red, *f, regions, face_fill_plate_mosaic());
  EXPECT_TRUE(only_rect_changed(bytes, *f, {0, 0, 33, 2}));
  EXPECT_EQ(get(*f, 0, 32, 1), 16u);
}

TEST(RegionMask, UsesEachClassShape) {
  FramePtr m = make_frame(AV_PIX_FMT_GRAY8, 64, 48);
  for (int y = 0; y < 48; ++y) std::fill_n(m->data[0] + y * m->linesize[0], 64, 0);
  ClassStyles s = face_fill_plate_mosaic();
  s[static_cast<int>(ObjectClass::Face)].shape = Shape::Ellipse;
  draw_region_mask(*m, {region(ObjectClass::Face, {0, 0, 20, 20}), region(ObjectClass::Plate, {30.5f, 30, 50, 40})}, s);
  auto at = [&](int x, int y) { return m->data[0][y * m->linesize[0] + x]; };
  EXPECT_EQ(at(0, 0), 0);    // ellipse corner
  EXPECT_EQ(at(10, 10), 255);
  EXPECT_EQ(at(30, 30), 255);  // box, covering rect starts at floor(30.5)
  EXPECT_EQ(at(49, 39), 255);
  EXPECT_EQ(at(50, 39), 0);
  EXPECT_EQ(at(29, 35), 0);
}

// Zoom clip 3b26cc91: an 11x13 head in the top-left corner of a body's head region, inside the box and
// outside its inscribed ellipse, was exposed for 9 frames. A Context region (a guess of where a head is) and
// a Manual one (a rectangle a person drew) are hidden whole; a network's head or face box, found or carried,
// as its ellipse.
TEST(RedactRegions, AContextRegionIsHiddenWholeWhereFacesAreEllipses) {
  ClassStyles s = face_fill_plate_mosaic();
  s[static_cast<int>(ObjectClass::Face)].shape = Shape::Ellipse;
  for (const RegionSource source : {RegionSource::Detector, RegionSource::Head, RegionSource::Interpolated,
                                    RegionSource::Extended, RegionSource::Backward}) {
    Region r = region(ObjectClass::Face, {0, 0, 20, 20});
    r.source = source;
    EXPECT_EQ(style_for(r, s).shape, Shape::Ellipse) << to_string(source);
  }
  Region guess = region(ObjectClass::Face, {0, 0, 20, 20});
  guess.source = RegionSource::Context;
  EXPECT_EQ(style_for(guess, s).shape, Shape::Box);
  EXPECT_EQ(style_for(guess, s).style, Style::Fill);  // only the shape changes
  Region drawn_by_hand = guess;  // a reviewer's or a regions file's rectangle: hidden as drawn
  drawn_by_hand.source = RegionSource::Manual;
  EXPECT_EQ(style_for(drawn_by_hand, s).shape, Shape::Box);
  s[static_cast<int>(ObjectClass::Face)].shape = Shape::Box;
  EXPECT_EQ(style_for(guess, s).shape, Shape::Box);

  // Pixels: the corners of the Context region change, those of the detector's box do not; the mask says the same.
  s[static_cast<int>(ObjectClass::Face)].shape = Shape::Ellipse;
  FramePtr f = make_frame(AV_PIX_FMT_YUV420P, 64, 48);
  const auto before = all_values(*f);
  guess.box = {30, 10, 50, 30};
  const Regions regions = {region(ObjectClass::Face, {4, 10, 24, 30}), guess};
  Redactor red;
  redact_regions(red, *f, regions, s);
  EXPECT_EQ(get(*f, 0, 4, 10), before[0].at(4, 10));  // detector box: its corner unchanged
  EXPECT_EQ(get(*f, 0, 14, 20), 16u);                      // ...its centre filled
  EXPECT_EQ(get(*f, 0, 30, 10), 16u);                      // Context region: its corners filled too
  EXPECT_EQ(get(*f, 0, 49, 29), 16u);
  FramePtr m = make_frame(AV_PIX_FMT_GRAY8, 64, 48);
  for (int y = 0; y < 48; ++y) std::fill_n(m->data[0] + y * m->linesize[0], 64, 0);
  draw_region_mask(*m, regions, s);
  auto at = [&](int x, int y) { return m->data[0][y * m->linesize[0] + x]; };
  EXPECT_EQ(at(4, 10), 0);
  EXPECT_EQ(at(14, 20), 255);
  EXPECT_EQ(at(30, 10), 255);
  EXPECT_EQ(at(49, 29), 255);
}

}  // namespace
