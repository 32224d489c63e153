// Pictures inside the data and subtitle streams a video carries (media/stream_pictures.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/stream_pictures.hpp"

using roadveil::media::remove_ass_graphics;
using roadveil::media::remove_stream_pictures;

namespace {
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }
}  // namespace

// The [Graphics] section goes, whatever its case and line ends; [Fonts] and the rest stay as they were.
TEST(StreamPictures, AnAssScriptLosesItsGraphicsSectionOnly) {
  auto script = bytes("[Script Info]\r\nTitle: x\r\n\r\n [graphics] \r\nfilename: a.jpg\r\n!!#$%&\r\nfilename: b.png\r\n'()*\r\n\r\n"
                      "[Fonts]\r\nfontname: f.ttf\r\n!!#$\r\n[Events]\r\nDialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,hi\r\n");
  EXPECT_EQ(remove_ass_graphics(script), 2);
  EXPECT_EQ(text(script), "[Script Info]\r\nTitle: x\r\n\r\n[Fonts]\r\nfontname: f.ttf\r\n!!#$\r\n[Events]\r\n"
                          "Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,hi\r\n");
  auto plain = bytes("[Script Info]\nTitle: [Graphics] in a title\n");
  EXPECT_EQ(remove_ass_graphics(plain), 0);
  EXPECT_EQ(text(plain), "[Script Info]\nTitle: [Graphics] in a title\n");
}

// Review of this change: uuencoded lines are characters 33-96, '[' among them, and a data line starting with
// it ended the section, the rest of the picture and a second one kept. Only a section header ends it; a lone
// CR ends a line; a section with data but no "filename:" line still counts.
TEST(StreamPictures, OnlyASectionHeaderEndsTheGraphicsSection) {
  auto script = bytes("[Graphics]\nfilename: a.png\n!!#$%\n[ABC]!!#\n[XYZ]\nfilename: b.png\n&'()*\n[Events]\nDialogue: x\n");
  EXPECT_EQ(remove_ass_graphics(script), 2);
  EXPECT_EQ(text(script), "[Events]\nDialogue: x\n");
  auto mac = bytes("[Script Info]\rTitle: y\r[Graphics]\rfilename: a.png\r!!#$\r[Events]\rDialogue: z\r");
  EXPECT_EQ(remove_ass_graphics(mac), 1);
  EXPECT_EQ(text(mac), "[Script Info]\rTitle: y\r[Events]\rDialogue: z\r");
  auto unnamed = bytes("[Graphics]\n!!#$%&\n[Events]\n");
  EXPECT_EQ(remove_ass_graphics(unnamed), 1);
  EXPECT_EQ(text(unnamed), "[Events]\n");
}

// A packet's picture and base64 are zeroed, its telemetry kept; what was zeroed before is no finding.
TEST(StreamPictures, APacketsPicturesAreZeroedOnceAndItsTelemetryKept) {
  const std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x03, 0x00, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9};
  std::vector<std::uint8_t> packet = bytes("GPS5\x01\x02");
  packet.insert(packet.end(), jpeg.begin(), jpeg.end());
  const std::string uri = " <img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA\"> ";
  packet.insert(packet.end(), uri.begin(), uri.end());
  EXPECT_EQ(remove_stream_pictures(packet.data(), packet.size()), 2);  // the JPEG; the PNG in base64 (in its URI)
  EXPECT_EQ(text(packet).substr(0, 6), "GPS5\x01\x02");
  EXPECT_EQ(std::count(packet.begin() + 6, packet.begin() + 6 + static_cast<std::ptrdiff_t>(jpeg.size()), 0),
            static_cast<std::ptrdiff_t>(jpeg.size()));
  EXPECT_NE(text(packet).find("data:image/png;base64,AAAAAAAAAAAAAAAAAAAAAAAA\"> "), std::string::npos) << text(packet);
  EXPECT_EQ(remove_stream_pictures(packet.data(), packet.size()), 0);
  EXPECT_EQ(remove_stream_pictures(nullptr, 0), 0);
}
