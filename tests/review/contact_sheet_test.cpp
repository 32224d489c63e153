// Contact sheets of the review queue: one PNG per page, thumbnails in queue order, the spot to check outlined
// in red at the right place, a label under each.
#include <gtest/gtest.h>

#include "media/image_file.hpp"
#include "review/contact_sheet.hpp"
#include "test_util.hpp"

namespace roadveil::review {
namespace {

using roadveil::testing::TempDir;

struct Pixel {
  int r, g, b;
};
Pixel at(const AVFrame& f, int x, int y) {
  const std::uint8_t* p = f.data[0] + y * f.linesize[0] + x * 3;
  return {p[0], p[1], p[2]};
}

TEST(ContactSheet, PagesOfThumbnailsWithTheSpotToCheckInRed) {
  TempDir dir;
  // 640x360 grey clip, 10 frames.
  roadveil::testing::ffmpeg_make("-f lavfi -i color=c=gray:s=640x360:r=10 -frames:v 10 -c:v libx264 -pix_fmt yuv420p " +
                                 roadveil::testing::quote(dir / "clip.mp4"));
  pipeline::RegionsEntry entry;
  entry.info.input = dir / "clip.mp4";
  entry.info.output = dir / "missing-output.mp4";  // not there: thumbnails come from the input
  entry.info.width = 640;
  entry.info.height = 360;
  entry.info.frame_count = 10;
  entry.info.frame_rate = 10;
  entry.frames[4].push_back({ObjectClass::Plate, {100, 100, 200, 140}, 0.9f, RegionSource::Detector, 1});
  std::vector<QueuedFrame> queue;
  for (int i = 0; i < 7; ++i) {
    QueuedFrame q;
    q.frame = i;
    q.time = i / 10.0;
    q.risk = 1.0 - i * 0.1;
    q.reasons.push_back({"before the track's first region", 1, ObjectClass::Plate, Box{320, 180, 400, 220}, q.risk});
    queue.push_back(q);
  }
  const auto pages = write_contact_sheets(queue, {entry}, dir / "sheets", {.columns = 2, .rows = 2, .thumbnail_width = 320});
  ASSERT_EQ(pages.size(), 2u) << "7 frames, 4 a page";
  ASSERT_TRUE(std::filesystem::exists(dir / "sheets/queue-001.png"));
  ASSERT_TRUE(std::filesystem::exists(dir / "sheets/queue-002.png"));
  const auto sheet = media::decode_image(pages[0]);
  ASSERT_EQ(sheet->format, AV_PIX_FMT_RGB24);
  // Cells: 320x180 thumbnails + 20 px label, 6 px gaps.
  EXPECT_EQ(sheet->width, 2 * (320 + 6) + 6);
  EXPECT_EQ(sheet->height, 2 * (180 + 20 + 6) + 6);
  // The reason box (320,180)-(400,220) at half scale: its left edge at x = 6 + 160 - 2, y in 90..110.
  const Pixel edge = at(*sheet, 6 + 160 - 1, 6 + 100);
  EXPECT_GT(edge.r, 200);
  EXPECT_LT(edge.g, 80);
  const Pixel inside = at(*sheet, 6 + 180, 6 + 100);
  EXPECT_NEAR(inside.r, inside.g, 8) << "grey inside the box";
  // The label has white pixels under the thumbnail.
  int white = 0;
  for (int y = 6 + 180 + 4; y < 6 + 180 + 18; ++y)
    for (int x = 6; x < 6 + 320; ++x) white += at(*sheet, x, y).r == 255 && at(*sheet, x, y).b == 255;
  EXPECT_GT(white, 100);
  // Page 2 has three thumbnails: two rows.
  EXPECT_EQ(media::decode_image(pages[1])->height, 2 * (180 + 20 + 6) + 6);
  // A shorter queue into the same folder leaves no page of the longer one behind (queue-002.png was kept).
  queue.resize(3);
  EXPECT_EQ(write_contact_sheets(queue, {entry}, dir / "sheets", {.columns = 2, .rows = 2, .thumbnail_width = 320}).size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir / "sheets/queue-001.png"));
  EXPECT_FALSE(std::filesystem::exists(dir / "sheets/queue-002.png"));
}

TEST(ContactSheet, GlyphsForTheLabel) {
  EXPECT_NE(glyph('7')[0], 0);
  EXPECT_EQ(glyph('%')[3], 0) << "unknown characters are blank";
}

}  // namespace
}  // namespace roadveil::review
