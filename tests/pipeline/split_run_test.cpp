// One long video split across workers (issue #14): parts cut at keyframes, each anonymized with a few
// seconds of context on both sides, joined with the input's other streams. The joined file must be what one
// run writes: every frame with its timestamps, every audio packet, the same hidden regions in every frame.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "pipeline/segments.hpp"
#include "json_file.hpp"
#include "test_util.hpp"

using namespace roadveil::testing;
namespace pipeline = roadveil::pipeline;

namespace {
roadveil::media::VideoTimeline timeline_of(std::int64_t frames, std::vector<std::int64_t> keyframes) {
  roadveil::media::VideoTimeline t;
  t.time_base = {1, 25};
  for (std::int64_t i = 0; i < frames; ++i) t.pts.push_back(i);
  t.keyframes = std::move(keyframes);
  return t;
}

// 20 s (or `seconds`) of a real street clip with people (10 fps, a keyframe every 4.8 s), a sine tone and a
// title tag. The tests of containers and clocks take 10 s: two parts need two keyframes, not people for 20 s.
void make_clip(const std::filesystem::path& out, int seconds = 20) {
  ffmpeg_make("-i " + quote(shared_dir() / "eval/videos/intel_one-by-one-person-detection.mp4") +
              " -f lavfi -i sine=frequency=440:sample_rate=48000 -t " + std::to_string(seconds) +
              " -map 0:v -map 1:a -c:v libx264 -preset veryfast "
              "-g 48 -c:a aac -metadata title=split-test -shortest " + quote(out));
}

std::string probe(const std::string& args) { return run_command("ffprobe -v error " + args).output; }

// Frame for frame: each frame's regions, with its timestamp.
std::map<std::int64_t, std::string> regions_by_frame(const std::filesystem::path& file) {
  const auto j = read_json(file);
  std::map<std::int64_t, std::string> out;
  for (const auto& f : j.at("entries").at(0).at("frames")) {
    nlohmann::json regions = f.at("regions");
    for (auto& r : regions) r.erase("track");  // numbered per part; what is hidden must be the same
    out[f.at("frame").get<std::int64_t>()] = f.at("pts").dump() + " " + regions.dump();
  }
  return out;
}
}  // namespace

TEST(SplitPlan, CutsFallOnTheKeyframesNearestToEqualShares) {
  const auto t = timeline_of(100, {0, 12, 24, 36, 48, 60, 72, 84, 96});
  EXPECT_EQ(pipeline::segment_cuts(t, 1, "f"), (std::vector<std::int64_t>{0, 100}));
  EXPECT_EQ(pipeline::segment_cuts(t, 2, "f"), (std::vector<std::int64_t>{0, 48, 100}));
  EXPECT_EQ(pipeline::segment_cuts(t, 4, "f"), (std::vector<std::int64_t>{0, 24, 48, 72, 100}));
  // As many parts as keyframes: every keyframe starts one.
  EXPECT_EQ(pipeline::segment_cuts(t, 9, "f").size(), 10u);
}

TEST(SplitPlan, MorePartsThanKeyframesIsRefusedSayingHowMany) {
  const auto t = timeline_of(100, {0, 50});
  try {
    pipeline::segment_cuts(t, 3, "long.mp4");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_TRUE(contains(e.what(), "long.mp4: has 100 frames and 2 keyframes: it can be split into at most 2 parts, not 3"))
        << e.what();
  }
}

TEST(SplitPlan, ContextStartsAndEndsOnTheKeyframeGridAndDecodingAtAKeyframe) {
  const auto t = timeline_of(1000, {0, 100, 200, 300, 400, 500, 600, 700, 800, 900});
  const auto cuts = pipeline::segment_cuts(t, 4, "f");
  ASSERT_EQ(cuts, (std::vector<std::int64_t>{0, 200, 500, 700, 1000}));  // 250 and 750 are halfway: the first wins
  const auto p = pipeline::plan_segment(t, cuts, 1, 24, {60, 60});
  EXPECT_EQ(p.first, 200);
  EXPECT_EQ(p.end, 500);
  EXPECT_EQ(p.process_from, 120);  // 200 - 60 = 140, down to the grid of 24
  EXPECT_EQ(p.process_to, 576);    // 499 + 60 = 559, up to the grid
  EXPECT_EQ(p.decode_from, 100);   // the keyframe before 120
  const auto first = pipeline::plan_segment(t, cuts, 0, 24, {60, 60});
  EXPECT_EQ(first.process_from, 0);
  EXPECT_EQ(first.decode_from, 0);
  const auto last = pipeline::plan_segment(t, cuts, 3, 24, {60, 60});
  EXPECT_EQ(last.process_to, 999);  // the last frame, as in one run
  EXPECT_THROW(pipeline::plan_segment(t, cuts, 4, 24, {60, 60}), std::exception);
  // More context before than after (a keyframe depends on the keyframes before it, not after).
  const auto uneven = pipeline::plan_segment(t, cuts, 1, 24, {108, 60});
  EXPECT_EQ(uneven.process_from, 72);  // 200 - 108 = 92, down to the grid
  EXPECT_EQ(uneven.process_to, 576);   // as before
  EXPECT_EQ(uneven.decode_from, 0);    // the keyframe before 72
}

TEST(SplitRun, ThreePartsJoinedAreOneRunFrameForFrame) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  make_clip(in);
  const auto single = dir / "single.mp4", joined = dir / "out" / "joined.mp4";
  const auto one_run = run_cli("anonymize --progress " + quote(in) + " -o " + quote(single) + " --detections " + quote(dir / "single.json"));
  ASSERT_EQ(one_run.exit_code, 0) << one_run.output;
  // The parts in another order than the file's, as independent workers finish.
  std::int64_t part_keyframes = 0;
  for (int part : {2, 0, 1}) {
    const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(joined) + " --segment " + std::to_string(part) + "/3");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    part_keyframes += nlohmann::json::parse(read_text(joined.string() + ".part-" + std::to_string(part) + "-of-3.json"))
                          .at("report").at("frames_keyframes").get<std::int64_t>();
  }
  // The parts count their own frames only, not their context (which the part before or after counts).
  const auto counted = one_run.output.find(" fully detected");
  ASSERT_NE(counted, std::string::npos) << one_run.output;
  const auto number = one_run.output.rfind('(', counted);
  EXPECT_EQ(part_keyframes, std::stoll(one_run.output.substr(number + 1, counted - number - 1))) << one_run.output;
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(joined) + " --join 3 --detections " + quote(dir / "joined.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Every video frame with its presentation time and duration, the same decoding timestamps (the order of
  // frames within a group of pictures is the encoder's), every audio packet, the tags.
  auto sorted_lines = [](std::string text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a.substr(a.find(',') + 1)) < std::stoll(b.substr(b.find(',') + 1));
    });
    return lines;
  };
  const std::string frames = "-select_streams v -show_entries packet=pts,duration -of csv ";
  EXPECT_EQ(sorted_lines(probe(frames + quote(single))).size(), 200u);
  EXPECT_EQ(sorted_lines(probe(frames + quote(single))), sorted_lines(probe(frames + quote(joined))));
  const std::string decoding = "-select_streams v -show_entries packet=dts -of csv ";
  EXPECT_EQ(probe(decoding + quote(single)), probe(decoding + quote(joined)));
  const std::string audio = "-select_streams a -show_entries packet=pts,dts,duration,size -of csv ";
  EXPECT_GT(probe(audio + quote(single)).size(), 1000u);
  EXPECT_EQ(probe(audio + quote(single)), probe(audio + quote(joined)));
  EXPECT_EQ(run_command("ffmpeg -v error -i " + quote(single) + " -map 0:a -c copy -f md5 -").output,
            run_command("ffmpeg -v error -i " + quote(joined) + " -map 0:a -c copy -f md5 -").output);
  EXPECT_TRUE(contains(probe("-show_entries format_tags=title " + quote(joined)), "split-test"));
  EXPECT_EQ(probe("-show_entries stream=codec_name,width,height,nb_frames:format=duration -of csv " + quote(single)),
            probe("-show_entries stream=codec_name,width,height,nb_frames:format=duration -of csv " + quote(joined)));

  // The same regions in every frame, also around the cuts (tracks come in from before a cut, and are carried
  // back across one).
  const auto a = regions_by_frame(dir / "single.json"), b = regions_by_frame(dir / "joined.json");
  EXPECT_GT(a.size(), 100u);
  std::string differences;
  int differing = 0;
  for (const auto& [frame, text] : a) {
    const auto it = b.find(frame);
    if (it != b.end() && it->second == text) continue;
    if (++differing <= 3) differences += "frame " + std::to_string(frame) + ": " + text + "\n  joined: " + (it == b.end() ? "nothing" : it->second) + "\n";
  }
  for (const auto& [frame, text] : b)
    if (!a.contains(frame) && ++differing <= 3) differences += "frame " + std::to_string(frame) + ": nothing\n  joined: " + text + "\n";
  EXPECT_EQ(differing, 0) << differences;
  // And the same objects: a track crossing a cut keeps its number (numbered anew in each part, the joined
  // file had a track for each side of every cut, and a review's edit of a track stopped at the cut).
  auto tracks = [](const std::filesystem::path& file) {
    std::set<int> ids;
    const nlohmann::json doc = nlohmann::json::parse(read_text(file));
    for (const auto& f : doc["entries"][0]["frames"])
      for (const auto& r : f["regions"])
        if (r.contains("track")) ids.insert(r["track"].get<int>());
    return ids.size();
  };
  const std::size_t single_tracks = tracks(dir / "single.json"), joined_tracks = tracks(dir / "joined.json");
  EXPECT_GT(single_tracks, 3u);
  EXPECT_LE(joined_tracks, single_tracks + 1) << single_tracks << " tracks in one run";

  // The pictures differ only by where the encoder starts its groups of pictures.
  const auto psnr = run_command("ffmpeg -v info -i " + quote(single) + " -i " + quote(joined) +
                                " -lavfi '[0:v][1:v]psnr' -f null - 2>&1 | grep -o 'average:[0-9.inf]*'").output;
  ASSERT_TRUE(contains(psnr, "average:")) << psnr;
  const std::string value = psnr.substr(psnr.find(':') + 1);
  EXPECT_TRUE(value.starts_with("inf") || std::stod(value) > 40.0) << psnr;

  // The audit record is the whole file's; the parts are gone.
  const auto record = read_json(joined.string() + ".audit.json");
  EXPECT_EQ(record.at("status"), "ok");
  EXPECT_EQ(record.at("output").at("frame_count"), 200);
  for (const auto& f : std::filesystem::directory_iterator(dir / "out"))
    EXPECT_FALSE(contains(f.path().filename().string(), ".part-")) << f.path();
}

TEST(SplitRun, MissingForeignAndFinishedPartsAreToldApart) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  make_clip(in);
  const auto out = dir / "out.mp4";
  ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --segment 0/2").exit_code, 0);
  // A part missing: the join says which and how to make it, and writes nothing.
  auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "part 1 of 2 is missing or unfinished")) << r.output;
  EXPECT_TRUE(contains(r.output, "--segment 1/2")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  // A part made with other settings is not joined.
  ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --segment 1/2 --keyframes 2").exit_code, 0);
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "part-1-of-2.json: it was made with other settings than this join's; make the part again"))
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  // A rerun of a finished task skips its part; one with other settings makes it again.
  r = run_cli("anonymize " + quote(in) + " -o " + quote(out) + " --segment 0/2");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "already made from this input with these settings: skipped")) << r.output;
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --segment 1/2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // A part's video damaged since it was made (its middle overwritten) was joined, the parts deleted and the
  // audit passing; its regions file missing left a finished output without regions. Both are refused, the
  // part named, nothing written.
  const auto part_video = dir / "out.mp4.part-1-of-2.mp4";
  const std::string intact = read_text(part_video);
  {
    std::string damaged = intact;
    for (std::size_t k = damaged.size() / 2; k < damaged.size() / 2 + 64; ++k) damaged[k] = static_cast<char>(damaged[k] ^ 0x5A);
    std::ofstream(part_video, std::ios::binary) << damaged;
  }
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "part-1-of-2.mp4 is not the file it recorded (changed or damaged since it was made); make the part again"))
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  // The documented way out, rerunning that part, makes it again (a damaged part was skipped by every rerun and
  // refused by every join: review of storage).
  r = run_cli("anonymize " + quote(in) + " -o " + quote(out) + " --segment 1/2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "already made")) << r.output;
  EXPECT_EQ(read_text(part_video), intact) << "made again as it was";
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out));
  // Sound the output cannot hold is refused by each part, before its work (the join refused it after all of it).
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(dir / "w.webm") + " --segment 0/2");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "the webm container cannot hold audio stream #1 (aac)")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "w.webm.part-0-of-2.mp4"));
  // More parts than keyframes.
  r = run_cli("anonymize -q " + quote(in) + " -o " + quote(dir / "x.mp4") + " --segment 0/50");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "it can be split into at most")) << r.output;
}

// Regressions (review of the split run): parts are MP4, which stores H.264 with length prefixes; joined into
// AVI or MPEG-TS, whose H.264 carries start codes, the video was unreadable ("no startcode found"). .ts outputs
// were MPEG-2 (and failed at 10 fps) even in one run. The join read the input's audio only from the first video
// frame on, so audio that starts before the video lost its first 16 packets.
TEST(SplitRun, JoinsIntoAviAndTsAndKeepsAudioThatStartsBeforeTheVideo) {
  TempDir dir;
  make_clip(dir / "clip.mp4", 10);
  const auto in = dir / "late.mp4";  // the video starts 0.5 s after the audio, as in some cameras' files
  ffmpeg_make("-itsoffset 0.5 -i " + quote(dir / "clip.mp4") + " -i " + quote(dir / "clip.mp4") +
              " -map 0:v -map 1:a -c copy " + quote(in));
  for (const std::string ext : {".mp4", ".ts", ".avi"}) {
    SCOPED_TRACE(ext);
    const auto single = dir / ("single" + ext), joined = dir / ("joined" + ext);
    ASSERT_EQ(run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(single)).exit_code, 0);
    for (int part : {0, 1})
      ASSERT_EQ(run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --segment " + std::to_string(part) + "/2").exit_code, 0);
    const auto r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --join 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Decodes without an error, H.264, every frame.
    EXPECT_EQ(run_command("ffmpeg -v error -i " + quote(joined) + " -f null - 2>&1").output, "");
    const std::string stream = "-count_frames -select_streams v -show_entries stream=codec_name,nb_read_frames -of csv ";
    EXPECT_EQ(probe(stream + quote(joined)), probe(stream + quote(single)));
    EXPECT_TRUE(contains(probe(stream + quote(joined)), "h264,100")) << probe(stream + quote(joined));
    // Every audio packet, the first ones before the video included.
    const std::string audio = "-select_streams a -show_entries packet=pts,dts,duration,size -of csv ";
    EXPECT_GT(probe(audio + quote(single)).size(), 1000u);
    EXPECT_EQ(probe(audio + quote(joined)), probe(audio + quote(single)));
  }
}

// An MPEG-TS input (no index: FFmpeg seeks it by timestamp from a guess and takes the first packet marked key
// after it): every part began decoding at the wrong keyframe, and every .ts was refused ("decoding from the
// keyframe at frame 0 began at frame 48 ... cannot be split"). Parts now start at their keyframe's byte
// position, and the joined file has every frame of one run, with the same regions.
// Also one whose clock wraps just after its start (review of the day's diff): its MP4 parts hid the frames before
// 0 behind an edit list, and the joined file lost its first frame and showed its video 61 ms early.
TEST(SplitRun, AnMpegTsInputSplitsAndJoinsAsOneRun) {
  for (const std::string offset : {"", " -output_ts_offset 95441.7"}) {
  SCOPED_TRACE("offset" + offset);
  TempDir dir;
  make_clip(dir / "clip.mp4", 10);
  const auto in = dir / "in.ts";
  ffmpeg_make("-i " + quote(dir / "clip.mp4") + " -c copy" + offset + " -f mpegts " + quote(in));
  const auto single = dir / "single.mp4", joined = dir / "joined.mp4";
  ASSERT_EQ(run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(single) + " --detections " + quote(dir / "single.json")).exit_code, 0);
  for (int part : {1, 0}) {
    const auto r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --segment " + std::to_string(part) + "/2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const auto r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --join 2 --detections " + quote(dir / "joined.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Every frame's presentation time (packets in presentation order: the order within a group of pictures is
  // the encoder's).
  const auto frame_times = [](const std::filesystem::path& file) {
    std::vector<std::int64_t> times;
    std::istringstream lines(probe("-select_streams v -show_entries packet=pts -of csv=p=0 " + quote(file)));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) times.push_back(std::stoll(line));
    std::sort(times.begin(), times.end());
    return times;
  };
  EXPECT_EQ(frame_times(joined).size(), 100u);
  EXPECT_EQ(frame_times(joined), frame_times(single));
  EXPECT_EQ(regions_by_frame(dir / "joined.json"), regions_by_frame(dir / "single.json"));
  const std::string shown = "-select_streams v -count_frames -show_entries stream=nb_read_frames,start_time -of csv=p=0 ";
  EXPECT_EQ(probe(shown + quote(joined)), probe(shown + quote(single)));
  }
}

// A recording cut mid-GOP (a transport stream cut at any 188-byte packet): its first packets need pictures from
// before the file's start and show nothing. One run numbers the frames from the first that decodes; the parts
// numbered them from the first packet, and every such file was refused ("decoding from the keyframe at frame 0
// began at frame 17 ... cannot be split"). The joined file now has one run's frames, times, regions and warning.
TEST(SplitRun, ARecordingCutMidGopSplitsAndJoinsAsOneRun) {
  TempDir dir;
  make_clip(dir / "clip.mp4", 15);
  const auto whole = dir / "whole.ts", in = dir / "cut.ts";
  // Re-encoded into the transport stream so that every keyframe carries its parameter sets, as a camera's do.
  ffmpeg_make("-i " + quote(dir / "clip.mp4") + " -c:v libx264 -preset veryfast -g 48 -c:a copy -f mpegts " + quote(whole));
  {
    // A sixth into the file: inside the first group of pictures (48 of the 150 frames).
    const std::string bytes = read_text(whole);
    std::ofstream(in, std::ios::binary) << bytes.substr(bytes.size() / 188 / 6 * 188);
  }
  const auto single = dir / "single.mp4", joined = dir / "joined.mp4";
  auto r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(single) + " --detections " + quote(dir / "single.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_NE(r.output.find("depend on pictures before the start"), std::string::npos) << r.output;  // cut mid-GOP indeed
  const std::string warning = r.output.substr(r.output.find("the first "), r.output.find(" depend on") - r.output.find("the first "));
  for (int part : {1, 0}) {
    r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --segment " + std::to_string(part) + "/2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(joined) + " --join 2 --detections " + quote(dir / "joined.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(warning), std::string::npos) << r.output << "\nnot as one run says: " << warning;
  const std::string count = "-select_streams v -count_frames -show_entries stream=nb_read_frames -of csv=p=0 ";
  const int frames = std::stoi(probe(count + quote(single)));
  EXPECT_GT(frames, 100);  // the 150 less those before the first keyframe that remains
  EXPECT_LT(frames, 150);
  const std::string shown = "-select_streams v -count_frames -show_entries stream=nb_read_frames,start_time -of csv=p=0 ";
  EXPECT_EQ(probe(shown + quote(joined)), probe(shown + quote(single)));
  const auto regions = regions_by_frame(dir / "single.json");
  EXPECT_FALSE(regions.empty());  // people walk through the clip
  EXPECT_EQ(regions_by_frame(dir / "joined.json"), regions);
}

// HEVC cut mid-GOP, in Matroska (review of the change above): the decoder shows pictures from the packets before
// the first keyframe (against references it makes up), which a part, starting at that keyframe, cannot
// reproduce. Counting frames from where a seek to the file's start decoded (Matroska's lands on that
// keyframe) split the file into parts 7 frames short of one run's, every region on the wrong frame. The
// first frame is now what a fresh opening shows, so such a file is refused, as before, never joined wrong.
TEST(SplitRun, AnHevcRecordingCutMidGopIsRefusedNotJoinedShort) {
  TempDir dir;
  const auto whole = dir / "whole.ts", cut = dir / "cut.ts", in = dir / "cut.mkv";
  ffmpeg_make("-f lavfi -i testsrc2=s=160x120:r=25:d=4 -c:v libx265 -x265-params keyint=25:bframes=2:log-level=error " + quote(whole));
  {
    const std::string bytes = read_text(whole);
    std::ofstream(cut, std::ios::binary) << bytes.substr(100 * 188);
  }
  ffmpeg_make("-i " + quote(cut) + " -c copy -copyinkf " + quote(in));
  const auto r = run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(dir / "joined.mkv") + " --segment 0/2");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cannot be split (anonymize it in one run)"), std::string::npos) << r.output;
  EXPECT_EQ(run_cli("anonymize -q --no-audit " + quote(in) + " -o " + quote(dir / "one.mkv")).exit_code, 0);
}

// A wrong --segment share exited 1 with a message naming --shard; it is a wrong option: exit 2, named as given.
// A variable-frame-rate clip (a phone's) could not be joined: each part's encoder extrapolated its first
// decoding times from the part's first frame durations, and they fell before the previous part's last ("its
// decoding timestamps go back at its start"). They are moved just after it; every frame keeps its
// presentation time, as in one run.
TEST(SplitRun, AVariableFrameRateClipJoins) {
  TempDir dir;
  const auto in = dir / "vfr.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=s=320x240:r=30:d=3 -f lavfi -i sine=d=3 -vf \"setpts='N/30/TB+if(gt(N,20),0.37/TB,0)+"
              "if(gt(N,50),0.113/TB,0)'\" -fps_mode passthrough -c:v libx264 -g 20 -bf 3 -c:a aac -video_track_timescale 90000 " +
              quote(in));
  for (int part : {0, 1})
    ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(dir / "joined.mp4") + " --segment " + std::to_string(part) + "/2").exit_code, 0);
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(dir / "joined.mp4") + " --join 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(dir / "one.mp4")).exit_code, 0);
  auto sorted_pts = [](const std::filesystem::path& file) {
    std::vector<long long> pts;
    std::istringstream lines(probe("-select_streams v -show_entries packet=pts -of csv=p=0 " + quote(file)));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) pts.push_back(std::stoll(line));
    std::sort(pts.begin(), pts.end());
    return pts;
  };
  EXPECT_EQ(sorted_pts(dir / "joined.mp4").size(), 90u);
  EXPECT_EQ(sorted_pts(dir / "joined.mp4"), sorted_pts(dir / "one.mp4"));
  // The last frame lasted the average frame duration in the joined file (the parts' packets come back without
  // durations, and MP4 takes the last one's from its packet): 3.471856 s instead of one run's 3.466667.
  const std::string duration = "-select_streams v -show_entries stream=duration -of csv=p=0 ";
  EXPECT_EQ(probe(duration + quote(dir / "joined.mp4")), probe(duration + quote(dir / "one.mp4")));
  EXPECT_EQ(probe(duration + quote(dir / "joined.mp4")), probe(duration + quote(in)));
  EXPECT_EQ(run_command("ffmpeg -v error -i " + quote(dir / "joined.mp4") + " -f null -").output, "");
}

// A camera's MOV at 29.97 fps (time scale 30000) with a timecode: the part writer's MP4 muxer made a timecode
// track of the input's tag, and the join refused the part ("not a part written by roadveil"); without the
// timecode the join moved every frame after a cut up to a millisecond early (the part's start was an edit
// in milliseconds: 1.2012 s came back as 1.201). And a join run again after it finished (a requeued job) failed
// saying to make the parts again, and a part run again after the join made a part nothing would join.
TEST(SplitRun, ATimecodedClipAtThirtyThousandthsJoinsAsOneRunAndIsNotMadeTwice) {
  TempDir dir;
  const auto in = dir / "cam.mov";
  ffmpeg_make("-f lavfi -i testsrc2=s=320x240:r=30000/1001:d=3 -f lavfi -i sine=d=3 -c:v libx264 -preset veryfast "
              "-g 12 -c:a aac -timecode 10:00:00:00 " + quote(in));
  const auto joined = dir / "joined.mov", single = dir / "single.mov";
  ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(single)).exit_code, 0);
  for (int part : {0, 1}) {
    const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(joined) + " --segment " + std::to_string(part) + "/2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(joined) + " --join 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Each frame's time and duration (the order of frames within a group of pictures is the encoder's, which
  // starts a group at the cut), and the decoding times.
  const auto frames = sorted_video_packet_times;
  EXPECT_EQ(frames(single).size(), 90u);
  EXPECT_EQ(frames(single), frames(joined));
  const std::string decoding = "-select_streams v -show_entries packet=dts -of csv ";
  EXPECT_EQ(probe(decoding + quote(single)), probe(decoding + quote(joined)));
  const std::string timecode = "-select_streams v -show_entries stream_tags=timecode -of csv=p=0 ";
  EXPECT_EQ(probe(timecode + quote(joined)), "10:00:00:00\n");
  EXPECT_EQ(probe("-show_entries stream=codec_tag_string -select_streams d -of csv=p=0 " + quote(joined)), "tmcd\n");

  const auto join_again = run_cli("anonymize " + quote(in) + " -o " + quote(joined) + " --join 2");
  EXPECT_EQ(join_again.exit_code, 0) << join_again.output;
  EXPECT_TRUE(contains(join_again.output, "already made from this input with these settings: skipped")) << join_again.output;
  const auto part_again = run_cli("anonymize " + quote(in) + " -o " + quote(joined) + " --segment 1/2");
  EXPECT_EQ(part_again.exit_code, 0) << part_again.output;
  EXPECT_TRUE(contains(part_again.output, "its part skipped")) << part_again.output;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    EXPECT_FALSE(contains(f.path().filename().string(), ".part-")) << f.path();
}

// An input whose size and first and last MiB stay but whose middle changed after its parts were made (another
// take of the same length, a file repaired in place) was joined: the part records identified the input by those
// alone. They hold the SHA-256 of its video packets now, which every part and the join read anyway.
TEST(SplitRun, AnInputChangedInItsMiddleIsNotJoined) {
  TempDir dir;
  const auto in = dir / "in.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=s=320x240:r=25:d=3 -vf noise=alls=30:allf=t -c:v libx264 -qp 0 -g 25 " + quote(in));
  std::string bytes = read_text(in);
  ASSERT_GT(bytes.size(), std::size_t{3} << 20) << "the middle must lie outside the first and last MiB";
  const auto out = dir / "out.mp4";
  for (int part : {0, 1})
    ASSERT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --segment " + std::to_string(part) + "/2").exit_code, 0);
  // One byte of a frame in the middle of the file (its mdat; the index is at the end or the start).
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  std::ofstream(in, std::ios::binary) << bytes;
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "part-0-of-2.json: it was made from another input than")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  // Rerun, the parts are made again from the input as it is now (they were skipped: same size, first and last MiB).
  for (int part : {0, 1}) {
    const auto again = run_cli("anonymize " + quote(in) + " -o " + quote(out) + " --segment " + std::to_string(part) + "/2");
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_FALSE(contains(again.output, "already made")) << again.output;
  }
  EXPECT_EQ(run_cli("anonymize -q " + quote(in) + " -o " + quote(out) + " --join 2").exit_code, 0);
}

TEST(SplitRun, AWrongShareIsAWrongOptionNamedAsGiven) {
  TempDir dir;
  for (const auto& [share, words] : {std::pair<std::string, std::string>{"3/3", "--segment: task 3 of 3 does not exist"},
                                     {"x", "--segment: 'x' is not I/N"}}) {
    const auto r = run_cli("anonymize " + quote(dir / "none.mp4") + " -o " + quote(dir / "out.mp4") + " --segment " + share);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(words), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("--shard"), std::string::npos) << r.output;
  }
  const auto r = run_cli("anonymize " + quote(dir / "none.mp4") + " -o " + quote(dir / "out") + " --shard 2/2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--shard: task 2 of 2 does not exist"), std::string::npos) << r.output;
}
