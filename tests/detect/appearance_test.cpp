// Finding an object again by its appearance: a textured patch moved and grown over a textured background.
#include <gtest/gtest.h>

#include <cstdint>

extern "C" {
#include <libavutil/frame.h>
}

#include "detect/appearance.hpp"
#include "textured_picture.hpp"

namespace roadveil::detect {
namespace {

using media::FramePtr;

FramePtr picture(const Box& object, int format = AV_PIX_FMT_YUV420P) {
  return textured_picture(320, 240, {object}, 0, format);
}

TEST(Appearance, AnObjectIsFoundWhereItMovedAndGrew) {
  const Box before{100, 80, 148, 112};
  const Appearance look = sample_appearance(*picture(before), before);
  ASSERT_TRUE(look.valid);
  // Moved by (9, -5) and grown 10%; predicted at the old centre with the new size.
  const Box now = Box::from_center(before.cx() + 9, before.cy() - 5, 1.1f * before.width(), 1.1f * before.height());
  const Box predicted = Box::from_center(before.cx(), before.cy(), now.width(), now.height());
  const AppearanceMatch match = match_appearance(*picture(now), look, predicted);
  EXPECT_GT(match.similarity, 0.9f);
  // Within one sample cell (1.5 box widths over 16 cells) of where it is.
  EXPECT_NEAR(match.box.cx(), now.cx(), 1.5f * now.width() / 16);
  EXPECT_NEAR(match.box.cy(), now.cy(), 1.5f * now.height() / 16);
}

TEST(Appearance, AnObjectThatLeftIsNotFoundInTheBackground) {
  const Box before{100, 80, 148, 112};
  const Appearance look = sample_appearance(*picture(before), before);
  ASSERT_TRUE(look.valid);
  const AppearanceMatch match = match_appearance(*picture({}), look, before);
  EXPECT_GT(match.similarity, -1.0f);  // the background was compared...
  EXPECT_LT(match.similarity, 0.5f);   // ...and is not the object
}

TEST(Appearance, FlatTinyOrOutsideAreasHaveNoAppearance) {
  FramePtr flat(av_frame_alloc());
  flat->format = AV_PIX_FMT_YUV420P;
  flat->width = 64;
  flat->height = 64;
  ASSERT_GE(av_frame_get_buffer(flat.get(), 0), 0);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) flat->data[0][y * flat->linesize[0] + x] = 90;
  EXPECT_FALSE(sample_appearance(*flat, {10, 10, 40, 40}).valid);
  const Box object{100, 80, 148, 112};
  const FramePtr f = picture(object);
  EXPECT_FALSE(sample_appearance(*f, {100, 80, 106, 86}).valid);    // under 8 px
  EXPECT_FALSE(sample_appearance(*f, {300, 200, 360, 260}).valid);  // mostly outside the picture
}

TEST(Appearance, TenBitPicturesAreReadInEightBitLevels) {
  // A 10-bit area varying by 36 levels of 1023 (9 of 255) is flat; read as 8-bit levels, it would not be.
  const FramePtr faint = picture({}, AV_PIX_FMT_YUV420P10LE);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 100; ++x)
      reinterpret_cast<std::uint16_t*>(faint->data[0] + y * faint->linesize[0])[x] = static_cast<std::uint16_t>(400 + 3 * ((x + y) % 13));
  EXPECT_FALSE(sample_appearance(*faint, {20, 20, 80, 80}).valid);
  const Box before{100, 80, 148, 112};
  const Appearance look = sample_appearance(*picture(before), before);
  const Box now{104, 80, 152, 112};
  const AppearanceMatch match = match_appearance(*picture(now, AV_PIX_FMT_YUV420P10LE), look, before);
  EXPECT_GT(match.similarity, 0.9f);
  EXPECT_NEAR(match.box.cx(), now.cx(), 1.5f * now.width() / 16);
}

}  // namespace
}  // namespace roadveil::detect
