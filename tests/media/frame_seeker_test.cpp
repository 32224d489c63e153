// Random access by frame index: each frame of the test clip has its own brightness (16 + 6 * index), so a
// frame decoded is known by its pixels. B-frames and a short GOP make seeking land before, inside and across
// keyframes; the order of requests mixes stepping on, stepping back and jumping.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "media/frame_seeker.hpp"
#include "test_util.hpp"

namespace roadveil::media {
namespace {

double mean_luma(const AVFrame& f) {
  double sum = 0;
  for (int y = 0; y < f.height; ++y)
    for (int x = 0; x < f.width; ++x) sum += f.data[0][y * f.linesize[0] + x];
  return sum / (f.width * f.height);
}

class FrameSeekerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("roadveil_seek_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // 30 frames at 10 fps, luma 16 + 6n, GOP 8 with B-frames.
    roadveil::testing::ffmpeg_make("-f lavfi -i \"nullsrc=s=64x48:r=10,geq=lum='16+6*N':cb=128:cr=128\" -frames:v 30 "
                      "-c:v libx264 -qp 0 -g 8 -bf 3 -pix_fmt yuv420p " + roadveil::testing::quote(dir_ / "ramp.mp4"));
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::filesystem::path dir_;
};
std::filesystem::path FrameSeekerTest::dir_;

TEST_F(FrameSeekerTest, EveryFrameByIndexInAnyOrder) {
  FrameSeeker seeker(dir_ / "ramp.mp4");
  ASSERT_EQ(seeker.frame_count(), 30);
  for (std::int64_t i : {0, 1, 2, 3, 29, 28, 7, 8, 9, 15, 14, 13, 25, 5, 6, 20, 21, 22, 23, 24, 0, 16}) {
    const FramePtr f = seeker.frame(i);
    EXPECT_NEAR(mean_luma(*f), 16 + 6 * i, 1.0) << "frame " << i;
    EXPECT_EQ(f->pts, seeker.timestamp(i));
  }
}

TEST_F(FrameSeekerTest, TimestampsAreInPresentationOrder) {
  FrameSeeker seeker(dir_ / "ramp.mp4");
  for (std::int64_t i = 1; i < seeker.frame_count(); ++i) EXPECT_LT(seeker.timestamp(i - 1), seeker.timestamp(i));
}

TEST_F(FrameSeekerTest, AFrameOutsideTheVideoIsAClearError) {
  FrameSeeker seeker(dir_ / "ramp.mp4");
  try {
    seeker.frame(30);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("frame 30 is outside the video (frames 0-29)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(seeker.frame(-1), Error);
}

}  // namespace
}  // namespace roadveil::media
