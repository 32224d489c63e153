// How many decoded frames a video holds at once: each is a whole picture (3 MB at 1080p), so their number
// is the part of the memory the pipeline itself decides.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <regex>
#include <string>

#include "media/output_file.hpp"
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
// stages would let ~225 frames of a 25 fps video be held at once (the decoder's 8 + 25, the detector's 8 +
// 100, the interval the schedule holds, the tracker's 57); the bound is the interval (25), the tracker's
// look-ahead (56: a track is carried back 48 frames, with the 8 after its first detection that give its
// motion), the frame in detection and the one in encoding (2) and a slack for bursts: as many frames as
// 48 MiB hold, at least 16 (16 at 1080p, 36 at 720p). A 720p clip, so that the bound is below what the
// queues allow and the decoder really waits for it (a 320x240 clip's slack is 436 frames: never reached).
TEST(FramesHeld, AVideoHoldsNoMoreDecodedFramesThanItsBound) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=1280x720:rate=25:duration=8 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " + quote(in));
  for (const std::string options : {"", "--low-memory", "--keyframes 2"}) {
    SCOPED_TRACE(options);
    const auto r = run_command(std::string(ROADVEIL_CLI) + " anonymize -v " + options + " " + quote(in) + " -o " +
                               quote(dir / "out.mp4") + " --models " + quote(models_dir()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Held held = frames_held(r.output);
    const int interval = options == "--keyframes 2" ? 50 : 25;
    const int slack = 36;  // 48 MiB of 1280x720 yuv420p frames (1,382,400 bytes each)
    EXPECT_EQ(held.bound, interval + 56 + 2 + slack) << r.output;
    EXPECT_LE(held.most, held.bound) << r.output;
    if (options.empty()) {
      // The bound is what stops the decoder: 200 frames, decoded far faster than detected, reach it.
      EXPECT_GE(held.most, held.bound - 4) << r.output;
      // -v also says where detection's time went, network by network.
      for (const std::string model : {"yolox_n_body_head_hand", "yolo-v9-t-license-plates-f32-rawheads", "yolox_nano", "yunet_n_dynamic"}) {
        const std::regex profile(model + R"([.a-z]*\.onnx: [1-9]\d* runs, [\d.]+ Mpx of input \(\d+ px a run\), preparing the input [\d.]+ s, the network [\d.]+ s)");
        EXPECT_TRUE(std::regex_search(r.output, profile)) << model << "\n" << r.output;
      }
    }
    // Decoding twice, frames are let go once detected: the decoder, the schedule's interval and their queue.
    if (options == "--low-memory") EXPECT_LE(held.most, 8 + interval + 2) << r.output;
    else EXPECT_GE(held.most, interval + 56) << "the count is real: the look-ahead and the interval are held" << r.output;
  }
}

// libx264 would start 1.5 frame threads per core, each holding frames of its own (~24 MB at 1080p); while a
// video is detected the detection thread keeps the cores busy instead, so the encoder gets one per core the
// process may use, within x264's own cap of two macroblock rows per thread (7 for 240 lines). The count is in
// the options string x264 writes into the stream. Rendering a regions file uses the same count, so that it
// reproduces the anonymized output.
TEST(FramesHeld, TheEncoderRunsOneFrameThreadPerCore) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
  const int cores = CPU_COUNT(&cpus);
  EXPECT_EQ(roadveil::media::one_encoder_thread_per_core(240), std::min(cores, 7));
  EXPECT_EQ(roadveil::media::one_encoder_thread_per_core(1080), std::min(cores, 34));
  EXPECT_EQ(roadveil::media::one_encoder_thread_per_core(16), 1);
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p " + quote(in));
  const std::string cli = std::string(ROADVEIL_CLI) + " ";
  auto r = run_command(cli + "anonymize -q " + quote(in) + " -o " + quote(dir / "out.mp4") + " --detections " +
                       quote(dir / "regions.json") + " --models " + quote(models_dir()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cli + "render -q --regions " + quote(dir / "regions.json") + " " + quote(in) + " -o " +
                  quote(dir / "rendered.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string threads = " threads=" + std::to_string(std::min(cores, 7)) + " ";
  for (const char* name : {"out.mp4", "rendered.mp4"}) {
    SCOPED_TRACE(name);
    const std::string bytes = read_text(dir / name);
    const auto options = bytes.find("x264 - core");
    ASSERT_NE(options, std::string::npos);
    EXPECT_NE(bytes.find(threads, options), std::string::npos) << bytes.substr(options, 600);
  }
}

// libx264's lookahead keeps its own copy of each frame it plans with, plus four half-resolution planes: ~6 MB
// at 1080p, 10 frames with veryfast (the default). veryfast's lookahead is held to ~40 MB: 6 frames at 1080p
// (a 30 s 1080p clip 624 -> 597 MB peak), its own 10 at 720p and below; a slower preset keeps x264's (20 for
// faster). The count is in the options string x264 writes into the stream, and render uses the same.
TEST(FramesHeld, X264sLookaheadIsHeldToItsMemoryWithTheDefaultPreset) {
  using roadveil::media::x264_lookahead_within;
  EXPECT_EQ(x264_lookahead_within("veryfast", 1920, 1080), 6);
  EXPECT_EQ(x264_lookahead_within("veryfast", 1280, 720), -1);  // 15 would fit: the preset's 10
  EXPECT_EQ(x264_lookahead_within("veryfast", 3840, 2160), 4);  // never fewer than 4
  EXPECT_EQ(x264_lookahead_within("ultrafast", 3840, 2160), -1);  // no lookahead to hold
  EXPECT_EQ(x264_lookahead_within("medium", 1920, 1080), -1);  // chosen for compression
  EXPECT_EQ(x264_lookahead_within("veryfast", 1920, 1080, 0), -1);
  TempDir dir;
  const std::string cli = std::string(ROADVEIL_CLI) + " ";
  auto lookahead_of = [&](const std::filesystem::path& file) {
    const std::string bytes = read_text(file);
    const auto options = bytes.find("x264 - core");
    if (options == std::string::npos) return std::string("no x264 options in ") + file.string();
    const auto at = bytes.find(" rc_lookahead=", options);
    return at == std::string::npos ? std::string("no rc_lookahead") : bytes.substr(at + 14, bytes.find(' ', at + 14) - at - 14);
  };
  for (const std::string size : {"1920x1080", "1280x720"}) {
    SCOPED_TRACE(size);
    const auto in = dir / (size + ".mp4");
    ffmpeg_make("-f lavfi -i testsrc2=size=" + size + ":rate=25:duration=0.4 -c:v libx264 -pix_fmt yuv420p " + quote(in));
    auto r = run_command(cli + "anonymize -q " + quote(in) + " -o " + quote(dir / "out.mp4") + " --detections " +
                         quote(dir / "regions.json") + " --models " + quote(models_dir()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(lookahead_of(dir / "out.mp4"), size == "1920x1080" ? "6" : "10");
    r = run_command(cli + "render -q --regions " + quote(dir / "regions.json") + " " + quote(in) + " -o " +
                    quote(dir / "rendered.mp4"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(lookahead_of(dir / "rendered.mp4"), lookahead_of(dir / "out.mp4"));
    r = run_command(cli + "anonymize -q --preset faster " + quote(in) + " -o " + quote(dir / "faster.mp4") +
                    " --models " + quote(models_dir()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(lookahead_of(dir / "faster.mp4"), "20");
  }
}
