// How a video's detection shares the machine with its decoder and encoder.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

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

// A video's stages are named threads (`top -H`, `ps -L`, perf): all three showed "roadveil", and a profile of
// where a run's CPU went had to guess which thread was which by its share.
TEST(VideoStageThreads, DecodeAndDetectThreadsAreNamed) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -c:v libx264 -pix_fmt yuv420p " + quote(in));
  const std::string cli = kCli, input = in.string(), output = (dir / "out.mp4").string(), models = models_dir().string();
  std::vector<std::string> args = {cli, "anonymize", "-q", input, "-o", output, "--models", models};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, cli.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  std::set<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
      std::string name;
      std::getline(std::ifstream(task.path() / "comm"), name);
      seen.insert(name);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (kill(pid, 0) == 0) {  // past the deadline: stop it
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(seen.count("roadveil-decode")) << "threads seen: " << ::testing::PrintToString(seen);
  EXPECT_TRUE(seen.count("roadveil-detect")) << "threads seen: " << ::testing::PrintToString(seen);
  EXPECT_TRUE(seen.count("roadveil")) << "the main thread (the write stage) keeps the program's name";
}
