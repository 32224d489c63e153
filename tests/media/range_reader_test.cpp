// Videos decoded from ranged reads (an object in a bucket) instead of a local file: the same frames as from
// the file, memory bounded by the blocks held, and the input's SHA-256 from the same reads.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/byte_source.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "media/input_file.hpp"
#include "media/range_reader.hpp"
#include "test_util.hpp"

namespace roadveil::media {
namespace {

using roadveil::testing::read_text;
using roadveil::testing::shared_dir;

// A file's bytes served by ranges, counting the requests; optionally failing from a given offset.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(bytes_.size()); }
  std::string read(std::int64_t offset, std::int64_t length) override {
    ++reads;
    if (fail_from >= 0 && offset + length > fail_from) throw Error("s3://bucket/clip.mp4: reading failed: HTTP 503 SlowDown");
    return bytes_.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
  }
  std::string name() const override { return "s3://bucket/clip.mp4"; }
  int reads = 0;
  std::int64_t fail_from = -1;

 private:
  std::string bytes_;
};

std::vector<std::int64_t> frame_times(InputFile& in) {
  std::vector<std::int64_t> pts;
  FramePtr frame = make_frame();
  PacketPtr packet = make_packet();
  for (ReadResult r; (r = in.read(frame.get(), packet.get())) != ReadResult::End;)
    if (r == ReadResult::VideoFrame) pts.push_back(frame->pts);
  return pts;
}

TEST(RangeReader, DecodesTheSameFramesAsTheFileInBoundedBlocksAndHashesIt) {
  const auto path = shared_dir() / "eval/videos/udacity_vehicle_detection_test_video.mp4";
  auto source = std::make_shared<MemorySource>(read_text(path));
  constexpr std::int64_t kBlock = 64 << 10;
  RangeReader reader(source, kBlock, 3);
  InputFile remote(reader);
  EXPECT_EQ(remote.path().string(), "s3://bucket/clip.mp4");
  InputFile local(path);
  EXPECT_EQ(remote.video().width, local.video().width);
  EXPECT_EQ(remote.video().frame_count, local.video().frame_count);
  const auto from_file = frame_times(local);
  ASSERT_GT(from_file.size(), 30u);
  EXPECT_EQ(frame_times(remote), from_file);
  EXPECT_FALSE(remote.damaged());
  EXPECT_LE(reader.most_blocks_held(), 3);
  // Blocks read twice (the demuxer goes back to the index, the hash takes what it skipped) stay few.
  const std::int64_t size = source->size();
  EXPECT_LE(reader.bytes_fetched(), size + 6 * kBlock) << reader.bytes_fetched() << " of " << size;
  EXPECT_EQ(reader.finish_sha256(), sha256_file_hex(path));
  EXPECT_EQ(reader.finish_sha256(), sha256_file_hex(path));  // asked twice: the same digest, not an OpenSSL error
  EXPECT_LE(reader.bytes_fetched(), size + 8 * kBlock);
}

TEST(RangeReader, AFailingReadIsReportedByWhatFailed) {
  const auto path = shared_dir() / "eval/videos/udacity_vehicle_detection_test_video.mp4";
  auto source = std::make_shared<MemorySource>(read_text(path));
  source->fail_from = source->size() / 2;
  RangeReader reader(source, 64 << 10, 4);
  try {
    InputFile remote(reader);
    frame_times(remote);
    EXPECT_TRUE(remote.read_error() || remote.damaged());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
  }
  EXPECT_EQ(reader.error(), "s3://bucket/clip.mp4: reading failed: HTTP 503 SlowDown");
}

}  // namespace
}  // namespace roadveil::media
