// `roadveil compare` on hand-written detections files.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {
CommandResult compare(const std::string& args) { return run_command(std::string(ROADVEIL_CLI) + " compare " + args); }

void write_file(const std::filesystem::path& path, const std::string& frames) {
  std::ofstream(path) << R"({"format": "roadveil-regions", "version": 1, "entries": [
    {"input": "a.mp4", "output": "b.mp4", "video": true, "width": 100, "height": 100, "time_base": [1, 25],
     "frame_rate": 25, "status": "ok", "frames": [)" << frames << "]}]}";
}
}  // namespace

TEST(CompareCli, CountsWhatTheCandidateMisses) {
  TempDir dir;
  const std::string plate = R"({"class": "plate", "box": [10, 10, 50, 20]})";
  write_file(dir / "ref.json", R"({"frame": 0, "pts": 0, "regions": [)" + plate + R"(]},
    {"frame": 1, "pts": 1, "regions": [)" + plate + R"(]}, {"frame": 2, "pts": 2, "regions": [)" + plate + "]}");
  write_file(dir / "cand.json", R"({"frame": 0, "pts": 0, "regions": [)" + plate + "]}");
  const auto r = compare(quote(dir / "ref.json") + " " + quote(dir / "cand.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"plates\": 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"plates_hidden\": 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"longest_miss_run\": 2"), std::string::npos) << r.output;
}

TEST(CompareCli, ACandidateInputMissingFromTheReferenceIsAnError) {
  TempDir dir;
  write_file(dir / "ref.json", "");
  std::ofstream(dir / "cand.json") << R"({"format": "roadveil-regions", "version": 1, "entries": [
    {"input": "other.mp4", "output": "o.mp4", "video": true, "width": 100, "height": 100, "time_base": [1, 25],
     "frame_rate": 25, "status": "ok", "frames": []}]})";
  const auto r = compare(quote(dir / "ref.json") + " " + quote(dir / "cand.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("has no entry for other.mp4"), std::string::npos) << r.output;
}
