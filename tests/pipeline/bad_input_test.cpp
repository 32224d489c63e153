// Each bad input ends with one clear message naming the file, a non-zero exit, and no output under the
// final name.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {
void expect_clear_failure(const CommandResult& r, const std::string& must_mention) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(must_mention), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
}
}  // namespace

TEST(BadInput, MissingFile) {
  TempDir dir;
  const auto r = run_cli("anonymize " + quote(dir / "nope.mp4") + " -o " + quote(dir / "out.mp4"));
  expect_clear_failure(r, "nope.mp4: no such file");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.mp4"));
}

TEST(BadInput, FolderWithoutMedia) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  std::ofstream(dir / "in" / "notes.txt") << "hello";
  expect_clear_failure(run_cli("anonymize " + quote(dir / "in") + " -o " + quote(dir / "out")), "contains no image or video");
}

TEST(BadInput, CorruptFile) {
  TempDir dir;
  std::ofstream(dir / "bad.mp4") << std::string(5000, 'x');
  const auto r = run_cli("anonymize " + quote(dir / "bad.mp4") + " -o " + quote(dir / "out.mp4"));
  expect_clear_failure(r, "bad.mp4");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.mp4"));
}

// Regression (review of photos): an AVIF photo written as .jpg failed with "the image2 container cannot hold
// h264", an animated WebP was "corrupt", and a GIF in a folder was left out ("no photo or video by extension")
// while the same GIF given alone was anonymized.
TEST(BadInput, PhotoFormatsNotReadAreSaidAndAGifInAFolderIsTaken) {
  TempDir dir;
  std::ofstream(dir / "photo.heic") << std::string(100, 'x');
  expect_clear_failure(run_cli("anonymize " + quote(dir / "photo.heic") + " -o " + quote(dir / "out.jpg")),
                       "photo.heic: HEIC, HEIF and AVIF photos are not read: convert them to JPEG or PNG first");
  ffmpeg_make("-f lavfi -i testsrc2=s=160x120:r=5:d=1 -c:v libwebp_anim -loop 0 " + quote(dir / "anim.webp"));
  expect_clear_failure(run_cli("anonymize " + quote(dir / "anim.webp") + " -o " + quote(dir / "out.webp")),
                       "anim.webp: an animated WebP, which FFmpeg 5.1 cannot decode");
  std::filesystem::create_directories(dir / "in");
  ffmpeg_make("-f lavfi -i testsrc2=s=160x120:r=5:d=1 " + quote(dir / "in" / "clip.gif"));
  const auto r = run_cli("anonymize -q " + quote(dir / "in") + " -o " + quote(dir / "out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "clip.gif")) << r.output;
}

TEST(BadInput, EmptyFile) {
  TempDir dir;
  std::ofstream(dir / "empty.mp4");
  expect_clear_failure(run_cli("anonymize " + quote(dir / "empty.mp4") + " -o " + quote(dir / "out.mp4")), "empty.mp4: file is empty");
}

TEST(BadInput, TruncatedVideoRendersWhatDecodesAndReportsDamage) {
  TempDir dir;
  const auto full = dir / "full.mp4";
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -movflags +faststart " + quote(full));
  const auto size = std::filesystem::file_size(full);
  std::filesystem::copy_file(full, dir / "cut.mp4");
  std::filesystem::resize_file(dir / "cut.mp4", size / 2);
  const auto r = run_cli("anonymize " + quote(dir / "cut.mp4") + " -o " + quote(dir / "out.mp4"));
  EXPECT_EQ(r.exit_code, 3) << r.output;  // rendered what decoded: a partial result (issue #16 item 11: was 1)
  EXPECT_NE(r.output.find("cut.mp4: input is damaged"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of 100 video frames"), std::string::npos) << r.output;
  ASSERT_TRUE(std::filesystem::exists(dir / "out.mp4"));
  const int frames = std::stoi(ffprobe("-count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 " + quote(dir / "out.mp4")));
  EXPECT_GT(frames, 10);
  EXPECT_LT(frames, 100);
}

TEST(BadInput, NoVideoStream) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i sine=duration=1 " + quote(dir / "audio.mp4"));
  expect_clear_failure(run_cli("anonymize " + quote(dir / "audio.mp4") + " -o " + quote(dir / "out.mp4")), "no video stream");
}

TEST(BadInput, ZeroFrameVideo) {
  TempDir dir;
  // A video stream whose only packet is garbage: the stream exists, no frame decodes.
  ffmpeg_make("-f lavfi -i testsrc2=size=64x64:rate=1:duration=1 -c:v mjpeg " + quote(dir / "one.avi"));
  auto bytes = read_text(dir / "one.avi");
  const auto pos = bytes.find("\xFF\xD8");
  ASSERT_NE(pos, std::string::npos);
  for (size_t i = pos; i < bytes.size() && i < pos + 2000; ++i) bytes[i] = 0;
  std::ofstream(dir / "zero.avi", std::ios::binary) << bytes;
  const auto r = run_cli("anonymize " + quote(dir / "zero.avi") + " -o " + quote(dir / "out.avi"));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("zero.avi"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.avi"));
}

TEST(BadInput, UnwritableOutputFolder) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=64x64:rate=5:duration=1 -c:v libx264 " + quote(dir / "in.mp4"));
  // A path below a regular file cannot be created, even by root.
  std::ofstream(dir / "file");
  const auto r = run_cli("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "file" / "out.mp4"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("file"), std::string::npos) << r.output;
}

TEST(BadInput, OutputEqualToInput) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=64x64:rate=5:duration=1 -c:v libx264 " + quote(dir / "in.mp4"));
  const auto before = std::filesystem::file_size(dir / "in.mp4");
  expect_clear_failure(run_cli("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "in.mp4")), "output is the input");
  EXPECT_EQ(std::filesystem::file_size(dir / "in.mp4"), before);
}

TEST(BadInput, UnknownOption) {
  const auto r = run_command(kCli + " anonymize --frobnicate x -o y");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("frobnicate"), std::string::npos) << r.output;
  // Without an input as well, the unknown option is still what is reported (CLI11 checks required arguments
  // first: this said only "inputs is required"), in the order typed; without one, the missing input is.
  for (const std::string command : {"anonymize --frobnicate", "anonymize --frobnicate --twiddle", "render --frobnicate -o y"}) {
    SCOPED_TRACE(command);
    const auto u = run_command(kCli + " " + command);
    EXPECT_EQ(u.exit_code, 2);
    EXPECT_NE(u.output.find(command.find("twiddle") != std::string::npos
                                ? "The following arguments were not expected: --frobnicate --twiddle"
                                : "The following argument was not expected: --frobnicate"),
              std::string::npos) << u.output;
    EXPECT_EQ(u.output.find("is required"), std::string::npos) << u.output;
  }
  const auto none = run_command(kCli + " anonymize");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("inputs is required"), std::string::npos) << none.output;
}

TEST(BadInput, MissingModelsFolder) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=64x64:rate=5:duration=1 -c:v libx264 " + quote(dir / "in.mp4"));
  const auto r = run_command(kCli + " anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "o.mp4") + " --models /nonexistent");
  expect_clear_failure(r, "/nonexistent");
}

TEST(BadInput, FolderRunContinuesPastABadFileAndSaysSomeFailed) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in" / "sub");
  ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(dir / "in" / "sub" / "a.mp4"));
  std::filesystem::copy_file(shared_dir() / "eval/plates-dashcam-ro/images/dayride_type1_001.mp4#t=1055.jpg", dir / "in" / "b.jpg");
  std::ofstream(dir / "in" / "c.jpg") << "not a jpeg";
  const auto r = run_cli("anonymize " + quote(dir / "in") + " -o " + quote(dir / "out"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("c.jpg"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "sub" / "a.mp4"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "b.jpg"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "c.jpg"));
}

// Issue #16 item 5: a regions file with one entry was applied to every file of a folder run.
TEST(BadInput, RenderFolderDoesNotReuseTheOnlyEntryForOtherFiles) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(dir / "in" / "a.mp4"));
  ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(dir / "in" / "b.mp4"));
  std::ofstream(dir / "r.json") << R"({"format": "roadveil-regions", "version": 1, "entries": [
    {"input": "a.mp4", "output": "x.mp4", "type": "video", "width": 64, "height": 48, "time_base": [1, 5],
     "frame_rate": 5, "status": "ok", "frames": [{"frame": 0, "pts": 0, "regions": [{"class": "plate", "box": [0, 0, 32, 24]}]}]}]})";
  const auto r = run_command(kCli + " render --regions " + quote(dir / "r.json") + " " + quote(dir / "in") + " -o " + quote(dir / "out"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("b.mp4: the regions file has no entry for this input"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "a.mp4"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "b.mp4"));
  // A single input may still take the only entry (a renamed file).
  std::filesystem::copy_file(dir / "in" / "b.mp4", dir / "renamed.mp4");
  EXPECT_EQ(run_command(kCli + " render --regions " + quote(dir / "r.json") + " " + quote(dir / "renamed.mp4") + " -o " +
                        quote(dir / "one.mp4")).exit_code, 0);
}

// A video of another scene with the same size, frame count and bytes (a Y4M or raw video; a camera's next
// chunk of the same length) rendered under the first's regions, exit 0, its own faces visible: the entry's
// audit record gives the SHA-256 of the input the run read.
TEST(BadInput, RenderRefusesAnotherVideoOfTheSameSize) {
  TempDir dir;
  ffmpeg_make("-loop 1 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") +
              " -t 0.5 -r 10 -vf scale=256:184,format=yuv420p " + quote(dir / "a.y4m"));
  ffmpeg_make("-i " + quote(dir / "a.y4m") + " -vf vflip " + quote(dir / "b.y4m"));
  ASSERT_EQ(std::filesystem::file_size(dir / "a.y4m"), std::filesystem::file_size(dir / "b.y4m"));
  ASSERT_EQ(run_cli("anonymize -q " + quote(dir / "a.y4m") + " -o " + quote(dir / "a.mp4") + " --detections " + quote(dir / "r.json")).exit_code, 0);
  auto r = run_command(kCli + " render -q --regions " + quote(dir / "r.json") + " " + quote(dir / "b.y4m") + " -o " + quote(dir / "b.mp4"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("b.y4m: is not the file its regions entry (" + (dir / "a.y4m").string() + ") was made from (the same size, other bytes"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "b.mp4"));
  r = run_command(kCli + " render -q --regions " + quote(dir / "r.json") + " " + quote(dir / "a.y4m") + " -o " + quote(dir / "again.mp4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// render took the first entry of the same file name (a folder run's in/a/x.jpg for in2/b/x.jpg: another
// picture's boxes, its own faces shown), and drew a 1280x720 video's regions on a 768x432 one, exit 0, the
// audit passing. The entry is the one whose path ends with the most of the input's (b/x.jpg); two that match
// as far are named; regions of another size are refused; regions past the last frame are said.
TEST(BadInput, RenderTakesTheEntryOfTheSameFileAndRefusesAnotherFilesRegions) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in/a");
  std::filesystem::create_directories(dir / "in/b");
  const auto images = shared_dir() / "eval/dashcam-berlin-dev/images";
  std::filesystem::copy_file(images / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg", dir / "in/a/x.jpg");
  std::filesystem::copy_file(images / "196eb840-75e8-4e0d-9de2-adcb93cb8bd1.jpg", dir / "in/b/x.jpg");
  ASSERT_EQ(run_cli("anonymize -q " + quote(dir / "in") + " -o " + quote(dir / "out") + " --detections " + quote(dir / "r.json")).exit_code, 0);
  std::filesystem::copy(dir / "in", dir / "in2", std::filesystem::copy_options::recursive);
  auto r = run_command(kCli + " render -q --regions " + quote(dir / "r.json") + " " + quote(dir / "in2") + " -o " + quote(dir / "again"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"a/x.jpg", "b/x.jpg"}) EXPECT_EQ(read_text(dir / "again" / f), read_text(dir / "out" / f)) << f;
  // Another picture of the same size under the same name (in3/b/x.jpg: only in/b/x.jpg's entry ends as far)
  // took that entry's boxes, its own faces left visible; the entry's audit record says how large its input was.
  std::filesystem::create_directories(dir / "in3/b");
  std::filesystem::copy(dir / "in/a", dir / "in3/a");
  std::filesystem::copy_file(images / "1df7b59b-66e1-4ba0-99fe-1c7ade76f85b.jpg", dir / "in3/b/x.jpg");
  r = run_command(kCli + " render -q --regions " + quote(dir / "r.json") + " " + quote(dir / "in3") + " -o " + quote(dir / "third"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("x.jpg: is " + std::to_string(std::filesystem::file_size(dir / "in3/b/x.jpg")) +
                          " bytes but its regions entry (" + (dir / "in/b/x.jpg").string() + ") was made from a file of " +
                          std::to_string(std::filesystem::file_size(dir / "in/b/x.jpg")) + " bytes: the regions of another file"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "third/b/x.jpg"));
  EXPECT_EQ(read_text(dir / "third/a/x.jpg"), read_text(dir / "out/a/x.jpg"));  // the same file still is
  std::filesystem::copy_file(dir / "in/b/x.jpg", dir / "x.jpg");
  r = run_command(kCli + " render -q --regions " + quote(dir / "r.json") + " " + quote(dir / "x.jpg") + " -o " + quote(dir / "x_out.jpg"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("x.jpg: the regions file has 2 entries of that name"), std::string::npos) << r.output;

  ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(dir / "small.mp4"));
  // Renders small.mp4 (64x48, 5 frames) with one plate region on `frame` of an entry of this size and fields.
  auto render_entry = [&](const std::string& name, const std::string& size, const std::string& more, int frame) {
    std::ofstream(dir / (name + ".json")) << R"({"format": "roadveil-regions", "version": 1, "entries": [
    {"input": "small.mp4", "output": "x.mp4", "type": "video", )" << size << R"(, "time_base": [1, 5], "frame_rate": 5, )" << more
                                          << R"("status": "ok", "frames": [{"frame": )" << frame << ", \"pts\": " << frame
                                          << R"(, "regions": [{"class": "plate", "box": [0, 0, 32, 24]}]}]}]})";
    return run_command(kCli + " render --regions " + quote(dir / (name + ".json")) + " " + quote(dir / "small.mp4") + " -o " +
                       quote(dir / (name + ".mp4")));
  };
  r = render_entry("big", R"("width": 128, "height": 96)", "", 0);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("small.mp4: is 64x48 but its regions entry (small.mp4) describes 128x96"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "big.mp4"));
  // Another video of the same size: the frame count tells it apart.
  r = render_entry("other", R"("width": 64, "height": 48)", R"("frame_count": 40, )", 0);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("small.mp4: has 5 frames but its regions entry (small.mp4) describes 40"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "other.mp4"));
  r = render_entry("late", R"("width": 64, "height": 48)", "", 5);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 region(s) of the regions file are on frames from 5 on, which the video does not have"), std::string::npos)
      << r.output;
}

// #16 item 9: an MP4 cut without re-encoding keeps the samples before the cut (B-frames need them) behind an
// edit list. They are not frames of the clip: the run is not "damaged", and every shown frame is kept.
TEST(BadInput, AnEditListClipIsNotReportedDamaged) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25 -t 4 -c:v libx264 -bf 2 -g 25 " + quote(dir / "long.mp4"));
  ffmpeg_make("-ss 1.3 -i " + quote(dir / "long.mp4") + " -c copy " + quote(dir / "cut.mp4"));
  const auto count = [&](const std::filesystem::path& p) {
    return std::stoi(ffprobe("-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 " + quote(p)));
  };
  const auto r = run_cli("anonymize -q --no-audit " + quote(dir / "cut.mp4") + " -o " + quote(dir / "out.mp4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;
  EXPECT_EQ(count(dir / "out.mp4"), count(dir / "cut.mp4"));
  // The progress bar counts towards the frames shown, not the samples: it said "1/75 frames" for the 67 of
  // this clip and ended at 89%. On a terminal, where the bar is drawn.
  const auto bar = run_cli_on_terminal("anonymize --no-audit " + quote(dir / "cut.mp4") + " -o " + quote(dir / "bar.mp4"));
  ASSERT_EQ(bar.exit_code, 0) << bar.output;
  const std::string shown = std::to_string(count(dir / "cut.mp4"));
  EXPECT_GE(count_of(bar.output, " fps ETA "), 1) << bar.output;  // each line the bar drew
  EXPECT_EQ(count_of(bar.output, "/" + shown + " "), count_of(bar.output, " fps ETA ")) << bar.output;
}

// A file whose clock starts late (cut from a longer recording, remuxed keeping its timestamps) declares its
// duration as an end time on that clock: it was measured against where its data ends counted from its start,
// and "the data ends at 2.0 s of the 7.0 s the file declares (truncated file?)", exit 3. Cut short, such a file
// is still reported.
TEST(BadInput, AFileStartingLateIsNotReportedDamagedAndACutOneIs) {
  TempDir dir;
  for (const char* container : {"mp4", "mkv"}) {
    const std::string name = std::string("late.") + container;
    ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 2 -c:v libx264 -preset ultrafast -c:a aac "
                "-output_ts_offset 5 " + quote(dir / name));
    const auto r = run_cli("anonymize -q --no-audit --no-faces --no-plates " + quote(dir / name) + " -o " +
                           quote(dir / ("out_" + name)));
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_TRUE(r.output.empty()) << name << ": " << r.output;
  }
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 8 -c:v libx264 -preset ultrafast -c:a aac "
              "-output_ts_offset 5 " + quote(dir / "late_long.mkv"));
  std::filesystem::copy_file(dir / "late_long.mkv", dir / "late_cut.mkv");
  std::filesystem::resize_file(dir / "late_cut.mkv", std::filesystem::file_size(dir / "late_long.mkv") * 5 / 10);
  const auto cut = run_cli("anonymize -q --no-audit --no-faces --no-plates " + quote(dir / "late_cut.mkv") + " -o " +
                           quote(dir / "out_cut.mkv"));
  EXPECT_EQ(cut.exit_code, 3) << cut.output;
  EXPECT_NE(cut.output.find("late_cut.mkv: input is damaged"), std::string::npos) << cut.output;
}

// An AVI whose constant rate repeats a frame holds a zero-size chunk there (FFmpeg's own muxer writes it), which
// the header counts and no decoder sees: a valid file was reported "decoded 48 of 49 video frames (truncated
// file?)", exit 3. An AVI cut short still is.
TEST(BadInput, AnAviThatRepeatsAFrameIsNotReportedDamagedAndACutOneIs) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=24:duration=2 -f lavfi -i sine=d=2 -vf \"select='not(eq(n\\,1))'\" "
              "-fps_mode cfr -r 24 -c:v mpeg4 -c:a mp3 " + quote(dir / "repeat.avi"));
  ASSERT_EQ(ffprobe("-select_streams v -count_packets -show_entries stream=nb_frames,nb_read_packets -of csv=p=0 " +
                    quote(dir / "repeat.avi")), "49,48\n");
  const auto r = run_cli("anonymize -q --no-audit " + quote(dir / "repeat.avi") + " -o " + quote(dir / "out.avi"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;

  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=24:duration=4 -c:v mpeg4 " + quote(dir / "whole.avi"));
  const std::string whole = read_text(dir / "whole.avi");
  std::ofstream(dir / "cut.avi", std::ios::binary) << whole.substr(0, whole.size() * 6 / 10);
  const auto cut = run_cli("anonymize " + quote(dir / "cut.avi") + " -o " + quote(dir / "cut_out.avi"));
  EXPECT_EQ(cut.exit_code, 3) << cut.output;
  EXPECT_NE(cut.output.find("of 96 video frames (truncated file?)"), std::string::npos) << cut.output;
}

// #16 item 10 (photos): a JPEG cut off before its end-of-image marker decodes (grey below the cut) without a
// word from the decoder; it is rendered and reported damaged (exit 3), the regions entry says so.
TEST(BadInput, ATruncatedJpegIsReportedDamaged) {
  TempDir dir;
  const std::string full = read_text(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg");
  std::ofstream(dir / "cut.jpg", std::ios::binary) << full.substr(0, full.size() * 6 / 10);
  const auto r = run_cli("anonymize -q --no-audit " + quote(dir / "cut.jpg") + " -o " + quote(dir / "out.jpg") +
                         " --detections " + quote(dir / "d.json"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cut.jpg: input is damaged (the JPEG ends before its end-of-image marker"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out.jpg"));
  EXPECT_NE(read_text(dir / "d.json").find("\"status\": \"damaged: the JPEG ends"), std::string::npos);
  // The whole file is not damaged.
  const auto ok = run_cli("anonymize -q --no-audit " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") + " -o " +
                          quote(dir / "ok.jpg"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

// Issue #16 item 12: two recordings of different sizes joined (`cat a.ts b.ts`). Larger frames were cropped
// to the first size in silence, smaller ones failed with "Generic error in an external library". Both
// directions are now one message naming the file, the sizes and the frame, and no output.
TEST(BadInput, ResolutionChangeMidStreamIsRefusedNamingTheSizes) {
  TempDir dir;
  for (const char* size : {"320x180", "640x360"})
    ffmpeg_make(std::string("-f lavfi -i testsrc2=size=") + size + ":rate=10:duration=1 -c:v libx264 -preset ultrafast " +
                quote(dir / (std::string(size) + ".ts")));
  const std::string small = read_text(dir / "320x180.ts"), large = read_text(dir / "640x360.ts");
  std::ofstream(dir / "up.ts", std::ios::binary) << small << large;
  std::ofstream(dir / "down.ts", std::ios::binary) << large << small;
  for (const char* name : {"up", "down"}) {
    const auto r = run_cli("anonymize " + quote(dir / (std::string(name) + ".ts")) + " -o " + quote(dir / (std::string(name) + ".out.mp4")));
    expect_clear_failure(r, std::string(name) + ".ts: the video changes from ");
    EXPECT_NE(r.output.find(std::string(name) == "up" ? "320x180 yuv420p to 640x360" : "640x360 yuv420p to 320x180"),
              std::string::npos) << r.output;
    EXPECT_NE(r.output.find("at frame 10"), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / (std::string(name) + ".out.mp4")));
  }
}

// Issue #16 item 10: a Matroska file cut in half gave 50 of 80 frames with exit 0 (MKV has no frame count to
// compare with). Its segment header declares the duration; the data ending seconds before it is damage.
// Whole files, also one whose audio outlasts its video, stay exit 0.
TEST(BadInput, TruncatedMatroskaIsReportedByTheDurationItDeclares) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=8 -f lavfi -i sine=duration=8 -c:v libx264 "
              "-preset ultrafast -c:a aac " + quote(dir / "full.mkv"));
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=3 -f lavfi -i sine=duration=6 -c:v libx264 "
              "-preset ultrafast -c:a aac " + quote(dir / "long_audio.mkv"));
  std::filesystem::copy_file(dir / "full.mkv", dir / "cut.mkv");
  std::filesystem::resize_file(dir / "cut.mkv", std::filesystem::file_size(dir / "full.mkv") * 6 / 10);
  const auto r = run_cli("anonymize " + quote(dir / "cut.mkv") + " -o " + quote(dir / "out.mkv"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cut.mkv: input is damaged"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of the 8.0 s the file declares"), std::string::npos) << r.output;
  // A subtitle cue stored at its start with its whole duration (0.5 to 7.9 s) does not make the data reach
  // 7.9 s: it was taken as the end of the data and the cut file as whole (exit 0).
  {
    std::ofstream srt(dir / "cue.srt");
    srt << "1\n00:00:00,500 --> 00:00:07,900\nHello\n\n";
  }
  ffmpeg_make("-i " + quote(dir / "full.mkv") + " -i " + quote(dir / "cue.srt") + " -map 0 -map 1 -c copy -c:s srt " +
              quote(dir / "subtitled.mkv"));
  std::filesystem::copy_file(dir / "subtitled.mkv", dir / "cut_subtitled.mkv");
  std::filesystem::resize_file(dir / "cut_subtitled.mkv", std::filesystem::file_size(dir / "subtitled.mkv") * 6 / 10);
  const auto sub = run_cli("anonymize " + quote(dir / "cut_subtitled.mkv") + " -o " + quote(dir / "out_subtitled.mkv"));
  EXPECT_EQ(sub.exit_code, 3) << sub.output;
  EXPECT_NE(sub.output.find("cut_subtitled.mkv: input is damaged"), std::string::npos) << sub.output;
  // A whole file whose last cue ends after its pictures (7.5 to 9.5 s of an 8 s clip: the segment declares
  // 9.5 s) is whole: its tracks' own durations count, not the cue's.
  {
    std::ofstream srt(dir / "late_cue.srt");
    srt << "1\n00:00:07,500 --> 00:00:09,500\nBye\n\n";
  }
  ffmpeg_make("-i " + quote(dir / "full.mkv") + " -i " + quote(dir / "late_cue.srt") + " -map 0 -map 1 -c copy -c:s srt " +
              quote(dir / "late_cue.mkv"));
  for (const char* whole : {"full", "long_audio", "subtitled", "late_cue"}) {
    const auto ok = run_cli("anonymize " + quote(dir / (std::string(whole) + ".mkv")) + " -o " +
                            quote(dir / (std::string(whole) + ".out.mkv")));
    EXPECT_EQ(ok.exit_code, 0) << whole << ": " << ok.output;
  }
}

// Issue #16 item 18: .webm, .gif and .mpg outputs failed with "cannot write the container header (Invalid
// argument)". A container that cannot hold H.264 gets its own codec (WebM: VP9 here; GIF: GIF, and .mpg keeps
// H.264, in OutputFidelity.GifAndMpegPsOutputs).
TEST(BadInput, OutputContainersGetAFittingCodecOrSaySo) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=10:duration=1 -c:v libx264 " + quote(dir / "in.mp4"));
  const auto webm = run_cli("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "out.webm"));
  EXPECT_EQ(webm.exit_code, 0) << webm.output;
  EXPECT_EQ(ffprobe("-select_streams v -show_entries stream=codec_name -of csv=p=0 " + quote(dir / "out.webm")), "vp9\n");
}

// A video under a photo's name became a one-frame JPEG, its other frames and its sound gone, with exit 0.
TEST(BadInput, AVideoUnderAPhotosNameIsRefused) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=10:duration=1 -f lavfi -i sine=duration=1 -c:v libx264 -c:a aac "
              "-f mp4 " + quote(dir / "clip.jpg"));
  expect_clear_failure(run_cli("anonymize " + quote(dir / "clip.jpg") + " -o " + quote(dir / "out.jpg")),
                       "clip.jpg: a video (mov,mp4,m4a,3gp,3g2,mj2, more than one frame) under a photo's name");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.jpg"));
}

// Issue #16 item 18: a FIFO given as input was reported as "no such file or folder".
TEST(BadInput, FifoIsNamedAsSuch) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "pipe.mp4").c_str(), 0600), 0);
  expect_clear_failure(run_cli("anonymize " + quote(dir / "pipe.mp4") + " -o " + quote(dir / "out.mp4")),
                       "pipe.mp4: a FIFO (named pipe)");
  expect_clear_failure(run_cli("verify " + quote(dir / "pipe.mp4")), "pipe.mp4: a FIFO (named pipe)");
  ASSERT_EQ(::mkfifo((dir / "pipe.jpg").c_str(), 0600), 0);
  const auto e = run_cli("eval --ground-truth " + quote(shared_dir() / "eval/dashcam-berlin-dev/annotations") + " " +
                         quote(dir / "pipe.jpg"));
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.output.find("pipe.jpg: a FIFO (named pipe)"), std::string::npos) << e.output;
}

// Issue #16 item 18: `eval` stopped at the first unreadable image and reported nothing. It now measures the
// others, names the one it could not read, lists it in the JSON, and exits 3 (a partial report).
TEST(BadInput, EvalMeasuresTheReadableImagesAndNamesTheOthers) {
  TempDir dir;
  const auto set = shared_dir() / "eval" / "dashcam-berlin-dev";
  std::filesystem::create_directories(dir / "annotations");
  std::filesystem::create_directories(dir / "images");
  for (const char* id : {"1325ef8d-ce4b-46a9-9a90-67d90245fb1c", "196eb840-75e8-4e0d-9de2-adcb93cb8bd1"})
    std::filesystem::copy_file(set / "annotations" / (std::string(id) + ".xml"), dir / "annotations" / (std::string(id) + ".xml"));
  std::filesystem::copy_file(set / "images" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg",
                             dir / "images" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg");
  std::ofstream(dir / "images" / "196eb840-75e8-4e0d-9de2-adcb93cb8bd1.jpg") << "not a picture";
  const auto r = run_cli("eval --ground-truth " + quote(dir / "annotations") + " " + quote(dir / "images") + " --json " +
                         quote(dir / "report.json"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("196eb840-75e8-4e0d-9de2-adcb93cb8bd1.jpg"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 annotated images could not be read"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "report.json"));
  EXPECT_EQ(j["images"], 1) << j.dump();
  ASSERT_EQ(j["unreadable_images"].size(), 1u);
}

// Issue #16 item 10: bit flips in MJPEG video and in a JPEG photo gave exit 0. FFmpeg's MJPEG decoder
// conceals damaged scan data and returns the picture with no error or flag; its log is the only sign, and
// roadveil now counts it: both are reported as damaged (exit 3), the undamaged files stay exit 0.
TEST(BadInput, BitFlipsInJpegScanDataAreReported) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=2 -c:v mjpeg -q:v 3 " + quote(dir / "clean.avi"));
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240 -frames:v 1 " + quote(dir / "clean.jpg"));
  for (const char* name : {"clean.avi", "clean.jpg"}) {
    std::string bytes = read_text(dir / name);
    // Five bytes of each picture's entropy-coded data, after its start-of-scan marker. (A flip that still
    // decodes to valid codes cannot be seen: JPEG has no checksum. These break the coding, as most do.)
    int flipped = 0;
    for (std::size_t sos = bytes.find("\xFF\xDA"); sos != std::string::npos; sos = bytes.find("\xFF\xDA", sos + 2), ++flipped)
      for (const std::size_t at : {sos + 100, sos + 137, sos + 174, sos + 211, sos + 248})
        if (at < bytes.size()) bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
    ASSERT_GT(flipped, 0) << name;
    std::ofstream(dir / (std::string("flipped_") + name), std::ios::binary) << bytes;
  }
  for (const char* name : {"clean.avi", "clean.jpg"}) {
    const auto ok = run_cli("anonymize " + quote(dir / name) + " -o " + quote(dir / (std::string("out_") + name)));
    EXPECT_EQ(ok.exit_code, 0) << name << ": " << ok.output;
  }
  const auto video = run_cli("anonymize " + quote(dir / "flipped_clean.avi") + " -o " + quote(dir / "out_flipped.avi"));
  EXPECT_EQ(video.exit_code, 3) << video.output;
  EXPECT_NE(video.output.find("flipped_clean.avi: input is damaged"), std::string::npos) << video.output;
  EXPECT_NE(video.output.find("damaged video packets or frames"), std::string::npos) << video.output;
  const auto photo = run_cli("anonymize " + quote(dir / "flipped_clean.jpg") + " -o " + quote(dir / "out_flipped.jpg"));
  EXPECT_EQ(photo.exit_code, 3) << photo.output;
  EXPECT_NE(photo.output.find("image data is damaged"), std::string::npos) << photo.output;
}

// Exploratory test (2026-12-07): an intact photo whose EXIF block FFmpeg cannot parse (an IFD offset past the
// block's end, an entry count larger than the block) was reported damaged, exit 3: FFmpeg's "error decoding
// EXIF data" was counted as damage to the picture. Its pixels decode as the clean file's.
TEST(BadInput, AnUnreadableExifBlockIsNoDamageToThePicture) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240 -frames:v 1 " + quote(dir / "clean.jpg"));
  const std::string bytes = read_text(dir / "clean.jpg");
  auto le16 = [](unsigned v) { return std::string{char(v & 0xff), char(v >> 8)}; };
  auto le32 = [](unsigned v) { return std::string{char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char(v >> 24)}; };
  const std::string orientation = le16(0x112) + le16(3) + le32(1) + le32(1);
  const std::vector<std::pair<std::string, std::string>> blocks = {
      {"next_ifd_past_end", std::string("II*\0", 4) + le32(8) + le16(1) + orientation + le32(0xFFFFFFF0)},
      {"ifd0_past_end", std::string("II*\0", 4) + le32(0xFFFFFF00)},
      {"count_past_end", std::string("II*\0", 4) + le32(8) + le16(0xFFFF) + orientation}};
  for (const auto& [name, tiff] : blocks) {
    const std::string app1 = std::string("Exif\0\0", 6) + tiff;
    std::ofstream(dir / (name + ".jpg"), std::ios::binary)
        << bytes.substr(0, 2) + "\xff\xe1" + char((app1.size() + 2) >> 8) + char((app1.size() + 2) & 0xff) + app1 + bytes.substr(2);
    const auto r = run_cli("anonymize --no-audit " + quote(dir / (name + ".jpg")) + " -o " + quote(dir / (name + "_out.png")));
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_EQ(r.output.find("damaged"), std::string::npos) << name << ": " << r.output;
  }
}

// A run whose every input failed before it began replaced the --detections file with an empty list, which
// looks like a result: a reviewed regions file given again was lost. The file is now left as it was.
TEST(BadInput, ARunThatWritesNoEntryLeavesTheDetectionsFileAlone) {
  TempDir dir;
  { std::ofstream(dir / "bad.mp4", std::ios::binary) << std::string(50000, '\x5a'); }
  const std::string reviewed = R"({"format":"roadveil-regions","version":1,"entries":[]} )";
  { std::ofstream(dir / "d.json") << reviewed; }
  const auto r = run_cli("anonymize -q " + quote(dir / "bad.mp4") + " -o " + quote(dir / "out.mp4") + " --detections " + quote(dir / "d.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(read_text(dir / "d.json"), reviewed);
  EXPECT_FALSE(std::filesystem::exists(dir / "none.json"));
  run_cli("anonymize -q " + quote(dir / "bad.mp4") + " -o " + quote(dir / "out.mp4") + " --detections " + quote(dir / "none.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "none.json"));
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"bad.mp4", "d.json"}));
}

// Exploratory test (2026-12-07): options that left nothing to find wrote an output with exit 0 and no word:
// --no-faces --no-plates a copy of the input, --quality fast --no-head-network a photo with every face bare
// (the fast preset runs no face network; the head network was its only face source), and --mosaic-blocks 64 a
// face 150 px tall in blocks of 4 px, recognisable. The first is said (a re-encode is a use of its own), the
// second runs the face network (and without it too is refused), the third is refused beyond 16 blocks.
TEST(BadInput, OptionsThatLeaveFacesBareAreRefused) {
  TempDir dir;
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  auto r = run_cli("anonymize --no-audit --no-faces --no-plates " + quote(photo) + " -o " + quote(dir / "copy.jpg"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: --no-faces and --no-plates leave nothing to hide"), std::string::npos) << r.output;
  r = run_cli("anonymize --no-head-network --no-face-network " + quote(photo) + " -o " + quote(dir / "none.jpg"));
  expect_clear_failure(r, "leave no network to find faces with");
  r = run_cli("anonymize --mosaic-blocks 32 " + quote(photo) + " -o " + quote(dir / "fine.jpg"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--mosaic-blocks"), std::string::npos) << r.output;

  // The fast preset without the head network finds faces with the face network.
  r = run_cli("anonymize --no-audit --quality fast --no-head-network " + quote(photo) + " -o " + quote(dir / "fast.jpg") +
              " --detections " + quote(dir / "fast.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto regions = nlohmann::json::parse(read_text(dir / "fast.json"));
  int faces = 0;
  for (const auto& entry : regions["entries"])
    for (const auto& frame : entry["frames"])
      for (const auto& region : frame["regions"]) faces += region["class"] == "face";
  EXPECT_GE(faces, 1) << regions.dump();
}
