// End-to-end: the built CLI on real clips from ../shared/eval/videos and on clips made here with ffmpeg.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {



std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// Presentation timestamps of every video frame, in seconds as ffprobe prints them.
std::vector<std::string> video_frame_times(const std::filesystem::path& p) {
  auto times = lines(ffprobe("-select_streams v:0 -show_entries frame=best_effort_timestamp_time -of csv=p=0 " + quote(p)));
  for (auto& t : times) t = t.substr(0, t.find(','));  // side data adds empty columns
  return times;
}

// One checksum per audio packet: equal lists mean the audio was copied packet for packet.
std::vector<std::string> audio_packet_md5(const std::filesystem::path& p) {
  const auto r = run_command("ffmpeg -v error -i " + quote(p) + " -map 0:a -c copy -f framemd5 -");
  std::vector<std::string> out;
  for (const auto& l : lines(r.output))
    if (l[0] != '#') out.push_back(l.substr(l.rfind(',') + 1));
  return out;
}

std::string probe_value(const std::filesystem::path& p, const std::string& entries) {
  auto v = lines(ffprobe("-show_entries " + entries + " -of default=nw=1:nk=1 " + quote(p)));
  return v.empty() ? "" : v.front();
}

// Luma of one frame as raw bytes.
std::vector<uint8_t> luma_frame(const std::filesystem::path& p, int index, int w, int h) {
  const auto r = run_command("ffmpeg -v error -i " + quote(p) + " -vf \"select=eq(n\\," + std::to_string(index) +
                             ")\" -frames:v 1 -pix_fmt gray -f rawvideo -");
  std::vector<uint8_t> out(r.output.begin(), r.output.end());
  EXPECT_EQ(out.size(), static_cast<size_t>(w) * h);
  return out;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int w, int x1, int y1, int x2, int y2) {
  double sum = 0;
  long n = 0;
  for (int y = y1; y < y2; ++y)
    for (int x = x1; x < x2; ++x, ++n) sum += std::abs(int(a[y * w + x]) - int(b[y * w + x]));
  return n ? sum / n : 0;
}

void expect_same_timing_and_audio(const std::filesystem::path& in, const std::filesystem::path& out) {
  const auto tin = video_frame_times(in), tout = video_frame_times(out);
  ASSERT_FALSE(tin.empty());
  EXPECT_EQ(tin.size(), tout.size()) << in;
  EXPECT_EQ(tin, tout) << in;
  EXPECT_EQ(audio_packet_md5(in), audio_packet_md5(out)) << in;
}

}  // namespace

class RealClip : public ::testing::TestWithParam<std::string> {};

TEST_P(RealClip, KeepsEveryFrameTimestampAndAudioPacket) {
  TempDir dir;
  const auto in = shared_dir() / "eval/videos" / GetParam();
  const auto out = dir / ("out" + in.extension().string());
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --detections " + quote(dir / "d.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << "quiet run printed: " << r.output;
  expect_same_timing_and_audio(in, out);
  EXPECT_EQ(probe_value(in, "format=duration"), probe_value(out, "format=duration"));
  // Nothing but the output, its regions file and its audit record remain (no temporary files).
  std::set<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.is_regular_file()) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{out.filename().string(), "d.json", out.filename().string() + ".audit.json"}));
  const auto doc = nlohmann::json::parse(read_text(dir / "d.json"));
  ASSERT_EQ(doc["entries"].size(), 1u);
  EXPECT_EQ(doc["entries"][0]["status"], "ok");
}

INSTANTIATE_TEST_SUITE_P(SharedVideos, RealClip,
                         ::testing::Values("udacity_vehicle_detection_test_video.mp4", "udacity_project_video_cut_pr.mp4",
                                           "udacity_lanelines_solidWhiteRight.mp4"));

TEST(RealClipPixels, HiddenPlatesChangeAndFarPixelsDoNot) {
  TempDir dir;
  const auto in = shared_dir() / "eval/videos/udacity_vehicle_detection_test_video.mp4";
  const auto out = dir / "out.mp4";
  ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --detections " + quote(dir / "d.json")).exit_code, 0);
  const auto doc = nlohmann::json::parse(read_text(dir / "d.json"));
  const auto& frames = doc["entries"][0]["frames"];
  ASSERT_FALSE(frames.empty());
  const int w = 1280, h = 720;
  int checked = 0;
  for (const auto& f : frames) {
    const int index = f["frame"];
    if (index % 10 != 0) continue;
    const auto a = luma_frame(in, index, w, h), b = luma_frame(out, index, w, h);
    std::vector<bool> near(static_cast<size_t>(w) * h, false);
    for (const auto& r : f["regions"]) {
      const int x1 = std::max(0, int(r["box"][0].get<float>())), y1 = std::max(0, int(r["box"][1].get<float>()));
      const int x2 = std::min(w, int(r["box"][2].get<float>()) + 1), y2 = std::min(h, int(r["box"][3].get<float>()) + 1);
      // Mosaic blocks are at least 4 px: a region of fewer than 3x4 blocks can be nearly uniform already.
      // Carried (tracked) regions may lie on plain road, so only detected plates are checked.
      if (x2 - x1 >= 16 && y2 - y1 >= 12 && r["class"] == "plate" && r["source"] == "detector") {
        EXPECT_GT(mean_abs_diff(a, b, w, x1, y1, x2, y2), 2.0) << "frame " << index << " region " << r.dump();
        ++checked;
      }
      for (int y = std::max(0, y1 - 48); y < std::min(h, y2 + 48); ++y)
        for (int x = std::max(0, x1 - 48); x < std::min(w, x2 + 48); ++x) near[y * w + x] = true;
    }
    double far_diff = 0;
    long n = 0;
    for (int i = 0; i < w * h; ++i)
      if (!near[i]) {
        far_diff += std::abs(int(a[i]) - int(b[i]));
        ++n;
      }
    EXPECT_LT(far_diff / n, 1.5) << "frame " << index;  // codec noise only
  }
  EXPECT_GT(checked, 0);
}

// --low-memory (#17): the frames decoded a second time for rendering are the frames detection saw, so the
// output, its mask and its regions are the same to the byte as a run that holds them; the audio is kept.
TEST(RealClipPixels, DecodingTwiceGivesTheSameOutputAsHoldingTheFrames) {
  TempDir dir;
  const auto in = shared_dir() / "eval/videos/intel_car-detection.mp4";
  for (const std::string mode : {"held", "twice"}) {
    const auto r = run_cli("anonymize -q --mask --no-audit " + quote(in) + " -o " + quote(dir / (mode + ".mp4")) +
                           " --detections " + quote(dir / (mode + ".json")) + (mode == "twice" ? " --low-memory" : " --memory-limit none"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_EQ(read_text(dir / "held.mp4"), read_text(dir / "twice.mp4"));
  EXPECT_EQ(read_text(dir / "held.mask.mp4"), read_text(dir / "twice.mask.mp4"));
  auto frames = [&](const std::string& mode) { return nlohmann::json::parse(read_text(dir / (mode + ".json")))["entries"][0]["frames"]; };
  EXPECT_EQ(frames("held"), frames("twice"));
  EXPECT_GT(frames("twice").size(), 0u);
}

TEST(SyntheticClip, VariableFrameRateRotationMetadataAndSubtitlesSurvive) {
  TempDir dir;
  const auto in = dir / "vfr.mkv";
  const auto srt = dir / "subs.srt";
  std::ofstream(srt) << "1\n00:00:00,000 --> 00:00:01,000\nhello\n\n2\n00:00:01,000 --> 00:00:02,000\nworld\n";
  // Timestamps jump between 1/25 s and 3/25 s: a variable frame rate the output must keep exactly.
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi -i sine=frequency=440:duration=2 -i " +
              quote(srt) + " -vf \"setpts='N*2/25/TB+if(mod(N\\,2)\\,1/25/TB\\,0)'\" -fps_mode passthrough" +
              " -c:v libx264 -pix_fmt yuv420p -c:a libvorbis -c:s srt -metadata creation_time=2024-05-01T10:00:00Z" +
              " -metadata location=+52.5200+013.4050/ -metadata:s:v:0 rotate=90 -metadata:s:a:0 handler_name=Mic " + quote(in));
  const auto out = dir / "out.mkv";
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_timing_and_audio(in, out);
  const std::string tags = ffprobe("-show_entries format_tags:stream_tags:stream=codec_type,width,height -of json " + quote(out));
  EXPECT_NE(tags.find("2024-05-01T10:00:00"), std::string::npos) << tags;
  EXPECT_NE(tags.find("+52.5200+013.4050"), std::string::npos) << tags;
  EXPECT_NE(tags.find("\"subtitle\""), std::string::npos) << tags;
  EXPECT_NE(tags.find("\"width\": 320"), std::string::npos) << tags;
}

TEST(SyntheticClip, Mp4KeepsRotationAndReportsDroppedSubtitles) {
  TempDir dir;
  const auto in = dir / "in.mkv";
  const auto srt = dir / "s.srt";
  std::ofstream(srt) << "1\n00:00:00,000 --> 00:00:01,000\nhello\n";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -i " + quote(srt) + " -c:v libx264 -c:s srt " + quote(in));
  const auto out = dir / "out.mp4";
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dropped subtitle stream #1 (subrip)"), std::string::npos) << r.output;

  // A phone clip shot in portrait: the track header's matrix says "rotate 90 degrees" (patched in by hand,
  // since this ffmpeg cannot write it).
  const auto rotated = dir / "rot.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 " + quote(rotated));
  std::string bytes = read_text(rotated);
  const auto tkhd = bytes.find("tkhd");
  ASSERT_NE(tkhd, std::string::npos);
  const unsigned char matrix[36] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0};
  bytes.replace(tkhd + 4 + 40, 36, reinterpret_cast<const char*>(matrix), 36);
  std::ofstream(rotated, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_NE(ffprobe("-show_entries stream_side_data " + quote(rotated)).find("rotation=-90"), std::string::npos);
  const auto out2 = dir / "out2.mp4";
  ASSERT_EQ(run_cli("anonymize -q " + quote(rotated) + " -o " + quote(out2)).exit_code, 0);
  EXPECT_NE(ffprobe("-show_entries stream_side_data " + quote(out2)).find("rotation=-90"), std::string::npos);
}

class CodecInput : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(CodecInput, DecodesAndKeepsFrameCount) {
  TempDir dir;
  const auto& [ext, codec_args] = GetParam();
  const auto in = dir / ("in" + ext);
  ffmpeg_make("-f lavfi -i testsrc2=size=175x99:rate=10:duration=1 " + codec_args + " " + quote(in));
  const auto out = dir / ("out" + ext);
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --codec same");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(video_frame_times(in), video_frame_times(out));
  EXPECT_EQ(probe_value(out, "stream=width"), probe_value(in, "stream=width"));
  EXPECT_EQ(probe_value(out, "stream=height"), probe_value(in, "stream=height"));
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CodecInput,
    ::testing::Values(std::make_pair(std::string(".mp4"), std::string("-c:v libx264 -pix_fmt yuv420p")),
                      std::make_pair(std::string(".mov"), std::string("-c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error")),
                      std::make_pair(std::string(".avi"), std::string("-c:v mjpeg -pix_fmt yuvj420p")),
                      std::make_pair(std::string(".mkv"), std::string("-c:v libvpx-vp9 -pix_fmt yuv420p -deadline realtime")),
                      std::make_pair(std::string(".mkv"), std::string("-c:v libaom-av1 -cpu-used 8 -pix_fmt yuv420p")),
                      std::make_pair(std::string(".avi"), std::string("-c:v mpeg4")),
                      std::make_pair(std::string(".mkv"), std::string("-c:v ffv1 -pix_fmt yuv420p -vf scale=175:99"))));
