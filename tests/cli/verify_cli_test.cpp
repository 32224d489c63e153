// `roadveil verify` against deliberately weakened outputs (issue #13): a face whose regions were removed from
// the regions file and re-rendered must be found, a mosaic rendered finer than promised must be reported
// readable, and the output of the run itself must show neither where its regions are.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "json_file.hpp"
#include "test_util.hpp"

using namespace roadveil::testing;
using nlohmann::json;

namespace {
CommandResult render(const std::string& args) { return run_command(kCli + " render -q " + args); }

// The big frontal face of the street photo (x 295-387, y 37-163 in the 512x366 frame).
constexpr float kFace[4] = {295, 37, 387, 163};
bool centre_in_face(const json& box) {
  const float cx = 0.5f * (box[0].get<float>() + box[2].get<float>()), cy = 0.5f * (box[1].get<float>() + box[3].get<float>());
  return cx > kFace[0] - 20 && cx < kFace[2] + 20 && cy > kFace[1] - 20 && cy < kFace[3] + 20;
}

class Verify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new TempDir;
    // One second of a street photo with several faces, 10 fps, anonymized with its regions file.
    make_anonymized_street_clip(dir->path(), kCli);
  }
  static void TearDownTestSuite() {
    delete dir;
    dir = nullptr;
  }
  static json verify(const std::string& file, const std::string& regions, const std::string& extra, int expected_exit) {
    const auto report = *dir / (file + ".verify.json");
    const auto r = run_cli("verify -q " + quote(*dir / file) + (regions.empty() ? "" : " --regions " + quote(*dir / regions)) +
                           " --json " + quote(report) + " " + extra);
    if (expected_exit >= 0) EXPECT_EQ(r.exit_code, expected_exit) << r.output;
    else EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4) << r.output;
    return read_json(report);
  }
  static std::vector<json> findings(const json& report, const std::string& kind) {
    std::vector<json> out;
    for (const auto& f : report["files"][0]["findings"])
      if (f["kind"] == kind) out.push_back(f);
    return out;
  }
  static inline TempDir* dir = nullptr;
};
}  // namespace

TEST_F(Verify, TheRunsOwnOutputShowsNothingWhereItsRegionsAreAndKeepsNoReadableRegion) {
  const json report = verify("out.mp4", "regions.json", "", -1 /* any */);
  const json& file = report["files"][0];
  EXPECT_EQ(file["frames"], 10);
  EXPECT_EQ(file["frames_checked"], 10);
  EXPECT_GT(file["regions_checked"].get<int>(), 100);
  EXPECT_TRUE(findings(report, "readable").empty()) << file.dump(1);
  for (const auto& f : findings(report, "exposed")) EXPECT_FALSE(centre_in_face(f["box"])) << f.dump();
}

TEST_F(Verify, AFaceWhoseRegionsWereRemovedAndReRenderedIsFound) {
  // Frames 3-5 lose every region around the big face; rendered again, the face is bare there.
  json regions;
  regions = read_json(*dir / "regions.json");
  int removed = 0;
  for (auto& frame : regions["entries"][0]["frames"]) {
    const int n = frame["frame"];
    if (n < 3 || n > 5) continue;
    json kept = json::array();
    for (const auto& r : frame["regions"]) {
      if (centre_in_face(r["box"])) ++removed;
      else kept.push_back(r);
    }
    frame["regions"] = kept;
  }
  ASSERT_GE(removed, 3);
  std::ofstream(*dir / "weakened.json") << regions.dump();
  ASSERT_EQ(render("--regions " + quote(*dir / "weakened.json") + " " + quote(*dir / "in.mp4") + " -o " +
                   quote(*dir / "weakened.mp4")).exit_code, 0);
  const json report = verify("weakened.mp4", "weakened.json", "--crops " + quote(*dir / "crops"), 4);
  std::set<int> frames;
  for (const auto& f : findings(report, "exposed")) {
    if (!centre_in_face(f["box"])) continue;
    frames.insert(f["frame"].get<int>());
    EXPECT_EQ(f["class"], "face");
    EXPECT_LT(f["covered"].get<double>(), 0.5);
    ASSERT_TRUE(f.contains("crop"));
    const std::string crop = f["crop"];
    EXPECT_TRUE(std::filesystem::is_regular_file(crop)) << crop;
    EXPECT_EQ(ffprobe("-show_entries stream=codec_name -of csv=p=0 " + quote(crop)), "png\n");
  }
  EXPECT_EQ(frames, (std::set<int>{3, 4, 5}));
  // The same file against the complete regions file: the bare face lies where regions say something is
  // hidden, so it is reported as a readable region instead.
  const json against_full = verify("weakened.mp4", "regions.json", "", 4);
  std::set<int> readable;
  for (const auto& f : findings(against_full, "readable"))
    if (centre_in_face(f["box"])) readable.insert(f["frame"].get<int>());
  EXPECT_EQ(readable, (std::set<int>{3, 4, 5}));
}

// A region over the lower part of a face (its mouth and chin, more than half of the face network's box) left
// its eyes bare, and verify counted the face hidden: half of its box was covered. The middle of a detection's
// box must be covered too. The face network's box here is ~[328, 80, 362, 130]: a region from y 108 down
// covers half of it and a third of its middle. (The head network, firing on the bare top of the head alone,
// was reported before too; a finding at least half covered never was.)
TEST_F(Verify, AFaceWithItsEyesBareAboveItsRegionIsFound) {
  json regions;
  regions = read_json(*dir / "regions.json");
  for (auto& frame : regions["entries"][0]["frames"]) {
    const int n = frame["frame"];
    if (n < 3 || n > 5) continue;
    json kept = json::array();
    for (const auto& r : frame["regions"])
      if (!centre_in_face(r["box"])) kept.push_back(r);
    kept.push_back({{"box", {290, 108, 392, 175}}, {"class", "face"}, {"score", 0.9}, {"source", "detector"}});
    frame["regions"] = kept;
  }
  std::ofstream(*dir / "eyes_bare.json") << regions.dump();
  ASSERT_EQ(render("--face-shape box --regions " + quote(*dir / "eyes_bare.json") + " " + quote(*dir / "in.mp4") + " -o " +
                   quote(*dir / "eyes_bare.mp4")).exit_code, 0);
  const json report = verify("eyes_bare.mp4", "eyes_bare.json", "--face-shape box", 4);
  std::set<int> frames;
  for (const auto& f : findings(report, "exposed"))
    if (centre_in_face(f["box"]) && f["covered"].get<double>() >= 0.5) frames.insert(f["frame"].get<int>());
  EXPECT_GE(frames.size(), 2u) << report.dump(1);
  for (const int n : frames) EXPECT_TRUE(n >= 3 && n <= 5) << n;
}

TEST_F(Verify, AMosaicFinerThanPromisedIsReadable) {
  ASSERT_EQ(render("--regions " + quote(*dir / "regions.json") + " " + quote(*dir / "in.mp4") + " -o " +
                   quote(*dir / "fine.mp4") + " --mosaic-blocks 16").exit_code, 0);
  const json promised = verify("fine.mp4", "regions.json", "--every 5", 4);
  const json& file = promised["files"][0];
  EXPECT_EQ(file["frames_checked"], 2);
  EXPECT_GT(findings(promised, "readable").size(), file["regions_checked"].get<std::size_t>() / 2) << file.dump(1);
  // Told the truth about the style, verify finds none readable.
  const json honest = verify("fine.mp4", "regions.json", "--every 5 --mosaic-blocks 16", -1);
  EXPECT_TRUE(findings(honest, "readable").empty());
}

TEST_F(Verify, WithoutARegionsFileTheBareInputIsExposedAndTheOutputMuchLess) {
  const json input = verify("in.mp4", "", "--every 5", 4);
  const json output = verify("out.mp4", "", "--every 5", -1);
  const auto bare = findings(input, "exposed").size(), left = findings(output, "exposed").size();
  EXPECT_GE(bare, 10u);
  EXPECT_LE(3 * left, bare) << left << " of " << bare;
}

// Crops were named after the file's name alone: a/in.mp4 and b/in.mp4 checked in one run wrote the same
// names, the second's crops over the first's, both reports pointing at the survivors.
TEST_F(Verify, TwoFilesOfOneNameKeepTheirOwnCrops) {
  for (const char* sub : {"a", "b"}) {
    std::filesystem::create_directories(*dir / "same" / sub);
    std::filesystem::copy_file(*dir / "in.mp4", *dir / "same" / sub / "in.mp4", std::filesystem::copy_options::overwrite_existing);
  }
  const auto r = run_cli("verify -q --every 5 " + quote(*dir / "same/a/in.mp4") + " " + quote(*dir / "same/b/in.mp4") +
                         " --crops " + quote(*dir / "same/crops") + " --json " + quote(*dir / "same/v.json"));
  ASSERT_EQ(r.exit_code, 4) << r.output;
  const json report = read_json(*dir / "same/v.json");
  std::set<std::string> crops;
  std::size_t count = 0;
  for (const auto& file : report["files"])
    for (const auto& f : file["findings"]) {
      crops.insert(f["crop"].get<std::string>());
      ++count;
    }
  EXPECT_GE(count, 10u);
  EXPECT_EQ(crops.size(), count) << "every finding has its own crop";
  for (const auto& c : crops) EXPECT_TRUE(std::filesystem::is_regular_file(c)) << c;
}

TEST_F(Verify, ARegionsFileOfAnotherVideoIsRefusedNamingTheFile) {
  ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(*dir / "other.mp4"));
  const auto r = run_cli("verify -q " + quote(*dir / "other.mp4") + " --regions " + quote(*dir / "regions.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("other.mp4: is 64x48 but its regions entry"), std::string::npos) << r.output;
}

// From a read-only review: another video of the same size and length took the only entry's regions without a
// word (its findings were another clip's). It is still taken (an output may be renamed), and said, since its
// bytes are not the recorded output's.
TEST_F(Verify, TheOnlyEntryTakenForAnotherFileIsSaid) {
  ffmpeg_make("-f lavfi -i testsrc2=size=512x366:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p " + quote(*dir / "same_size.mp4"));
  auto r = run_cli("verify -q --no-audit " + quote(*dir / "same_size.mp4") + " --regions " + quote(*dir / "regions.json"));
  EXPECT_NE(r.output.find("same_size.mp4: not the output"), std::string::npos) << r.output;
  std::filesystem::copy_file(*dir / "out.mp4", *dir / "renamed.mp4", std::filesystem::copy_options::overwrite_existing);
  r = run_cli("verify -q --no-audit " + quote(*dir / "renamed.mp4") + " --regions " + quote(*dir / "regions.json"));
  EXPECT_EQ(r.output.find("not the output"), std::string::npos) << "the same bytes, renamed\n" << r.output;
}

TEST_F(Verify, RenderingTheRegionsFileReproducesTheRunsPixels) {
  // What verify measures a run against is what the run hid: the regions file keeps every box at the
  // precision it was hidden with, so rendering it gives the same frames (the encoder is deterministic).
  ASSERT_EQ(render("--regions " + quote(*dir / "regions.json") + " " + quote(*dir / "in.mp4") + " -o " +
                   quote(*dir / "rendered.mp4")).exit_code, 0);
  auto frame_hashes = [](const std::filesystem::path& p) {
    const auto r = run_command("ffmpeg -loglevel error -i " + quote(p) + " -map 0:v -f framemd5 -");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string hashes;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] != '#') hashes += line.substr(line.rfind(',') + 1) + "\n";
    return hashes;
  };
  const std::string out = frame_hashes(*dir / "out.mp4");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 10);
  EXPECT_EQ(frame_hashes(*dir / "rendered.mp4"), out);
}

// Every picture of a file is checked or the file is refused: with a second video track, or the faces in its
// cover art, verify said "0 exposed" and exited 0, having decoded one track only.
TEST_F(Verify, EveryVideoTrackAndCoverPictureIsCheckedOrTheFileRefused) {
  const std::string photo = quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg");
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=5:duration=1 -i " + quote(*dir / "in.mp4") +
              " -map 0 -map 1:v -c:v libx264 -pix_fmt yuv420p " + quote(*dir / "two_tracks.mp4"));
  const auto two = run_cli("verify -q --no-audit " + quote(*dir / "two_tracks.mp4"));
  EXPECT_EQ(two.exit_code, 1) << two.output;
  EXPECT_NE(two.output.find("two_tracks.mp4: has 2 video tracks"), std::string::npos) << two.output;

  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=5:duration=1 -i " + photo +
              " -map 0 -map 1 -c:v:0 libx264 -pix_fmt:v:0 yuv420p -c:v:1 mjpeg -disposition:v:1 attached_pic " +
              quote(*dir / "cover.mp4"));
  const json report = verify("cover.mp4", "", "--no-audit", 4);
  const json& file = report["files"][0];
  EXPECT_EQ(file["attached_pictures_checked"], 1) << file.dump(1);
  int on_cover = 0;
  for (const auto& f : file["findings"]) on_cover += f.contains("attached_picture");
  EXPECT_GE(on_cover, 3) << file.dump(1);
  EXPECT_EQ(on_cover, static_cast<int>(file["findings"].size())) << "the test pattern shows nobody";
}

// A file that cannot be read is named and the others are still checked (verify stopped at the first).
TEST_F(Verify, AnUnreadableFileDoesNotStopTheOthers) {
  const auto folder = *dir / "mixed";
  std::filesystem::create_directories(folder);
  { std::ofstream empty(folder / "a_empty.jpg"); }
  std::filesystem::copy_file(*dir / "in.mp4", folder / "b_faces.mp4");
  const auto report_path = *dir / "mixed.verify.json";
  const auto r = run_cli("verify -q --no-audit --every 5 " + quote(folder) + " --json " + quote(report_path));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("a_empty.jpg"), std::string::npos) << r.output;
  const json report = json::parse(read_text(report_path));
  ASSERT_EQ(report["files"].size(), 2u) << report.dump(1);
  EXPECT_TRUE(report["files"][0].contains("error")) << report.dump(1);
  EXPECT_GT(report["files"][1]["exposed"].get<int>(), 0) << report.dump(1);
  EXPECT_EQ(report["not_checked"], 1);
  // Nothing found and one file unreadable: not a clean result either.
  std::filesystem::remove(folder / "b_faces.mp4");
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=5:duration=1 -c:v libx264 -pix_fmt yuv420p " + quote(folder / "c_nobody.mp4"));
  EXPECT_EQ(run_cli("verify -q --no-audit " + quote(folder)).exit_code, 3);
  // A name that is no file beside one that is: the other is still checked (it stopped the whole run, exit 1).
  const auto missing = run_cli("verify --no-audit " + quote(*dir / "missing.mp4") + " " + quote(folder / "c_nobody.mp4"));
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("missing.mp4"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("c_nobody.mp4: 5 of 5 frames checked, 0 exposed"), std::string::npos) << missing.output;
}

// #16 item 13: a clip stored sideways is verified upright, as it was anonymized: its bare input shows as many
// exposed faces as the same clip stored upright.
TEST(VerifyOrientation, ASidewaysClipIsSearchedUpright) {
  TempDir dir;
  make_upright_and_sideways_clips(dir.path(), 0.2);
  auto exposed = [&](const std::string& name) {
    const auto r = run_cli("verify -q --no-audit " + quote(dir / name) + " --json " + quote(dir / (name + ".json")));
    EXPECT_EQ(r.exit_code, 4) << r.output;
    const json report = json::parse(read_text(dir / (name + ".json")));
    return static_cast<int>(report["files"][0]["findings"].size());
  };
  const int up = exposed("up.mp4"), side = exposed("side.mp4");
  EXPECT_GE(up, 6);
  EXPECT_GE(side + 2, up) << "sideways " << side << ", upright " << up;
}

// Regression (exploratory test of 2026-12-07): without a regions file, a face untouched in an ordinary H.264
// clip (a large frontal face, CRF 23) passed as hidden, "0 exposed", exit 0, where its frame as a PNG was
// found exposed: enlarged and smoothed by the encoder, it changes by less than 4 levels from one pixel to the
// next, and that was all the measure looked at. The same clip anonymized still passes.
TEST(VerifyWithoutRegions, ASmoothFaceInAnOrdinaryClipIsExposedAndItsMosaicIsNot) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i color=c=gray:s=640x360:r=10 -loop 1 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss506.jpg") +
              " -filter_complex \"[1:v]scale=240:240,fps=10[f];[0:v][f]overlay=200:60\" -frames:v 5 -c:v libx264 -crf 23 "
              "-pix_fmt yuv420p " + quote(dir / "face.mp4"));
  auto exposed = [&](const std::string& name, int expected_exit) {
    const auto r = run_cli("verify -q --no-audit " + quote(dir / name) + " --json " + quote(dir / (name + ".json")));
    EXPECT_EQ(r.exit_code, expected_exit) << name << ": " << r.output;
    const json report = json::parse(read_text(dir / (name + ".json")));
    int n = 0;
    for (const auto& f : report["files"][0]["findings"]) n += f["kind"] == "exposed";
    return n;
  };
  EXPECT_GE(exposed("face.mp4", 4), 5) << "the face, in each of the 5 frames";
  const auto r = run_cli("anonymize -q --no-audit " + quote(dir / "face.mp4") + " -o " + quote(dir / "out.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(exposed("out.mp4", 0), 0);
}

// `verify out.jpg --json out.jpg` replaced the finished photo with its report, `review-queue d.json --json
// d.json` a reviewed regions file with the queue, `audit r --json r` the audit record. A report that would
// replace what the command reads is refused before anything runs; the file is left as it was.
TEST(ReportPaths, AReportNeverReplacesWhatTheCommandReads) {
  TempDir dir;
  const auto photo = dir / "input.jpg";
  std::filesystem::copy_file(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg", photo);
  ASSERT_EQ(run_cli("anonymize -q " + quote(photo) + " -o " + quote(dir / "out.jpg") + " --detections " + quote(dir / "d.json")).exit_code, 0);
  const std::string out = read_text(dir / "out.jpg"), regions = read_text(dir / "d.json"), audit = read_text(dir / "out.jpg.audit.json");
  const std::string original = read_text(photo);
  std::filesystem::create_symlink(dir / "out.jpg", dir / "alias.json");
  for (const std::string& args : {"verify " + quote(dir / "out.jpg") + " --json " + quote(dir / "out.jpg"),
                                  "verify " + quote(dir / "out.jpg") + " --json " + quote(dir / "alias.json"),
                                  "verify " + quote(dir / "out.jpg") + " --json " + quote(dir / "out.jpg.audit.json"),
                                  "verify " + quote(dir / "out.jpg") + " --regions " + quote(dir / "d.json") + " --json " + quote(dir / "d.json"),
                                  "review-queue " + quote(dir / "d.json") + " --json " + quote(dir / "d.json"),
                                  "audit " + quote(dir / "out.jpg") + " --json " + quote(dir / "out.jpg.audit.json"),
                                  // Named only by the record, or found only in a folder given (a review found
                                  // both replaced by the report: the photo's original, the output checked).
                                  "audit " + quote(dir / "out.jpg") + " --json " + quote(dir / "input.jpg"),
                                  "verify " + quote(dir.path()) + " --json " + quote(dir / "out.jpg")}) {
    SCOPED_TRACE(args);
    const auto r = args.starts_with("review-queue") ? run_command(kCli + " " + args) : run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("which this command reads: write the report elsewhere"), std::string::npos) << r.output;
  }
  EXPECT_EQ(read_text(dir / "out.jpg"), out);
  EXPECT_EQ(read_text(dir / "d.json"), regions);
  EXPECT_EQ(read_text(dir / "out.jpg.audit.json"), audit);
  EXPECT_EQ(read_text(photo), original);
  // Elsewhere, as before.
  EXPECT_NE(run_cli("verify " + quote(dir / "out.jpg") + " --no-audit --json " + quote(dir / "report.json")).exit_code, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
}

// A truncated JPEG: anonymize says it is damaged; verify said "1 of 1 frames checked, 0 exposed" as for a
// whole one. It says DAMAGED now (what decoded is still checked).
TEST(VerifyCli, ATruncatedPhotoIsReportedDamaged) {
  TempDir dir;
  const std::string jpeg = read_text(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg");
  { std::ofstream(dir / "cut.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() * 2 / 3); }
  auto r = run_cli("verify --no-audit " + quote(dir / "cut.jpg"));
  EXPECT_NE(r.output.find("DAMAGED"), std::string::npos) << r.output;
  { std::ofstream(dir / "whole.jpg", std::ios::binary) << jpeg; }
  r = run_cli("verify --no-audit " + quote(dir / "whole.jpg"));
  EXPECT_EQ(r.output.find("DAMAGED"), std::string::npos) << r.output;
  // A cut video of nobody: nothing found in the frames that decoded, but not all were checked: exit 3, as
  // anonymize exits for a damaged input (it exited 0).
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=2 -c:v libx264 -pix_fmt yuv420p -movflags +faststart " +
              quote(dir / "whole.mp4"));
  const std::string video = read_text(dir / "whole.mp4");
  { std::ofstream(dir / "cut.mp4", std::ios::binary) << video.substr(0, video.size() * 6 / 10); }
  r = run_cli("verify --no-audit " + quote(dir / "cut.mp4"));
  EXPECT_NE(r.output.find("DAMAGED"), std::string::npos) << r.output;
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_EQ(run_cli("verify --no-audit " + quote(dir / "whole.mp4")).exit_code, 0);
}

// render without style options drew the defaults (an ellipse mosaic) over a run made with --style blur
// --face-shape box: not the output it was to reproduce. It takes the run's recorded styles unless given.
TEST(RenderStyles, RenderHidesAsTheRunDidUnlessToldOtherwise) {
  TempDir dir;
  ffmpeg_make("-loop 1 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") +
              " -t 0.5 -r 10 -vf scale=512:366 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "in.mp4"));
  ASSERT_EQ(run_cli("anonymize -q " + quote(dir / "in.mp4") + " -o " + quote(dir / "blurred.mp4") +
                    " --style blur --face-shape box --detections " + quote(dir / "regions.json")).exit_code, 0);
  ASSERT_EQ(render("--regions " + quote(dir / "regions.json") + " " + quote(dir / "in.mp4") + " -o " + quote(dir / "again.mp4")).exit_code, 0);
  EXPECT_EQ(read_text(dir / "again.mp4"), read_text(dir / "blurred.mp4"));
  ASSERT_EQ(render("--style mosaic --regions " + quote(dir / "regions.json") + " " + quote(dir / "in.mp4") + " -o " +
                   quote(dir / "mosaic.mp4")).exit_code, 0);
  EXPECT_NE(read_text(dir / "mosaic.mp4"), read_text(dir / "blurred.mp4"));
  // One option replaces only its own part of the recorded style (a review found --style alone turning the
  // recorded box faces into ellipses, their corners shown).
  const auto mosaic = nlohmann::json::parse(read_text(dir / "mosaic.mp4.audit.json"))["settings"]["face_style"];
  EXPECT_EQ(mosaic["style"], "mosaic");
  EXPECT_EQ(mosaic["shape"], "box");
  // The run's encoder settings are the render's too (it made H.264 at CRF auto of an HEVC run at CRF 23).
  ASSERT_EQ(run_cli("anonymize -q " + quote(dir / "in.mp4") + " -o " + quote(dir / "hevc.mp4") + " --codec hevc --crf 23 --detections " +
                    quote(dir / "hevc.json")).exit_code, 0);
  ASSERT_EQ(render("--regions " + quote(dir / "hevc.json") + " " + quote(dir / "in.mp4") + " -o " + quote(dir / "hevc2.mp4")).exit_code, 0);
  EXPECT_EQ(read_text(dir / "hevc2.mp4"), read_text(dir / "hevc.mp4"));
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  ASSERT_EQ(run_cli("anonymize -q " + quote(photo) + " -o " + quote(dir / "q.jpg") + " --jpeg-quality 20 --detections " +
                    quote(dir / "q.json")).exit_code, 0);
  ASSERT_EQ(render("--regions " + quote(dir / "q.json") + " " + quote(photo) + " -o " + quote(dir / "q2.jpg")).exit_code, 0);
  EXPECT_EQ(read_text(dir / "q2.jpg"), read_text(dir / "q.jpg"));
}

// Exploratory test (2026-12-07): two cameras' runs with the same layout (cam1/out/v.mp4, cam2/out/v.mp4)
// queued together left verify's findings of one of them unranked: a warning, the exposed frames missing from
// the queue, exit 0. The queue is still written, but the exit (3) says it is incomplete.
TEST_F(Verify, AReviewQueueThatCannotPlaceAFindingSaysSoInItsExit) {
  verify("out.mp4", "regions.json", "", -1);
  const auto report = *dir / "out.mp4.verify.json";
  auto r = run_command(kCli + " review-queue " + quote(*dir / "regions.json") + " --verify " + quote(report));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Two cameras' regions files, each run from its own folder (outputs named "out.mp4" alike): the findings fit
  // both, and are placed in neither.
  json regions = read_json(*dir / "regions.json");
  regions["entries"][0]["input"] = "in.mp4";
  regions["entries"][0]["output"] = "out.mp4";
  for (const char* cam : {"cam1", "cam2"}) {
    std::filesystem::create_directories(*dir / cam);
    std::ofstream(*dir / cam / "regions.json") << regions.dump();
  }
  r = run_command(kCli + " review-queue " + quote(*dir / "cam1" / "regions.json") + " " + quote(*dir / "cam2" / "regions.json") +
                  " --verify " + quote(report));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("finding(s) of the verify report are of files none of the regions files names (or names twice)"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("frames queued"), std::string::npos) << "the queue is still written: " << r.output;
}
