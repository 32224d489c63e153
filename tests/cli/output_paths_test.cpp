// Every file a run writes (outputs, --mask files, the --detections file) must differ from every input and
// from each other, by path or through links (issue #16: `--detections in.mp4` overwrote the input, and
// `--detections out.mp4` left a corrupt output).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <fstream>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace roadveil::testing;

namespace {
class OutputPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    ffmpeg_make("-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 " + quote(dir / "in.mp4"));
    original = read_text(dir / "in.mp4");
  }
  // The run is refused with one message naming `path`, the input is untouched, nothing else is written.
  void expect_refused(const std::string& args, const std::string& message, bool models = true) {
    const auto before = files();
    const auto r = models ? run_cli(args) : run_command(kCli + " " + args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_EQ(read_text(dir / "in.mp4"), original);
    EXPECT_EQ(files(), before);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) names.push_back(e.path().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  TempDir dir;
  std::string original;
};
}  // namespace

TEST_F(OutputPaths, DetectionsFileIsTheInput) {
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "out.mp4") + " --detections " +
                     quote(dir / "in.mp4"),
                 "in.mp4: --detections file is the input file");
}

TEST_F(OutputPaths, DetectionsFileIsTheOutput) {
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "out.mp4") + " --detections " +
                     quote(dir / "out.mp4"),
                 "out.mp4: --detections file is the output");
}

TEST_F(OutputPaths, OutputIsASymbolicOrHardLinkToTheInput) {
  std::filesystem::create_symlink(dir / "in.mp4", dir / "soft.mp4");
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "soft.mp4"), "soft.mp4: output is the input file");
  std::filesystem::create_hard_link(dir / "in.mp4", dir / "hard.mp4");
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "hard.mp4"), "hard.mp4: output is the input file");
  // Through a linked folder too.
  std::filesystem::create_directory_symlink(dir.path(), dir / "again");
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "again" / "in.mp4"), "output is the input file");
}

TEST_F(OutputPaths, MaskOutputIsAnInputOrTheDetectionsFile) {
  std::filesystem::copy_file(dir / "in.mp4", dir / "b.mask.mp4");
  expect_refused("anonymize " + quote(dir / "b.mask.mp4") + " -o " + quote(dir / "b.mp4") + " --mask",
                 "b.mask.mp4: --mask output is the input file");
  std::filesystem::create_directory(dir / "out");
  expect_refused("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "out" / "a.mp4") + " --mask --detections " +
                     quote(dir / "out" / "a.mask.mp4"),
                 "a.mask.mp4: --detections file is the --mask output");
  // Which inputs the names come from: a folder of x.mp4 and x.mask.mp4 named neither.
  std::filesystem::create_directory(dir / "pair");
  std::filesystem::copy_file(dir / "in.mp4", dir / "pair" / "x.mp4");
  std::filesystem::copy_file(dir / "in.mp4", dir / "pair" / "x.mask.mp4");
  expect_refused("anonymize " + quote(dir / "pair") + " -o " + quote(dir / "pair_out") + "/ --mask",
                 "x.mask.mp4: --mask output is the output (the --mask output of " + (dir / "pair" / "x.mp4").string() +
                     ", the output of " + (dir / "pair" / "x.mask.mp4").string() + ")");
}

TEST_F(OutputPaths, FolderIntoItself) {
  std::filesystem::create_directory(dir / "clips");
  std::filesystem::rename(dir / "in.mp4", dir / "clips" / "a.mp4");
  const std::string a = read_text(dir / "clips" / "a.mp4");
  const auto r = run_cli("anonymize " + quote(dir / "clips") + " -o " + quote(dir / "clips"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("clips: the output folder is this input folder"), std::string::npos) << r.output;
  EXPECT_EQ(read_text(dir / "clips" / "a.mp4"), a);
  std::filesystem::rename(dir / "clips" / "a.mp4", dir / "in.mp4");
}

// A folder's symbolic link is written under the output folder by its own name, never by what it points to:
// a link to a file outside the input folder was written outside the output folder (OUTPUT/../src/x.mp4), and
// a link to a file beside it was refused as the other file's output.
TEST_F(OutputPaths, FolderLinksAreNamedAsTheLinks) {
  namespace fs = std::filesystem;
  fs::create_directories(dir / "src");
  fs::create_directories(dir / "clips");
  fs::copy_file(dir / "in.mp4", dir / "src" / "x.mp4");
  fs::copy_file(dir / "in.mp4", dir / "clips" / "a.mp4");
  fs::create_symlink(dir / "src" / "x.mp4", dir / "clips" / "outside.mp4");
  fs::create_symlink("a.mp4", dir / "clips" / "beside.mp4");
  const auto r = run_cli("anonymize -q --no-audit " + quote(dir / "clips") + " -o " + quote(dir / "deep" / "out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"a.mp4", "outside.mp4", "beside.mp4"})
    EXPECT_TRUE(fs::is_regular_file(dir / "deep" / "out" / name)) << name << "\n" << r.output;
  EXPECT_FALSE(fs::exists(dir / "deep" / "src")) << r.output;
  EXPECT_EQ(read_text(dir / "src" / "x.mp4"), original);
}

TEST_F(OutputPaths, RenderOutputIsTheRegionsFile) {
  ASSERT_EQ(run_cli("anonymize " + quote(dir / "in.mp4") + " -o " + quote(dir / "out.mp4") + " --detections " +
                    quote(dir / "d.json")).exit_code, 0);
  const std::string regions = read_text(dir / "d.json");
  expect_refused("render --regions " + quote(dir / "d.json") + " " + quote(dir / "in.mp4") + " -o " + quote(dir / "d.json"),
                 "d.json: output is the input file", /*models=*/false);
  EXPECT_EQ(read_text(dir / "d.json"), regions);
}

// Issue #16 item 18: Ctrl-C (or `kill`, or a closed terminal) left the hidden ".NAME.roadveil-PID.part"
// files of the output and the regions file behind. Stopped mid-run (Ctrl-C, kill, a closed terminal), nothing is
// left in the output folder, and the process still ends by the signal (the shell sees 130 for SIGINT).
TEST(Interrupt, StoppedRunLeavesNoPartialFiles) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=640x360:rate=25:duration=150 -c:v libx264 -preset ultrafast " + quote(dir / "long.mp4"));  // ~15 s to anonymize
  std::filesystem::create_directories(dir / "out");
  for (const char* sig : {"INT", "TERM", "HUP"}) {
    // `timeout` sends the signal after 3 s (models are loaded and both files open by then) and reports 124.
    const auto r = run_command(std::string("timeout -s ") + sig + " 3 " + kCli + " anonymize " + quote(dir / "long.mp4") +
                               " -o " + quote(dir / "out" / "long.mp4") + " --detections " + quote(dir / "out" / "regions.json") +
                               " --models " + quote(models_dir()));
    EXPECT_EQ(r.exit_code, 124) << sig << ": the run was not stopped by the signal: " << r.output;
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir / "out")) left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << sig << ": left " << ::testing::PrintToString(left);
  }
}

// A run killed outright (SIGKILL: the out-of-memory killer, a container's memory limit, a scheduler's
// preemption) cannot remove its hidden temporary file: every one used to stay for good. The kernel releases
// the lock the run held on it, and the next run writing into that folder removes it; a live run's file, locked,
// is never touched (core/temporary_file.hpp).
TEST(Interrupt, AKilledRunsTemporaryFileIsRemovedByTheNextRunIntoItsFolder) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=1280x720:rate=25:duration=6 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " +
              quote(dir / "in.mp4"));
  std::filesystem::create_directories(dir / "out");
  std::ofstream(dir / "kill.sh") << kCli << " anonymize -q " << quote(dir / "in.mp4") << " -o " << quote(dir / "out/a.mp4")
                                 << " --models " << quote(models_dir()) << " & pid=$!\n"
                                 << "for i in $(seq 600); do ls -A " << quote(dir / "out") << " | grep -q part && break; sleep 0.05; done\n"
                                 << "kill -9 $pid; wait $pid; ls -A " << quote(dir / "out") << "\n";
  const auto killed = run_command("sh " + quote(dir / "kill.sh"));
  ASSERT_NE(killed.output.find(".a.mp4.roadveil-"), std::string::npos) << killed.output;
  ASSERT_FALSE(std::filesystem::exists(dir / "out/a.mp4"));
  // Another output into the same folder: the killed run's file goes, this run's output stays.
  const auto r = run_command(kCli + " anonymize -q " + quote(dir / "in.mp4") + " -o " + quote(dir / "out/b.mp4") +
                             " --no-faces --models " + quote(models_dir()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"b.mp4", "b.mp4.audit.json"}));
}

// A folder of photos, two at a time, wrote every audit record (and every message) only when the whole folder
// was done: a run stopped after hours (Ctrl-C, a job's time limit, the out-of-memory killer) left all the
// photos it had made without their records. Each photo is finished as soon as it and those before it are.
TEST(Interrupt, AStoppedFolderOfPhotosLeavesEachOutputWithItsAuditRecord) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: photos run one at a time";
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(shared_dir() / "eval/dashcam-berlin-dev/images"))
    if (n < 16) std::filesystem::copy_file(e.path(), dir / "in" / ("p" + std::to_string(n++) + ".jpg"));
  std::ofstream(dir / "stop.sh") << kCli << " anonymize -q " << quote(dir / "in") << " -o " << quote(dir / "out")
                                 << " --models " << quote(models_dir()) << " & pid=$!\n"
                                 << "for i in $(seq 1200); do [ $(ls " << quote(dir / "out") << " 2>/dev/null | grep -c 'jpg$') -ge 4 ] && break; sleep 0.05; done\n"
                                 << "kill -TERM $pid; wait $pid; echo rc=$?\n";
  const auto r = run_command("sh " + quote(dir / "stop.sh"));
  ASSERT_NE(r.output.find("rc=143"), std::string::npos) << "stopped by the signal, not finished: " << r.output;
  int outputs = 0, without_record = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out"))
    if (e.path().extension() == ".jpg") {
      ++outputs;
      without_record += !std::filesystem::exists(e.path().string() + ".audit.json");
    }
  ASSERT_GE(outputs, 4);
  ASSERT_LT(outputs, 16) << "the run was to be stopped midway";
  // At most the photo done while the one before it was still running, and one between its rename and record.
  EXPECT_LE(without_record, 2) << outputs << " outputs";
}

// A review found `--detections new/x.json` refused ("cannot write the detections file here") where `-o new/`
// made its folder: the detections file's folder is made too.
TEST(DetectionsFile, ItsFolderIsMadeAsTheOutputsIs) {
  TempDir dir;
  const auto r = run_cli("anonymize -q --no-audit " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") + " -o " +
                         quote(dir / "out" / "a.jpg") + " --detections " + quote(dir / "regions" / "run1" / "d.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "regions" / "run1" / "d.json"));
}

// Three folder-run paths a review found: "-o newdir/" with one file made an empty folder and failed ("unsupported
// image extension"); "-o ." above the input folder skipped every file as under the output ("folder contains no
// image or video files"); links to folders and broken links were skipped without a word (exit 0, "2 files
// done" where the user counted more).
TEST_F(OutputPaths, FolderNamesParentOutputsAndLinksAreTakenAsMeant) {
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  std::filesystem::create_directories(dir / "photos" / "sub");
  std::filesystem::create_directories(dir / "elsewhere");
  std::filesystem::copy_file(photo, dir / "photos" / "a.jpg");
  std::filesystem::copy_file(photo, dir / "elsewhere" / "b.jpg");
  std::filesystem::create_directory_symlink(dir / "elsewhere", dir / "photos" / "linkdir");
  std::filesystem::create_symlink(dir / "nothing.jpg", dir / "photos" / "broken.jpg");

  auto r = run_cli("anonymize -q --no-audit " + quote(dir / "photos" / "a.jpg") + " -o " + quote(dir / "newdir") + "/");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "newdir" / "a.jpg"));

  r = run_command("cd " + quote(dir / "photos" / "sub") + " && " + kCli + " anonymize -q --no-audit .. -o .. --models " + quote(models_dir()));
  EXPECT_NE(r.output.find("the output folder is this input folder"), std::string::npos) << r.output;
  r = run_command("cd " + quote(dir.path()) + " && " + kCli + " anonymize --no-audit photos -o . --models " + quote(models_dir()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "a.jpg"));
  EXPECT_NE(r.output.find("left out 2 link(s) to a folder or to nothing, not followed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("broken.jpg"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("linkdir"), std::string::npos) << r.output;
}

// Exploratory test (2026-12-07): with -o naming an existing subfolder of the input folder, the photos already
// in it were left out as earlier outputs without a word ("2 files done"). They are named like the other files
// left out.
TEST_F(OutputPaths, FilesUnderAnOutputFolderInsideTheInputAreSaidToBeLeftOut) {
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  std::filesystem::create_directories(dir / "in" / "sub");
  std::filesystem::copy_file(photo, dir / "in" / "a.jpg");
  std::filesystem::copy_file(photo, dir / "in" / "sub" / "b.jpg");
  const auto r = run_cli("anonymize --no-audit " + quote(dir / "in") + " -o " + quote(dir / "in" / "sub"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "in" / "sub" / "a.jpg"));
  EXPECT_NE(r.output.find("left out 1 photo or video file(s) under the output folder, which lies in this input folder"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("b.jpg"), std::string::npos) << r.output;
}

// Exploratory test (2026-12-07): two photos with "-o two.jpg" were written into a new folder named two.jpg.
TEST_F(OutputPaths, SeveralInputsIntoAPhotosNameAreRefused) {
  const auto photo = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  std::filesystem::copy_file(photo, dir / "a.jpg");
  std::filesystem::copy_file(photo, dir / "b.jpg");
  auto r = run_cli("anonymize --no-audit " + quote(dir / "a.jpg") + " " + quote(dir / "b.jpg") + " -o " + quote(dir / "two.jpg"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("two.jpg: several inputs or a folder need an output folder, and this names a photo or video"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "two.jpg"));
  r = run_cli("anonymize -q --no-audit " + quote(dir / "a.jpg") + " " + quote(dir / "b.jpg") + " -o " + quote(dir / "two.jpg") + "/");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "two.jpg" / "b.jpg"));
}

// A folder of photos showed nothing between its start and its summary (a video shows its frames): the
// photos done are a progress line of their own, cleared before the summary.
TEST(FolderProgress, AFolderOfPhotosShowsItsProgress) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (const char* name : {"maksssksksss10.jpg", "maksssksksss11.jpg", "maksssksksss12.jpg"})
    std::filesystem::copy_file(shared_dir() / "eval/faces-street/images" / name, dir / "in" / name);
  const auto r = run_cli("anonymize --progress " + quote(dir / "in") + " -o " + quote(dir / "out") + "/");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\rphotos ["), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/3 frames"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\r\x1b[Kroadveil: 3 files done"), std::string::npos) << r.output;
}

// Regression (review of photos): a --skip-done rerun with --detections wrote the file anew with only the files it
// made again (after an interrupted run of 50 photos: 47 entries for 50 outputs); the skipped files' regions, audit
// records and reviews were gone for render, review and audit. And with --mask, a missing mask was never made:
// the output counted as done.
TEST(SkipDone, ARerunKeepsTheSkippedFilesRegionsAndMakesMissingMasks) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (const char* name : {"a.jpg", "b.jpg"})
    std::filesystem::copy_file(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg", dir / "in" / name);
  auto run = [&](const std::string& extra) {
    return run_cli("anonymize " + quote(dir / "in") + " -o " + quote(dir / "out") + " --detections " + quote(dir / "r.json") + " " + extra);
  };
  ASSERT_EQ(run("-q --mask").exit_code, 0);
  const nlohmann::json first = nlohmann::json::parse(read_text(dir / "r.json"));
  ASSERT_EQ(first["entries"].size(), 2u);
  std::filesystem::remove(dir / "out" / "a.jpg");
  std::filesystem::remove(dir / "out" / "b.mask.png");
  const auto r = run("--mask --skip-done");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("skipped"), std::string::npos) << "b's mask was missing: made again\n" << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "b.mask.png"));
  std::filesystem::remove(dir / "out" / "a.jpg");
  const auto again = run("--mask --skip-done");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("b.jpg: already made from this input with these settings: skipped"), std::string::npos) << again.output;
  const nlohmann::json rerun = nlohmann::json::parse(read_text(dir / "r.json"));
  ASSERT_EQ(rerun["entries"].size(), 2u) << rerun.dump().substr(0, 400);
  std::set<std::string> inputs;
  for (const auto& e : rerun["entries"]) inputs.insert(std::filesystem::path(e["input"].get<std::string>()).filename().string());
  EXPECT_EQ(inputs, (std::set<std::string>{"a.jpg", "b.jpg"}));
  for (const auto& e : rerun["entries"])
    if (std::filesystem::path(e["input"].get<std::string>()).filename() == "b.jpg") {
      EXPECT_EQ(e["frames"], first["entries"][1]["frames"]);
      EXPECT_TRUE(e.contains("audit"));
    }
  // The file reads as a regions file and audits.
  EXPECT_EQ(run_cli("audit " + quote(dir / "out" / "b.jpg.audit.json")).exit_code, 0);
}
