// How a video's detection shares the machine with its decoder and encoder.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "pipeline/anonymizer.hpp"
#include "test_util.hpp"

using namespace roadveil::testing;

TEST(VideoDetectorThreads, QuarterOfTheCoresAtLeastOne) {
  using roadveil::pipeline::video_detector_threads;
  EXPECT_EQ(video_detector_threads(0), 1);  // hardware_concurrency() unknown
  EXPECT_EQ(video_detector_threads(2), 1);
  EXPECT_EQ(video_detector_threads(4), 1);
  EXPECT_EQ(video_detector_threads(8), 2);
  EXPECT_EQ(video_detector_threads(16), 4);
}

TEST(VideoDetectorThreads, ThreadsOptionReachesTheVideoNetworks) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 -pix_fmt yuv420p " + quote(in));
  for (const std::string threads : {"", "3"}) {
    const auto r = run_command(std::string(ROADVEIL_CLI) + " anonymize -v " + (threads.empty() ? "" : "--threads " + threads) +
                               " " + quote(in) + " -o " + quote(dir / "out.mp4") + " --models " + quote(models_dir()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string expected = threads.empty() ? std::to_string(roadveil::pipeline::video_detector_threads(
                                                       std::thread::hardware_concurrency()))
                                                 : threads;
    EXPECT_NE(r.output.find("video detection: " + expected + " ONNX Runtime thread(s) per network, encoder 5 nice levels lower"),
              std::string::npos)
        << r.output;
  }
}
