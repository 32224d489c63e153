// How many decoded frames a video holds at once: each is a whole picture (3 MB at 1080p), so their number
// is the part of the memory the pipeline itself decides.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>

#include "media/output_file.hpp"
#include "core/memory_limit.hpp"
#include "media/picture_header.hpp"
#include "pipeline/photo_memory.hpp"
#include "pipeline/video_memory.hpp"
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
    // No memory limit: on a machine with little memory the default would decode twice (the test below).
    const auto r = run_command(std::string(ROADVEIL_CLI) + " anonymize -v --memory-limit none " + options + " " + quote(in) + " -o " +
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
        const std::regex profile(model + R"([.a-z]*\.onnx: [1-9]\d* runs, [\d.]+ Mpx of input \(\d+ px a run, \d+% padding\), preparing the input [\d.]+ s, the network [\d.]+ s)");
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

// The estimate a run decides by, against the peaks it was fitted to (bench/speed.sh's clip, `/usr/bin/time
// -f %M`, MiB): holding 119 / 99 / 99 frames and decoding twice, 720p 392 and 277, 1080p 655 and 464,
// 2160p 1,919 and 1,154. Within 15% where it matters (1080p and up), never under by more than 2%.
TEST(VideoMemory, TheEstimateFollowsTheMeasuredPeaks) {
  using roadveil::pipeline::estimated_video_peak;
  using roadveil::pipeline::frames_held_decoding_twice;
  constexpr double kMiB = 1024.0 * 1024.0;
  struct Case {
    int width, height, held;
    double holding, twice;
  };
  for (const Case c : {Case{1280, 720, 119, 392, 277}, Case{1920, 1080, 99, 655, 464}, Case{3840, 2160, 99, 1919, 1154}}) {
    SCOPED_TRACE(c.height);
    const std::size_t frame = static_cast<std::size_t>(c.width) * c.height * 3 / 2;
    const double holding = static_cast<double>(estimated_video_peak(c.width, c.height, frame, static_cast<std::size_t>(c.held), 2)) / kMiB;
    const double twice = static_cast<double>(estimated_video_peak(c.width, c.height, frame, frames_held_decoding_twice(25), 2)) / kMiB;
    EXPECT_GE(holding, c.holding * 0.98);
    EXPECT_GE(twice, c.twice * 0.98);
    if (c.height >= 1080) {
      EXPECT_LE(holding, c.holding * 1.15);
      EXPECT_LE(twice, c.twice * 1.15);
    }
  }
  // A 2160p video holding its frames needs ~1.9 GB: under a 2 GB limit (1.5 GB budget) it is decoded
  // twice, with 4 GB it holds them; 1080p holds them from ~880 MB up.
  const std::size_t frame2160 = 3840 * 2160 * 3 / 2, frame1080 = 1920 * 1080 * 3 / 2;
  using roadveil::pipeline::plan_video_memory;
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30, kMiBs = std::uint64_t{1} << 20;
  EXPECT_FALSE(plan_video_memory(3840, 2160, frame2160, 99, 25, 2, 2 * kGiB).holding_fits());
  EXPECT_TRUE(plan_video_memory(3840, 2160, frame2160, 99, 25, 2, 2 * kGiB).twice_fits());
  EXPECT_TRUE(plan_video_memory(3840, 2160, frame2160, 99, 25, 2, 4 * kGiB).holding_fits());
  EXPECT_TRUE(plan_video_memory(1920, 1080, frame1080, 99, 25, 2, 880 * kMiBs).holding_fits());
  EXPECT_FALSE(plan_video_memory(1920, 1080, frame1080, 99, 25, 2, 800 * kMiBs).holding_fits());
  EXPECT_TRUE(plan_video_memory(1920, 1080, frame1080, 99, 25, 2, 0).holding_fits());  // no limit known
  // At 60 fps a keyframe interval is 60 frames, held decoding twice too (70, not 35: +417 MiB at 2160p); and
  // each encoder thread beyond two holds ~11 bytes a pixel (16 cores at 2160p: +1.3 GB).
  const auto at25 = plan_video_memory(3840, 2160, frame2160, 134, 25, 2, 0), at60 = plan_video_memory(3840, 2160, frame2160, 134, 60, 2, 0);
  EXPECT_EQ(at60.decoding_twice - at25.decoding_twice, 35 * frame2160);
  const auto cores16 = plan_video_memory(3840, 2160, frame2160, 99, 25, 16, 0), cores2 = plan_video_memory(3840, 2160, frame2160, 99, 25, 2, 0);
  EXPECT_EQ(cores16.holding_frames - cores2.holding_frames, std::uint64_t{14} * 11 * 3840 * 2160);
}

// Under a memory limit too small for its held frames, a video is decoded twice instead, the output the same
// (the limit is given here; by default it is the control group's or the machine's). A limit too small even
// for that still runs, with a warning.
TEST(VideoMemory, AVideoOverItsMemoryLimitIsDecodedTwiceWithTheSameOutput) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=1280x720:rate=25:duration=4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " + quote(in));
  const std::string cli = std::string(ROADVEIL_CLI) + " anonymize -v " + quote(in) + " --models " + quote(models_dir());
  // 720p holds 119 frames: ~444 MiB estimated, over 3/4 of 500M; decoding twice ~332 MiB fits.
  auto r = run_command(cli + " -o " + quote(dir / "limited.mp4") + " --memory-limit 500M");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("holding 119 frames of 1280x720 for the tracker would take ~4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("more than three quarters of 500 MB (--memory-limit): decoding it twice instead"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("may run out of memory"), std::string::npos) << r.output;
  EXPECT_LE(frames_held(r.output).most, 8 + 25 + 2) << r.output;
  const auto held = run_command(cli + " -o " + quote(dir / "held.mp4") + " --memory-limit 4G");
  ASSERT_EQ(held.exit_code, 0) << held.output;
  EXPECT_EQ(held.output.find("decoding it twice"), std::string::npos) << held.output;
  EXPECT_GE(frames_held(held.output).most, 25 + 56) << held.output;
  const auto frames = [&](const char* name) { return ffprobe("-v error -show_entries packet=size,pts -of csv " + quote(dir / name)); };
  EXPECT_EQ(frames("limited.mp4"), frames("held.mp4"));
  EXPECT_EQ(read_text(dir / "limited.mp4").size(), read_text(dir / "held.mp4").size());
  // Up to 720p the face and head networks run beside the others where memory allows (Anonymizer::
  // networks_side_by_side): not when decoding twice, nor at 700M, where the frames held fit (~444 of a 525 MiB
  // budget) but two networks' working memory at once (96 MiB) would not. The output is the same every way.
  const std::string side_by_side = "1280x720: keyframes and glances run the face and head networks beside the others";
  const std::string one_at_a_time = "1280x720: keyframes and glances run one network at a time";
  EXPECT_NE(held.output.find(side_by_side), std::string::npos) << held.output;
  EXPECT_NE(r.output.find(one_at_a_time), std::string::npos) << r.output;
  const auto between = run_command(cli + " -o " + quote(dir / "between.mp4") + " --memory-limit 700M");
  ASSERT_EQ(between.exit_code, 0) << between.output;
  EXPECT_EQ(between.output.find("decoding it twice"), std::string::npos) << between.output;
  EXPECT_NE(between.output.find(one_at_a_time), std::string::npos) << between.output;
  EXPECT_EQ(read_text(dir / "between.mp4"), read_text(dir / "held.mp4"));
  // 300M: a budget of 225 MiB, which neither way fits; it decodes twice and says it may run out of memory.
  r = run_command(cli + " -o " + quote(dir / "tight.mp4") + " --memory-limit 300M");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("in.mp4: decoding it twice still needs ~3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it may run out of memory"), std::string::npos) << r.output;
  // A bad size is refused before anything starts.
  r = run_command(cli + " -o " + quote(dir / "bad.mp4") + " --memory-limit 3X");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("memory size '3X'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.mp4"));
}

// The limit a container or a Slurm job sets is found without being given: the run is started in a new
// control group limited to 500 MiB (cgroup v1's memory controller or cgroup v2, under this process's own
// group), and decodes its 720p video twice as with --memory-limit 500M. Creating a group needs the right to
// write there (root, or a delegated subtree): elsewhere the test is skipped and says why.
TEST(VideoMemory, TheControlGroupsLimitIsFoundWithoutBeingGiven) {
  namespace fs = std::filesystem;
  constexpr std::uint64_t kLimit = std::uint64_t{500} << 20;
  if (roadveil::process_memory_limit().bytes < kLimit) GTEST_SKIP() << "this process's own limit is under 500 MiB";
  const std::string self = read_text("/proc/self/cgroup");
  fs::path group;
  std::string limit_file;
  std::smatch m;
  if (std::regex_search(self, m, std::regex(R"((?:^|\n)\d+:(?:[^:\n]*,)?memory(?:,[^:\n]*)?:([^\n]*))")) &&
      fs::exists("/sys/fs/cgroup/memory"))
    group = fs::path("/sys/fs/cgroup/memory") / fs::path(m[1].str()).relative_path(), limit_file = "memory.limit_in_bytes";
  else if (std::regex_search(self, m, std::regex(R"((?:^|\n)0::([^\n]*))")) && fs::exists("/sys/fs/cgroup/cgroup.controllers"))
    group = fs::path("/sys/fs/cgroup") / fs::path(m[1].str()).relative_path(), limit_file = "memory.max";
  if (group.empty()) GTEST_SKIP() << "no cgroup memory controller found in /proc/self/cgroup:\n" << self;
  const fs::path test_group = group / ("roadveil-test-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directory(test_group, ec)) GTEST_SKIP() << "cannot create a control group in " << group << ": " << ec.message();
  struct Remove {
    fs::path path;
    ~Remove() { ::rmdir(path.c_str()); }  // empty again once the run has ended
  } remove{test_group};
  if (!fs::exists(test_group / limit_file)) GTEST_SKIP() << "no " << limit_file << " in " << test_group << " (memory not delegated)";
  {
    std::ofstream(test_group / limit_file) << kLimit;
  }
  ASSERT_EQ(read_text(test_group / limit_file), std::to_string(kLimit) + "\n");
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=1280x720:rate=25:duration=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " + quote(in));
  // The shell joins the group, then becomes the run.
  std::ofstream(dir / "run.sh") << "echo $$ > " << quote(test_group / "cgroup.procs") << " && exec " << ROADVEIL_CLI
                                << " anonymize -v " << quote(in) << " -o " << quote(dir / "out.mp4") << " --models "
                                << quote(models_dir()) << "\n";
  const auto r = run_command("sh " + quote(dir / "run.sh"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string source = "the control group's limit, " + (test_group / limit_file).string();
  EXPECT_NE(r.output.find("memory limit: 500 MB (" + source + ")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("more than three quarters of 500 MB (" + source + "): decoding it twice instead"), std::string::npos) << r.output;
}

namespace {

// Peak resident memory of a command, from /usr/bin/time (KiB), in MiB; -1 when it did not say.
double peak_mib(const std::string& command, const std::filesystem::path& dir, roadveil::testing::CommandResult* result) {
  const auto report = dir / "peak.txt";
  std::filesystem::remove(report);
  *result = run_command("/usr/bin/time -f %M -o " + quote(report) + " " + command);
  const std::string text = read_text(report);
  const auto digits = text.find_last_of("0123456789");
  if (digits == std::string::npos) return -1;
  const auto start = text.find_last_not_of("0123456789", digits);
  return std::stod(text.substr(start == std::string::npos ? 0 : start + 1, digits - start)) / 1024.0;
}

// A 24-megapixel photo of noise: its JPEG keeps every coefficient, the most a photo of its size takes.
std::filesystem::path make_noisy_photo(const std::filesystem::path& dir) {
  const auto photo = dir / "noisy.jpg";
  ffmpeg_make("-f lavfi -i color=gray:s=6000x4000,noise=alls=25:allf=t -frames:v 1 -q:v 2 " + quote(photo));
  return photo;
}

}  // namespace

// A photo's memory grows with its pixels: 528 MiB for this one (24 MP) into a JPEG. The estimate the run
// decides by, from the header alone, is above what it takes into a JPEG and into a PNG, and not far above.
TEST(PhotoMemory, TheEstimateFromTheHeaderCoversThePeak) {
  TempDir dir;
  const auto photo = make_noisy_photo(dir.path());
  const auto header = roadveil::media::read_picture_header(photo);
  ASSERT_TRUE(header.has_value());
  for (const auto& [name, kind] : {std::pair{"out.jpg", roadveil::pipeline::PhotoOutput::Jpeg},
                                  std::pair{"out.png", roadveil::pipeline::PhotoOutput::Other}}) {
    SCOPED_TRACE(name);
    roadveil::testing::CommandResult r;
    const double peak = peak_mib(kCli + " anonymize -q " + quote(photo) + " -o " + quote(dir / name) + " --models " +
                                     quote(models_dir()), dir.path(), &r);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const double estimate =
        static_cast<double>(roadveil::pipeline::estimated_photo_peak(*header, kind, std::filesystem::file_size(photo))) / (1024.0 * 1024.0);
    EXPECT_GT(peak, 400);  // the picture's memory is real: the networks alone take ~230 MiB
    EXPECT_GE(estimate, peak);
    EXPECT_LE(estimate, 1.6 * peak);
  }
}

// A photo that would take more than the memory limit is refused before it is decoded, with a message naming
// it, instead of the kernel killing the run (and a folder's later photos with it).
TEST(PhotoMemory, APhotoOverTheMemoryLimitIsRefusedByName) {
  TempDir dir;
  const auto photo = make_noisy_photo(dir.path());
  const auto r = run_cli("anonymize " + quote(photo) + " -o " + quote(dir / "out.jpg") + " --memory-limit 300M");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(photo.string() + ": a photo of 6000x4000 (24 megapixels) needs ~"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("more than the memory limit of 300 MB (--memory-limit)"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.jpg"));
  // The same photo with 9 MB of metadata before its frame header (past what the header reader reads): it is
  // measured as decoded, and refused the same (it ran, its memory unchecked).
  std::string jpeg = read_text(photo);
  std::string padding;
  for (int k = 0; k < 140; ++k) padding += std::string("\xFF\xE9\xFF\xFF", 4) + std::string(65533, 'x');
  jpeg.insert(2, padding);
  std::ofstream(dir / "padded.jpg", std::ios::binary) << jpeg;
  ASSERT_FALSE(roadveil::media::read_picture_header(dir / "padded.jpg").has_value());
  const auto padded = run_cli("anonymize " + quote(dir / "padded.jpg") + " -o " + quote(dir / "padded_out.jpg") + " --memory-limit 300M");
  EXPECT_EQ(padded.exit_code, 1) << padded.output;
  EXPECT_NE(padded.output.find("padded.jpg: a photo of 6000x4000 (24 megapixels) needs ~"), std::string::npos) << padded.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "padded_out.jpg"));
}

// A folder's photos run two at a time, each pair within the memory budget: two of these at once (~975 MiB)
// do not fit three quarters of 900 MiB, so the second waits for the first. Without a limit both run at once.
TEST(PhotoMemory, TwoPhotosRunAtOnceOnlyWhereBothFitTheLimit) {
  TempDir dir;
  const auto photo = make_noisy_photo(dir.path());
  std::filesystem::create_directories(dir / "in");
  std::filesystem::copy_file(photo, dir / "in" / "a.jpg");
  std::filesystem::copy_file(photo, dir / "in" / "b.jpg");
  roadveil::testing::CommandResult r;
  const std::string run = kCli + " anonymize -q " + quote(dir / "in") + " --models " + quote(models_dir());
  const double both = peak_mib(run + " -o " + quote(dir / "both") + "/ --memory-limit none", dir.path(), &r);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double one_by_one = peak_mib(run + " -o " + quote(dir / "limited") + "/ --memory-limit 900M", dir.path(), &r);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "limited" / "a.jpg") && std::filesystem::exists(dir / "limited" / "b.jpg"));
  EXPECT_LT(one_by_one, 900 * 0.75);
  EXPECT_GT(both - one_by_one, 200) << both << " MiB with both at once, " << one_by_one << " one by one";
}
