// Issue #16 items 14-17: names FFmpeg would take for protocols or patterns are plain files, long and
// non-UTF-8 names work, and a regions file with values of the wrong type, out-of-range numbers or huge boxes
// gets one clear message naming the file (or is clamped), never an internal error.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

using namespace roadveil::testing;
using nlohmann::json;

namespace {
// Runs the CLI inside `dir`, so that relative names reach it as given.
CommandResult run_in(const TempDir& dir, const std::string& args) {
  return run_command("cd " + quote(dir.path()) + " && " + kCli + " " + args + " --models " + quote(models_dir()) + " </dev/null");
}
CommandResult render_in(const TempDir& dir, const std::string& args) {
  return run_command("cd " + quote(dir.path()) + " && " + kCli + " render -q " + args + " </dev/null");
}
void make_tiny_clip(const std::filesystem::path& p) {
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=10 -t 0.5 -c:v libx264 -pix_fmt yuv420p " + quote(p));
}
}  // namespace

TEST(OddNames, ProtocolAndPatternLikeNamesAreOpenedAsFiles) {
  TempDir dir;
  make_tiny_clip(dir / "pipe:clip.mp4");
  auto r = run_in(dir, "anonymize -q pipe:clip.mp4 -o pipe:out.mp4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "pipe:out.mp4")) << "written as a file, not to standard output";
  std::filesystem::copy_file(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg", dir / "img%d.jpg");
  r = run_in(dir, "anonymize -q img%d.jpg -o out%d.jpg");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out%d.jpg"));
  make_tiny_clip(dir / "concat:a.mp4");
  r = run_in(dir, "anonymize -q concat:a.mp4 -o b.mp4");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(OddNames, AnOutputNameNearTheFileSystemLimitWorks) {
  TempDir dir;
  make_tiny_clip(dir / "in.mp4");
  const std::string name = std::string(246, 'n') + ".mp4";  // 250 bytes: the temporary name would be 270
  const auto r = run_in(dir, "anonymize -q in.mp4 -o " + name + " --detections d.json --no-audit");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / name));
}

TEST(OddNames, ANonUtf8NameWithADetectionsFileWorksAndRenders) {
  TempDir dir;
  const std::string name = "clip\xff\xfe.mp4";
  make_tiny_clip(dir / name);
  auto r = run_in(dir, "anonymize -q " + quote(name) + " -o out.mp4 --detections d.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json doc = json::parse(read_text(dir / "d.json"));  // valid JSON (UTF-8), the name's bad bytes replaced
  EXPECT_EQ(doc["entries"].size(), 1u);
  r = render_in(dir, "--regions d.json " + quote(name) + " -o again.mp4");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

class RegionsFileErrors : public ::testing::Test {
 protected:
  void SetUp() override { make_tiny_clip(dir / "in.mp4"); }
  // A regions file for in.mp4 whose frame 0 region is `region` (a JSON text).
  std::string render_with(const std::string& region_text, const std::string& extra_entry_fields = "") {
    std::ofstream(dir / "r.json") << R"({"format": "roadveil-regions", "version": 1, "entries": [{"input": "in.mp4")"
                                  << extra_entry_fields << R"(, "frames": [{"frame": 0, "regions": [)" << region_text << "]}]}]}";
    const auto r = render_in(dir, "--regions r.json in.mp4 -o out.mp4");
    last_exit = r.exit_code;
    return r.output;
  }
  TempDir dir;
  int last_exit = 0;
};

TEST_F(RegionsFileErrors, WrongTypesAndOutOfRangeNumbersNameTheFile) {
  for (const auto& [region, fields, expect] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {R"({"class": "face", "box": [0, 0, 10, 10]})", R"(, "width": "wide")", "r.json: entry 1: a value has the wrong type"},
           {R"({"class": "face", "box": [0, 0, "x", 10]})", "", "r.json: entry 1, frame 0: a box coordinate is not a number"},
           {R"({"class": "face", "box": [0, 0, 1e400, 10]})", "", "r.json: not valid JSON"},
           {R"({"class": "face", "box": [0, 0, 10, 10], "score": [1]})", "", "r.json: entry 1, frame 0: a value has the wrong type"},
           {R"(7)", "", "r.json: entry 1, frame 0: a region must be an object"},
           // Regressions (fuzz_regions_file): numbers no int holds were cast to int (undefined behaviour).
           {R"({"class": "face", "box": [0, 0, 10, 10], "track": 1e126})", "", "r.json: entry 1, frame 0: a value has the wrong type"},
           {R"({"class": "face", "box": [0, 0, 10, 10]})", R"(, "width": 1e30)", "r.json: entry 1: a value has the wrong type"},
           {R"({"class": "face", "box": [0, 0, 10, 10]})", R"(, "frame_count": 0.5)", "r.json: entry 1: a value has the wrong type"},
           {R"({"class": "face", "box": [0, 0, 10, 10]})", R"(, "time_base": [1, 4294967297])", "r.json: entry 1: \"time_base\" must be [numerator, denominator], two positive whole numbers, not [1,4294967297]"},
           // A recorded style weaker than any run can ask for would show what it claims to hide.
           {R"({"class": "screen", "box": [0, 0, 10, 10]})",
            R"(, "audit": {"settings": {"class_styles": {"screen": {"style": "mosaic", "mosaic_blocks": 1000}}}})",
            "r.json: entry 1: audit settings.class_styles.screen: \"mosaic_blocks\" is 1000, expected 2 to 64"},
       }) {
    const std::string out = render_with(region, fields);
    EXPECT_EQ(last_exit, 1) << region << "\n" << out;
    EXPECT_NE(out.find(expect), std::string::npos) << region << "\n" << out;
    EXPECT_EQ(out.find("internal error"), std::string::npos) << out;
    EXPECT_EQ(count_lines(out), 1) << out;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.mp4"));
  }
  std::filesystem::create_directories(dir / "folder.json");
  const auto r = render_in(dir, "--regions folder.json in.mp4 -o out.mp4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("folder.json: is a folder, not a regions file"), std::string::npos) << r.output;
}

TEST_F(RegionsFileErrors, AHugeBoxIsClampedToTheFrameAndHidesIt) {
  // The same pixels as a box of exactly the frame (160x120): 1e39 once overflowed the float and hid nothing.
  render_with(R"({"class": "plate", "box": [0, 0, 160, 120]})");
  ASSERT_EQ(last_exit, 0);
  std::filesystem::rename(dir / "out.mp4", dir / "frame.mp4");
  auto frame_md5 = [&](const std::string& file) {
    return run_command("ffmpeg -v error -i " + quote(dir / file) + " -f framemd5 - | grep -v '^#'").output;
  };
  const std::string whole = frame_md5("frame.mp4");
  ASSERT_FALSE(whole.empty());
  EXPECT_NE(whole, frame_md5("in.mp4"));
  for (const std::string huge : {"1e39", "1e30"}) {
    std::filesystem::remove(dir / "out.mp4");
    const std::string out = render_with(R"({"class": "plate", "box": [0, 0, )" + huge + ", " + huge + "]}");
    ASSERT_EQ(last_exit, 0) << huge << ": " << out;
    // Frame 0 is hidden exactly like the whole-frame box (the other frames have no regions in either).
    EXPECT_EQ(frame_md5("out.mp4").substr(0, whole.find('\n')), whole.substr(0, whole.find('\n'))) << huge;
  }
}

// A folder run left out a .jfif photo (what Windows browsers name a saved JPEG), a JPEG without an
// extension and a hidden photo, exit 0 with nothing said: a run the user believes complete. .jfif is a JPEG
// now; what a folder run leaves out is named in a warning (-q silences it).
TEST(OddNames, AFolderRunTakesJfifAndSaysWhatItLeftOut) {
  TempDir dir;
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  std::filesystem::create_directories(dir / "F/sub");
  for (const char* name : {"F/a.jpg", "F/x.jfif", "F/noext", "F/.dot.jpg"}) std::filesystem::copy_file(photo, dir / name);
  std::ofstream(dir / "F/sub/notes.txt") << "notes";
  auto r = run_in(dir, "anonymize F -o out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out/a.jpg"));
  ASSERT_TRUE(std::filesystem::exists(dir / "out/x.jfif"));
  EXPECT_EQ(read_text(dir / "out/x.jfif").substr(0, 2), std::string("\xff\xd8", 2));
  EXPECT_NE(r.output.find("left out 1 hidden file(s) with a photo or video extension (F/.dot.jpg)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("left out 2 file(s) that are no photo or video by their extension (F/noext, F/sub/notes.txt)"),
            std::string::npos) << r.output;
  r = run_in(dir, "anonymize -q F -o out2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("left out"), std::string::npos) << r.output;
}

// A folder run left out .3g2, .ogv, .mxf, .vob and .dv videos as "no photo or video by their extension" (a
// single-file run takes them), and .vob, .mxf, .dv and .m2v outputs failed with "cannot open the mpeg2video
// encoder (Invalid argument)". They are videos now; what roadveil cannot write in its own container goes
// into Matroska under the same name, and an output named so is refused with the containers it writes.
TEST(OddNames, AFolderRunTakesEveryVideoAndWritesWhatItCannotWriteAsMatroska) {
  TempDir dir;
  std::filesystem::create_directories(dir / "F");
  make_tiny_clip(dir / "F/a.3g2");
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=25 -t 0.5 -c:v mpeg2video " + quote(dir / "F/b.mxf"));
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=25 -t 0.5 -c:v mpeg2video -f vob " + quote(dir / "F/c.vob"));
  auto r = run_in(dir, "anonymize F -o out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"out/a.3g2", "out/b.mkv", "out/c.mkv"}) EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  EXPECT_NE(r.output.find("2 video(s) written as .mkv"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("left out"), std::string::npos) << r.output;
  r = run_in(dir, "anonymize -q F/a.3g2 -o x.vob");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("x.vob: the svcd container cannot hold h264, and roadveil writes no other video codec into it: use .mp4, .mkv or .mov"),
            std::string::npos) << r.output;
}
