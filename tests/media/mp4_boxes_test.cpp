// The boxes of an MP4/MOV file that FFmpeg reads into nothing (a dashcam's GPS log): found by their place in
// the file's structure, from bytes made here; and kept or named when a real clip carrying them is anonymized.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/byte_source.hpp"
#include "media/mp4_boxes.hpp"
#include "test_util.hpp"

namespace roadveil::media {
namespace {

class Bytes final : public ByteSource {
 public:
  explicit Bytes(std::string bytes) : bytes_(std::move(bytes)) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(bytes_.size()); }
  std::string read(std::int64_t offset, std::int64_t length) override {
    ++reads;
    return offset >= size() ? std::string() : bytes_.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
  }
  std::string name() const override { return "bytes"; }
  int reads = 0;

 private:
  std::string bytes_;
};

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string box(const std::string& type, const std::string& payload) { return be32(static_cast<std::uint32_t>(8 + payload.size())) + type + payload; }
// The 64-bit size form: size 1, the type, then the size in 8 bytes.
std::string large_box(const std::string& type, const std::string& payload) {
  return be32(1) + type + be32(0) + be32(static_cast<std::uint32_t>(16 + payload.size())) + payload;
}

TEST(Mp4Boxes, OnlyWhatIsOutsideTheStructureIsFound) {
  const std::string moov = box("moov", box("mvhd", std::string(100, '\0')) + box("trak", box("tkhd", "x")) +
                                           box("udta", box("\xa9xyz", "+52.5+013.4/")) + box("gps ", "index"));
  const std::string file = box("ftyp", "isom") + box("free", "") + large_box("mdat", std::string(40, 'v')) + moov +
                           box("uuid", std::string(16, 'U') + "<xmp/>") + box("gps ", "$GPRMC") +
                           be32(100) + "trun";  // a last box claiming more than the file holds
  Bytes source(file);
  const auto found = foreign_mp4_boxes(source);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].type, "gps ");
  EXPECT_EQ(found[0].parent, "moov");
  EXPECT_EQ(found[1].type, "uuid");
  EXPECT_EQ(found[1].parent, "");
  EXPECT_EQ(found[2].type, "gps ");
  EXPECT_EQ(found[2].size, 14);
  EXPECT_EQ(source.read(found[2].offset, found[2].size), box("gps ", "$GPRMC"));
  // Headers only: one read per box looked at, never the payloads.
  EXPECT_LE(source.reads, 12);
  EXPECT_EQ(box_type_text("\xa9xyz"), "\\xa9xyz");

  // A size of 0 runs to the end of the file; a box smaller than its header ends the walk.
  Bytes to_end(box("ftyp", "isom") + be32(0) + "gps " + "rest of the file");
  ASSERT_EQ(foreign_mp4_boxes(to_end).size(), 1u);
  Bytes broken(box("ftyp", "isom") + be32(4) + "gps ");
  EXPECT_TRUE(foreign_mp4_boxes(broken).empty());
  Bytes many(box("ftyp", "isom") + box("moof", "") + box("mdat", "") + box("gps ", ""));
  EXPECT_TRUE(foreign_mp4_boxes(many, 3).empty());
  EXPECT_EQ(foreign_mp4_boxes(many, 4).size(), 1u);
}

}  // namespace
}  // namespace roadveil::media
