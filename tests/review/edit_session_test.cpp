// The review editor's model of the regions file: each edit lands in the file at once, with who and when; a
// stale edit is a conflict, not a lost change; undo restores exactly what was there; track edits reach the
// rest of the track and nothing else; and the file stays one that `render` reads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <fstream>

#include "core/error.hpp"
#include "review/edit_session.hpp"
#include "test_util.hpp"

namespace roadveil::review {
namespace {

using nlohmann::json;

const std::vector<std::int64_t> kTimestamps = [] {
  std::vector<std::int64_t> t;
  for (int i = 0; i < 20; ++i) t.push_back(i * 512);
  return t;
}();

// A regions file with a face track 3 on frames 2-6 and a plate (no track) on frame 4.
void write_file(const std::filesystem::path& path, int frame_count = 20) {
  json frames = json::array();
  for (int f = 2; f <= 6; ++f) {
    json regions = json::array({{{"class", "face"}, {"box", {100.0 + f, 50.0, 140.0 + f, 90.0}}, {"score", 0.9}, {"source", "detector"}, {"track", 3}}});
    if (f == 4) regions.push_back({{"class", "plate"}, {"box", {300.0, 200.0, 340.0, 212.0}}, {"score", 0.7}, {"source", "detector"}});
    frames.push_back({{"frame", f}, {"pts", f * 512}, {"time", f * 0.04}, {"regions", regions}});
  }
  const json doc = {{"format", "roadveil-regions"}, {"version", 1},
                    {"entries", {{{"input", "clip.mp4"}, {"output", "out.mp4"}, {"type", "video"}, {"width", 640}, {"height", 360},
                                  {"time_base", {1, 12800}}, {"frame_rate", 25.0}, {"frames", frames},
                                  {"frame_count", frame_count}, {"status", "ok"}}}}};
  std::ofstream(path) << doc.dump();
}

json ref(const EditSession& s, std::int64_t frame, std::size_t index) {
  const json r = s.frame(frame)["regions"][index];
  return {{"index", index}, {"class", r["class"]}, {"box", r["box"]}};
}

class EditSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { write_file(path()); }
  std::filesystem::path path() const { return dir_ / "regions.json"; }
  EditSession open() const { return EditSession(path(), "clip.mp4", kTimestamps, 640, 360); }
  roadveil::testing::TempDir dir_;
};

TEST_F(EditSessionTest, AnAddedBoxIsSavedAtOnceWithReviewerAndTimeAndRenderReadsIt) {
  auto s = open();
  const auto t = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + std::chrono::hours{11};
  const json result = s.apply({{"op", "add"}, {"frame", 10}, {"class", "plate"}, {"box", {10.004, 20, 50, 32}}}, "ana", t);
  EXPECT_EQ(result["revision"], 1);
  EXPECT_EQ(result["frames"], json::array({10}));
  const auto file = pipeline::RegionsFile::read(path());  // the file on disk, as render reads it
  const auto& frames = file.entries().front().frames;
  ASSERT_TRUE(frames.count(10));
  EXPECT_EQ(frames.at(10).front().cls, ObjectClass::Plate);
  EXPECT_EQ(frames.at(10).front().source, RegionSource::Manual);
  EXPECT_FLOAT_EQ(frames.at(10).front().box.x1, 10.0f);
  EXPECT_EQ(frames.at(10).front().track_id, 4) << "a new track, after the file's highest";
  const json doc = json::parse(roadveil::testing::read_text(path()));
  const json& e = doc["entries"][0];
  EXPECT_EQ(e["frames"][5]["pts"], 10 * 512) << "the new frame gets the video's timestamp";
  EXPECT_EQ(e["review"]["edits"][0]["by"], "ana");
  EXPECT_EQ(e["review"]["edits"][0]["at"], "2026-12-02T11:00:00Z");
  EXPECT_EQ(e["status"], "ok") << "the entry's other fields are kept";
  // And a new session reads back the same state and history.
  auto again = open();
  EXPECT_EQ(again.revision(), 1);
  EXPECT_EQ(again.frame(10)["regions"].size(), 1u);
}

TEST_F(EditSessionTest, AStaleEditIsAConflictAndChangesToOtherRegionsBothLand) {
  auto s = open();
  const json face = ref(s, 4, 0), plate = ref(s, 4, 1);
  s.apply({{"op", "delete"}, {"frame", 4}, {"region", plate}}, "tab-a");
  // Tab B still sees the plate at index 1 and the face at 0: moving the face still works (found by its box).
  s.apply({{"op", "update"}, {"frame", 4}, {"region", face}, {"box", {110, 50, 150, 90}}}, "tab-b");
  EXPECT_EQ(s.frame(4)["regions"].size(), 1u);
  EXPECT_EQ(s.frame(4)["regions"][0]["box"], json::array({110.0, 50.0, 150.0, 90.0}));
  // Deleting the plate again, or moving the face from where it was, is refused.
  EXPECT_THROW(s.apply({{"op", "delete"}, {"frame", 4}, {"region", plate}}, "tab-b"), EditConflict);
  EXPECT_THROW(s.apply({{"op", "update"}, {"frame", 4}, {"region", face}, {"box", {0, 0, 10, 10}}}, "tab-a"), EditConflict);
  EXPECT_EQ(s.revision(), 2) << "refused edits are not recorded";
}

TEST_F(EditSessionTest, MovingWithScopeForwardMovesTheRestOfTheTrackOnly) {
  auto s = open();
  s.apply({{"op", "update"}, {"frame", 4}, {"region", ref(s, 4, 0)}, {"box", {114, 60, 154, 100}}, {"scope", "forward"}}, "ana");
  EXPECT_EQ(s.frame(3)["regions"][0]["box"], json::array({103.0, 50.0, 143.0, 90.0})) << "before the frame: unchanged";
  EXPECT_EQ(s.frame(6)["regions"][0]["box"], json::array({116.0, 60.0, 156.0, 100.0})) << "after: moved by the same edges";
  EXPECT_EQ(s.frame(6)["regions"][0]["source"], "manual");
  EXPECT_EQ(s.frame(4)["regions"][1]["class"], "plate") << "another object on the frame is untouched";
  EXPECT_EQ(s.frame(4)["regions"][1]["box"], json::array({300.0, 200.0, 340.0, 212.0}));
}

TEST_F(EditSessionTest, DeletingTheWholeTrackAndUndoingItRestoresEveryFrame) {
  auto s = open();
  const json before = s.overview();
  const json r = s.apply({{"op", "delete"}, {"frame", 3}, {"region", ref(s, 3, 0)}, {"scope", "track"}}, "ana");
  EXPECT_EQ(r["frames"].size(), 5u);
  EXPECT_EQ(s.frame(4)["regions"].size(), 1u) << "the plate stays";
  EXPECT_THROW(s.undo("bob"), BadEdit) << "bob has nothing to undo";
  s.undo("ana");
  EXPECT_EQ(s.overview()["frames_with_regions"], before["frames_with_regions"]);
  EXPECT_EQ(s.frame(2)["regions"][0]["box"], json::array({102.0, 50.0, 142.0, 90.0}));
  EXPECT_THROW(s.undo("ana"), BadEdit) << "an undone edit is not undone twice";
}

// An undo whose save fails leaves the edit as it was, to be undone again. The undo marked the edit through a
// reference into the journal, and the save appends to the journal first: with one edit in it, the append
// moved it, the failed save's clean-up erased the mark through the dangling reference (a use after free) and
// the real edit kept it: not undone in the file, yet "nothing to undo".
TEST_F(EditSessionTest, AnUndoWhoseSaveFailsCanBeDoneAgain) {
  auto s = open();
  s.apply({{"op", "delete"}, {"frame", 4}, {"region", ref(s, 4, 1)}}, "ana");  // the plate: one edit in the journal
  ASSERT_EQ(s.frame(4)["regions"].size(), 1u);
  {
    // Saves fail: no file of more than a few bytes may be written (EFBIG instead of SIGXFSZ).
    struct sigaction ignore {}, previous {};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);
    struct rlimit limit {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &limit), 0);
    const struct rlimit small = {16, limit.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    EXPECT_THROW(s.undo("ana"), Error);
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::sigaction(SIGXFSZ, &previous, nullptr);
  }
  EXPECT_EQ(s.revision(), 1);
  EXPECT_EQ(s.frame(4)["regions"].size(), 1u) << "still deleted";
  s.undo("ana");
  EXPECT_EQ(s.frame(4)["regions"].size(), 2u) << "the plate is back";
  const json saved = json::parse(std::ifstream(path()))["entries"][0]["review"]["edits"];
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0]["undone_by"], 2);
  EXPECT_EQ(saved[1]["op"], "undo");
}

TEST_F(EditSessionTest, UndoRefusesWhenTheFrameChangedSince) {
  auto s = open();
  s.apply({{"op", "add"}, {"frame", 10}, {"class", "face"}, {"box", {10, 10, 50, 50}}}, "ana");
  s.apply({{"op", "add"}, {"frame", 10}, {"class", "face"}, {"box", {60, 10, 90, 50}}}, "bob");
  s.undo("bob");
  s.apply({{"op", "update"}, {"frame", 10}, {"region", ref(s, 10, 0)}, {"box", {12, 10, 50, 50}}}, "bob");
  EXPECT_THROW(s.undo("ana"), EditConflict) << "bob moved ana's box after she added it";
}

TEST_F(EditSessionTest, ExtendCopiesTheBoxWhereTheTrackHasNone) {
  auto s = open();
  s.apply({{"op", "extend"}, {"frame", 2}, {"region", ref(s, 2, 0)}, {"direction", "backward"}, {"frames", 5}}, "ana");
  EXPECT_EQ(s.frame(0)["regions"].size(), 1u) << "stops at the first frame";
  EXPECT_EQ(s.frame(0)["regions"][0]["track"], 3);
  EXPECT_EQ(s.frame(1)["regions"][0]["source"], "manual");
  // Forward from 4 over 3 frames: 5 and 6 have the track already, 7 gets a copy.
  s.apply({{"op", "extend"}, {"frame", 4}, {"region", ref(s, 4, 1)}, {"direction", "forward"}, {"frames", 3}}, "ana");
  EXPECT_EQ(s.frame(7)["regions"].size(), 1u);
  EXPECT_EQ(s.frame(7)["regions"][0]["class"], "plate");
  EXPECT_GE(s.frame(4)["regions"][1]["track"].get<int>(), 4) << "the untracked plate got a track for its copies";
}

TEST_F(EditSessionTest, ReviewMarksAreRecordedAndUndone) {
  auto s = open();
  s.apply({{"op", "reviewed"}, {"frame", 5}, {"through", 8}}, "ana");
  EXPECT_EQ(s.frame(6)["reviewed"]["by"], "ana");
  EXPECT_EQ(s.overview()["reviewed"], json::array({5, 6, 7, 8}));
  s.undo("ana");
  EXPECT_TRUE(s.frame(6)["reviewed"].is_null());
}

TEST_F(EditSessionTest, BadEditsAreRefusedWithTheReason) {
  auto s = open();
  EXPECT_THROW(s.apply({{"op", "add"}, {"frame", 20}, {"class", "face"}, {"box", {0, 0, 9, 9}}}, "ana"), BadEdit);
  EXPECT_THROW(s.apply({{"op", "add"}, {"frame", 1}, {"class", "car"}, {"box", {0, 0, 9, 9}}}, "ana"), BadEdit);
  EXPECT_THROW(s.apply({{"op", "add"}, {"frame", 1}, {"class", "face"}, {"box", {700, 0, 900, 9}}}, "ana"), BadEdit) << "outside the frame";
  EXPECT_THROW(s.apply({{"op", "add"}, {"frame", 1}, {"class", "face"}, {"box", {0, 0, 9, 9}}}, ""), BadEdit) << "no reviewer";
  EXPECT_THROW(s.apply({{"op", "paint"}, {"frame", 1}}, "ana"), BadEdit);
  // Regression: "frames" came from the browser and was cast to int as it was (1e300: undefined behaviour).
  for (const json& frames : {json(1e300), json(2.5), json("7"), json(0), json(100001)})
    EXPECT_THROW(s.apply({{"op", "extend"}, {"frame", 2}, {"region", ref(s, 2, 0)}, {"direction", "forward"}, {"frames", frames}}, "ana"),
                 BadEdit) << frames;
  EXPECT_EQ(s.revision(), 0);
}

// Regression: the review journal is not checked by RegionsFile::read; a frame number no integer holds was
// cast as it was (1e300: undefined behaviour) and "7" ended the review server as an internal error.
TEST_F(EditSessionTest, AMalformedReviewJournalNamesTheFile) {
  for (const json& frame : {json(1e300), json("7")}) {
    json doc = json::parse(std::ifstream(path()));
    doc["entries"][0]["review"] = {{"reviewed", {{{"frame", frame}, {"by", "ana"}}}}};
    std::ofstream(path()) << doc.dump();
    try {
      (void)open();
      FAIL() << "accepted " << frame;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path().string() + ": its review's \"reviewed\" list is malformed"), std::string::npos) << e.what();
    }
  }
}

TEST_F(EditSessionTest, AFileOfAnotherVideoIsRefused) {
  auto expect_refused = [&](std::vector<std::int64_t> timestamps, int w, int h, const std::string& what) {
    try {
      EditSession(path(), "clip.mp4", std::move(timestamps), w, h);
      FAIL() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("was written for another video"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_refused(kTimestamps, 1280, 720, "640x360");
  expect_refused({kTimestamps.begin(), kTimestamps.begin() + 10}, 640, 360, "lists 20 frames");
  auto shifted = kTimestamps;
  for (auto& t : shifted) t += 1;
  expect_refused(shifted, 640, 360, "frame 2 has timestamp 1024");
}

// A regions file reached through a symbolic link is edited where it is, and keeps its permissions: the link
// was replaced by a file of its own (mode 644), and `render` of the shared file went without the review.
TEST_F(EditSessionTest, ARegionsFileBehindALinkIsEditedWhereItIsAndKeepsItsPermissions) {
  const std::filesystem::path shared = dir_ / "shared" / "regions.json", link = dir_ / "link.json";
  std::filesystem::create_directories(shared.parent_path());
  std::filesystem::rename(path(), shared);
  std::filesystem::permissions(shared, std::filesystem::perms(0664));
  std::filesystem::create_symlink(shared, link);
  EditSession s(link, "clip.mp4", kTimestamps, 640, 360);
  s.apply({{"op", "add"}, {"frame", 10}, {"class", "face"}, {"box", {10, 10, 50, 50}}}, "ana");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(std::filesystem::status(shared).permissions(), std::filesystem::perms(0664));
  EXPECT_EQ(EditSession(shared, "clip.mp4", kTimestamps, 640, 360).frame(10)["regions"].size(), 1u);
  s.undo("ana");  // the session goes on through the link
  EXPECT_EQ(EditSession(link, "clip.mp4", kTimestamps, 640, 360).frame(10)["regions"].size(), 0u);
}

TEST_F(EditSessionTest, AFileChangedByAnotherProgramIsNotOverwritten) {
  auto s = open();
  std::filesystem::last_write_time(path(), std::filesystem::last_write_time(path()) + std::chrono::seconds(5));
  EXPECT_THROW(s.apply({{"op", "add"}, {"frame", 1}, {"class", "face"}, {"box", {0, 0, 9, 9}}}, "ana"), Error);
  EXPECT_EQ(s.frame(1)["regions"].size(), 0u) << "memory stays as the file is";
}

// A regions file of a run with a model of one's own (#15): its class can be added, moved and rendered like a
// face or a plate; a class nobody defined is refused with the ones that exist.
TEST_F(EditSessionTest, ABoxOfAClassOfOnesOwnCanBeAddedAndAnUnknownClassIsRefusedWithTheKnownOnes) {
  json doc = json::parse(roadveil::testing::read_text(path()));
  doc["entries"][0]["frames"][0]["regions"].push_back(
      {{"class", "licence-disc"}, {"box", {10, 10, 30, 30}}, {"score", 0.8}, {"source", "detector"}, {"track", 7}});
  std::ofstream(path()) << doc.dump();
  auto s = open();
  const auto t = std::chrono::sys_days{std::chrono::year{2026} / 12 / 3};
  s.apply({{"op", "add"}, {"frame", 9}, {"class", "licence-disc"}, {"box", {50, 50, 80, 70}}}, "ana", t);
  const auto file = pipeline::RegionsFile::read(path());
  ASSERT_TRUE(file.entries().front().frames.count(9));
  EXPECT_EQ(to_string(file.entries().front().frames.at(9).front().cls), "licence-disc");
  try {
    s.apply({{"op", "add"}, {"frame", 9}, {"class", "kiosk"}, {"box", {50, 50, 80, 70}}}, "ana", t);
    ADD_FAILURE() << "an unknown class was accepted";
  } catch (const BadEdit& e) {
    EXPECT_NE(std::string(e.what()).find("one of face, plate"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("licence-disc"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace roadveil::review
