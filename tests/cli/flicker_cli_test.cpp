// `roadveil flicker` on hand-written detections files: the table, and one clear error for a bad file.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {
CommandResult flicker(const std::string& args) { return run_command(std::string(ROADVEIL_CLI) + " flicker " + args); }
}  // namespace

TEST(FlickerCli, CountsAHandWrittenFile) {
  TempDir dir;
  // A plate in frames 0..4 with frame 2 missing (a hole), and a face in frame 3 only (a blip).
  std::ofstream(dir / "d.json") << R"({"format": "roadveil-regions", "version": 1, "entries": [
    {"input": "a.mp4", "output": "b.mp4", "video": true, "width": 100, "height": 100, "time_base": [1, 25],
     "frame_rate": 25, "status": "ok", "frames": [
      {"frame": 0, "pts": 0, "regions": [{"class": "plate", "box": [10, 10, 50, 20]}]},
      {"frame": 1, "pts": 1, "regions": [{"class": "plate", "box": [10, 10, 50, 20]}]},
      {"frame": 2, "pts": 2, "regions": []},
      {"frame": 3, "pts": 3, "regions": [{"class": "plate", "box": [10, 10, 50, 20]}, {"class": "face", "box": [60, 60, 80, 80]}]},
      {"frame": 4, "pts": 4, "regions": [{"class": "plate", "box": [10, 10, 50, 20]}]}]}]})";
  const auto r = flicker(quote(dir / "d.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("     5      1      1"), std::string::npos) << r.output;
}

TEST(FlickerCli, MissingOrForeignFileIsOneErrorAndNoTable) {
  TempDir dir;
  auto r = flicker(quote(dir / "missing.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("missing.json"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("frames"), std::string::npos) << r.output;
  std::ofstream(dir / "x.json") << "{\"x\": 1}";
  r = flicker(quote(dir / "x.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not a roadveil regions file"), std::string::npos) << r.output;
  EXPECT_EQ(flicker("").exit_code, 2);
}
