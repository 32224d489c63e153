// How many decoded frames a video holds at once: each is a whole picture (3 MB at 1080p), so their number
// is the part of the memory the pipeline itself decides.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {

struct Held {
  int most = -1, bound = -1;
};

Held frames_held(const std::string& output) {
  std::smatch m;
  const std::regex line(R"(at most (\d+) decoded frames held at once \(bound (\d+)\))");
  if (!std::regex_search(output, m, line)) return {};
  return {std::stoi(m[1]), std::stoi(m[2])};
}

}  // namespace

// The decoder is far faster than detection and runs ahead until something stops it. The queues between the
// stages would let ~150 frames of a 25 fps video be held at once (the decoder's 8 + 25, the detector's 8 + 50,
// the interval the schedule holds, the tracker's 32); the bound is the interval (25), the tracker's
// look-ahead (32), the frame in detection and the one in encoding (2) and 16 more for bursts: 75.
TEST(FramesHeld, AVideoHoldsNoMoreDecodedFramesThanItsBound) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=10 -c:v libx264 -pix_fmt yuv420p " + quote(in));
  for (const std::string options : {"", "--low-memory", "--keyframes 2"}) {
    SCOPED_TRACE(options);
    const auto r = run_command(std::string(ROADVEIL_CLI) + " anonymize -v " + options + " " + quote(in) + " -o " +
                               quote(dir / "out.mp4") + " --models " + quote(models_dir()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Held held = frames_held(r.output);
    const int interval = options == "--keyframes 2" ? 50 : 25;
    EXPECT_EQ(held.bound, interval + 32 + 2 + 16) << r.output;
    EXPECT_LE(held.most, held.bound) << r.output;
    // Decoding twice, frames are let go once detected: the decoder, the schedule's interval and their queue.
    if (options == "--low-memory") EXPECT_LE(held.most, 8 + interval + 2) << r.output;
    else EXPECT_GE(held.most, interval + 32) << "the count is real: the look-ahead and the interval are held" << r.output;
  }
}
