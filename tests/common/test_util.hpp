#pragma once
// Helpers shared by the tests: running commands, temporary folders, the shared data.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <stdlib.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "core/temporary_folder.hpp"

namespace roadveil::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quote(const std::filesystem::path& p) {
  std::string s = "'";
  for (char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

inline std::filesystem::path shared_dir() { return ROADVEIL_SHARED_DIR; }
inline std::filesystem::path models_dir() {
  if (const char* env = std::getenv("ROADVEIL_MODELS"); env && *env) return env;
  return shared_dir() / "models";
}

// A fresh folder removed at the end of the test.
class TempDir : public TemporaryFolder {
 public:
  TempDir() : TemporaryFolder("roadveil-test") {}
};

#ifdef ROADVEIL_CLI
// The roadveil built with this tree (test targets made with NEEDS_CLI), and a run of it with the shared models.
inline const std::string kCli = ROADVEIL_CLI;
inline CommandResult run_cli(const std::string& args) {
  return run_command(kCli + " " + args + " --models " + quote(models_dir()));
}
// The same on a terminal (script(1) gives it one, as wide as the one the tests run in), where the progress
// bar is drawn.
inline CommandResult run_cli_on_terminal(const std::string& args) {
  return run_command("script -qec " + quote(kCli + " " + args + " --models " + quote(models_dir())) + " /dev/null");
}
#endif

// How many lines a command printed.
inline int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

inline bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// How many times `what` occurs in `text` (overlapping occurrences too).
inline int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Makes a clip with the ffmpeg program; fails the test if that does not work.
inline void ffmpeg_make(const std::string& args) {
  const auto r = run_command("ffmpeg -hide_banner -loglevel error -y " + args);
  ASSERT_EQ(r.exit_code, 0) << "ffmpeg " << args << "\n" << r.output;
}

inline std::string ffprobe(const std::string& args) {
  return run_command("ffprobe -v error " + args).output;
}

// A file's video packets as ffprobe's "packet,PTS,DURATION" lines, sorted: its frames with their times, in an
// order that does not depend on how an encoder reordered its B-frames.
inline std::vector<std::string> sorted_video_packet_times(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(ffprobe("-select_streams v -show_entries packet=pts,duration -of csv " + quote(file)));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// The street photo of faces-street as a clip stored upright (dir/up.mp4) and one stored turned 90 degrees
// counter-clockwise with a display matrix that turns it back (dir/side.mp4), `seconds` long at 10 fps.
// FFmpeg 5.1 turns the legacy "rotate" tag into a display matrix on a stream copy; its 270 is what players
// show turned 90 degrees clockwise (ffprobe: rotation=-90).
inline void make_upright_and_sideways_clips(const std::filesystem::path& dir, double seconds) {
  const std::string clip = "-loop 1 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") + " -t " +
                           std::to_string(seconds) + " -r 10 -c:v libx264 -pix_fmt yuv420p ";
  ffmpeg_make(clip + quote(dir / "up.mp4"));
  ffmpeg_make(clip + "-vf transpose=2 " + quote(dir / "raw.mp4"));
  ffmpeg_make("-i " + quote(dir / "raw.mp4") + " -c copy -metadata:s:v:0 rotate=270 " + quote(dir / "side.mp4"));
}

// One second of the faces-street photo at 10 fps, 512x366 (dir/in.mp4), anonymized by `cli` into dir/out.mp4
// with its regions file dir/regions.json: the finished file that verify and audit are tried on.
inline void make_anonymized_street_clip(const std::filesystem::path& dir, const std::string& cli) {
  ffmpeg_make("-loop 1 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") +
              " -t 1 -r 10 -vf scale=512:366 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "in.mp4"));
  const auto r = run_command(cli + " anonymize -q " + quote(dir / "in.mp4") + " -o " + quote(dir / "out.mp4") +
                             " --detections " + quote(dir / "regions.json") + " --models " + quote(models_dir()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace roadveil::testing
