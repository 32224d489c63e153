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

#include <nlohmann/json.hpp>

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

// Up to 720p a video's keyframes and glances run the face and head networks beside the others where memory
// allows (Anonymizer::networks_side_by_side): a dashcam still zoomed into 2 s of 720p, with heads, cars and
// plates, gets the same regions and the same output bytes with the networks side by side (4G) and one at a
// time (700M: the frames held fit, two networks' working memory would not; without the head network: nothing
// to run beside the others).
TEST(NetworksSideBySide, ADashcamClipGetsTheSameRegionsAndBytesEitherWay) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-loop 1 -i " + quote(shared_dir() / "eval/dashcam-berlin-dev/images/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.jpg") +
              " -vf \"zoompan=z='1+0.004*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=1280x720:fps=25\" -frames:v 50 "
              "-c:v libx264 -preset ultrafast -pix_fmt yuv420p " + quote(in));
  auto run = [&](const std::string& name, const std::string& options) {
    std::filesystem::create_directory(dir / name);
    const auto r = run_command(std::string(ROADVEIL_CLI) + " anonymize -v --no-audit " + options + " " + quote(in) + " -o " +
                               quote(dir / name / "out.mp4") + " --detections " + quote(dir / name / "regions.json") +
                               " --models " + quote(models_dir()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  };
  const std::string side_by_side = "1280x720: keyframes and glances run the face and head networks beside the others";
  const std::string one_at_a_time = "1280x720: keyframes and glances run one network at a time";
  const std::string beside = run("beside", "--memory-limit 4G");
  EXPECT_NE(beside.find(side_by_side), std::string::npos) << beside;
  const std::string alone = run("alone", "--memory-limit 700M");
  EXPECT_NE(alone.find(one_at_a_time), std::string::npos) << alone;
  const std::string no_heads = run("no_heads", "--memory-limit 4G --no-head-network");
  EXPECT_NE(no_heads.find(one_at_a_time), std::string::npos) << no_heads;
  auto frames = [&](const std::string& name) {
    std::ifstream f(dir / name / "regions.json");
    return nlohmann::json::parse(f).at("entries").at(0).at("frames");
  };
  const auto regions = frames("beside");
  std::size_t count = 0;
  for (const auto& frame : regions) count += frame.at("regions").size();
  EXPECT_GE(count, 50u * 10) << "heads and plates in every frame";
  EXPECT_EQ(regions, frames("alone"));
  EXPECT_EQ(read_bytes(dir / "beside/out.mp4"), read_bytes(dir / "alone/out.mp4"));
}
