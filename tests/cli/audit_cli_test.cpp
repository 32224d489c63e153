// Audit records (issue #13 part 4): every output gets OUTPUT.audit.json with the hashes, models, settings and
// counts; `roadveil audit` passes on the untouched files and fails, naming the check, when the output's
// bytes change, when the rendered regions file changes, and when a regions file claims a region that the
// output does not hide. verify adds its result to the record; render carries the review of its regions file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "json_file.hpp"
#include "test_util.hpp"

using namespace roadveil::testing;
using nlohmann::json;

namespace {
void write_json(const std::filesystem::path& p, const json& j) { std::ofstream(p) << j.dump(); }

class Audit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new TempDir;
    make_anonymized_street_clip(dir->path(), kCli);
  }
  static void TearDownTestSuite() {
    delete dir;
    dir = nullptr;
  }
  static CommandResult audit(const std::filesystem::path& record, const std::string& extra = "") {
    return run_cli("audit " + quote(record) + " " + extra);
  }
  // Audits the run's record with its regions file replaced by `regions` (written as NAME.json, the record as
  // NAME.audit.json): a regions file changed since the run.
  static CommandResult audit_with_regions(const json& regions, const std::string& name, const std::string& extra = "") {
    write_json(*dir / (name + ".json"), regions);
    json rec = read_json(*dir / "out.mp4.audit.json");
    rec["regions_file"]["path"] = (*dir / (name + ".json")).string();
    write_json(*dir / (name + ".audit.json"), rec);
    return audit(*dir / (name + ".audit.json"), extra);
  }
  static TempDir* dir;
};
TempDir* Audit::dir = nullptr;

TEST_F(Audit, TheRecordBesideTheOutputSaysWhatWentInAndCameOut) {
  const json rec = read_json(*dir / "out.mp4.audit.json");
  EXPECT_EQ(rec["format"], "roadveil-audit");
  EXPECT_EQ(rec["command"], "anonymize");
  EXPECT_EQ(rec["input"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(rec["output"]["frame_count"], 10);
  EXPECT_EQ(rec["input"]["frame_count"], 10);
  EXPECT_NEAR(rec["output"]["duration"].get<double>(), 1.0, 0.05);
  EXPECT_EQ(rec["output"]["size"], std::filesystem::file_size(*dir / "out.mp4"));
  EXPECT_GE(rec["models"].size(), 3u) << rec["models"].dump();
  for (const auto& m : rec["models"]) EXPECT_EQ(m["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(rec["settings"]["quality"], "balanced");
  EXPECT_EQ(rec["settings"]["face_style"]["style"], "mosaic");
  EXPECT_GT(rec["regions"]["by_class"]["face"].get<int>(), 10) << "several faces on 10 frames";
  EXPECT_TRUE(rec["regions"]["by_source"].is_object());
  // The regions file's entry carries the same record.
  const json regions = read_json(*dir / "regions.json");
  EXPECT_EQ(regions["entries"][0]["audit"]["output"]["sha256"], rec["output"]["sha256"]);
}

TEST_F(Audit, PassesOnTheUntouchedFilesAndReproducesTheHiddenArea) {
  const auto r = audit(*dir / "out.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("PASSED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hidden regions reproduced"), std::string::npos) << r.output;
  // The output itself may be named instead of its record.
  EXPECT_EQ(audit(*dir / "out.mp4").exit_code, 0);
}

TEST_F(Audit, AChangedOutputFailsItsHash) {
  std::filesystem::copy_file(*dir / "out.mp4", *dir / "changed.mp4");
  json rec = read_json(*dir / "out.mp4.audit.json");
  rec["output"]["path"] = (*dir / "changed.mp4").string();
  write_json(*dir / "changed.mp4.audit.json", rec);
  { std::ofstream(*dir / "changed.mp4", std::ios::app) << "x"; }
  const auto r = audit(*dir / "changed.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  output"), std::string::npos) << r.output;
}

// audit OUTPUT hashed the file at the path the record names, not the one named: an archive holding the
// unredacted original under the output's name, beside the output's record, PASSED. And where a moved tree
// left only the output beside the record, the output was taken for the input of the same name.
TEST_F(Audit, TheFileNamedIsTheOneChecked) {
  const std::filesystem::path archive = *dir / "archive";
  std::filesystem::create_directories(archive);
  std::filesystem::copy_file(*dir / "out.mp4.audit.json", archive / "out.mp4.audit.json");
  std::filesystem::copy_file(*dir / "in.mp4", archive / "out.mp4");  // the original, under the output's name
  auto r = audit(archive / "out.mp4");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  output: " + (archive / "out.mp4").string() + ": SHA-256 is"), std::string::npos) << r.output;
  // The real output there passes its hash.
  std::filesystem::copy_file(*dir / "out.mp4", archive / "out.mp4", std::filesystem::copy_options::overwrite_existing);
  r = audit(archive / "out.mp4", "--no-rerender");
  EXPECT_NE(r.output.find("ok      output: " + (archive / "out.mp4").string()), std::string::npos) << r.output;
  // A record whose input went away, beside an output of the input's name: the input is not found, not mismatched.
  const std::filesystem::path moved = *dir / "moved";
  std::filesystem::create_directories(moved);
  json rec = read_json(*dir / "out.mp4.audit.json");
  rec["input"]["path"] = "gone/out.mp4";
  rec.erase("cwd");
  write_json(moved / "out.mp4.audit.json", rec);
  std::filesystem::copy_file(*dir / "out.mp4", moved / "out.mp4");
  r = audit(moved / "out.mp4", "--no-rerender");
  EXPECT_NE(r.output.find("FAILED  input: gone/out.mp4: not found (audit --input PATH says where it is now)"), std::string::npos) << r.output;
}

TEST_F(Audit, ARegionTheOutputDoesNotHideIsFound) {
  // A regions file that claims a face region on frame 3 where the output shows the picture.
  json regions = read_json(*dir / "regions.json");
  json& frames = regions["entries"][0]["frames"];
  json extra = {{"class", "face"}, {"box", {20, 200, 140, 330}}, {"score", 1.0}, {"source", "manual"}};
  bool placed = false;
  for (auto& f : frames)
    if (f["frame"] == 3) f["regions"].push_back(extra), placed = true;
  if (!placed) frames.push_back({{"frame", 3}, {"pts", 3 * 1280}, {"regions", {extra}}});
  const auto r = audit_with_regions(regions, "claimed");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("first not reproduced: frame 3, face at 20,200"), std::string::npos) << r.output;
}

// A regions file the run wrote, with every region taken out: re-rendering it "reproduced 0 of 0 hidden
// regions" and the audit PASSED. Unreviewed, it must list what the record says the run hid.
TEST_F(Audit, ARegionsFileEmptiedSinceTheRunFails) {
  json regions = read_json(*dir / "regions.json");
  for (auto& f : regions["entries"][0]["frames"]) f["regions"] = json::array();
  auto r = audit_with_regions(regions, "emptied");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  regions file counts: " + (*dir / "emptied.json").string() + " was changed since the run: face: 0 listed, the run hid"),
            std::string::npos) << r.output;
  // The run's own file counts as it was written.
  EXPECT_NE(audit(*dir / "out.mp4.audit.json").output.find("ok      regions file counts: as many regions"), std::string::npos);
  // Regression (review of the review loop): any "review" in the entry skipped the check, so an emptied file
  // with an empty review PASSED. A review's journal says what each edit changed; the counts must follow it.
  regions["entries"][0]["review"] = {{"reviewed", json::array()}, {"edits", json::array()}};
  r = audit_with_regions(regions, "emptied");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("was changed since the run, not only by its review's edits: face: 0 listed"), std::string::npos) << r.output;
  // A review that deleted the regions of one frame, as the editor records it: the counts follow.
  json reviewed = read_json(*dir / "regions.json");
  json& first = reviewed["entries"][0]["frames"][0];
  reviewed["entries"][0]["review"] = {
      {"reviewed", json::array()},
      {"edits", {{{"op", "delete"}, {"by", "ana"}, {"changes", {{{"frame", first["frame"]}, {"before", first["regions"]}, {"after", json::array()}}}}}}}};
  first["regions"] = json::array();
  r = audit_with_regions(reviewed, "emptied");
  EXPECT_NE(r.output.find("ok      regions file counts: as many regions of each class, on as many frames, as the run hid and its review's 1 edit(s) changed"),
            std::string::npos) << r.output;
  // The run's output still hides what the review took out: not "something the file does not list" (a review
  // of this diff found a reviewed, untouched output failing the hidden-area check).
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok      hidden area"), std::string::npos) << r.output;
}

// From the exploratory test of 2026-12-07: a small region moved in the regions file (a head's box put on another
// place) kept every count, and lay under fewer 16 px blocks than the outside test counts: audit PASSED, and a
// render of that file showed the head. The record keeps the digest of the regions as the run wrote them; the
// file's regions, its review's edits undone, must be those.
TEST_F(Audit, ARegionMovedInTheRegionsFileFails) {
  const json written = read_json(*dir / "regions.json");
  const std::string digest = read_json(*dir / "out.mp4.audit.json")["regions_file"].value("regions_sha256", "");
  ASSERT_EQ(digest.size(), 64u) << "the record keeps the digest of the regions written";
  EXPECT_EQ(written["entries"][0]["audit"]["regions_file"]["regions_sha256"], digest) << "and so does the entry's copy";
  auto r = audit(*dir / "out.mp4.audit.json");
  EXPECT_NE(r.output.find("ok      regions as written: the regions listed are those the run wrote"), std::string::npos) << r.output;

  // The smallest region, moved by its own width: the same counts, on the same frames.
  json moved = written;
  json* smallest = nullptr;
  double least = 1e18;
  for (auto& f : moved["entries"][0]["frames"])
    for (auto& region : f["regions"]) {
      const auto& b = region["box"];
      const double area = (b[2].get<double>() - b[0].get<double>()) * (b[3].get<double>() - b[1].get<double>());
      if (area < least) least = area, smallest = &region;
    }
  ASSERT_NE(smallest, nullptr);
  const json before = *smallest;
  json& b = (*smallest)["box"];
  const double w = b[2].get<double>() - b[0].get<double>();
  const double dx = b[0].get<double>() >= w ? -w : w;  // stays in the frame
  b = json::array({b[0].get<double>() + dx, b[1], b[2].get<double>() + dx, b[3]});
  r = audit_with_regions(moved, "region_moved");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("ok      regions file counts"), std::string::npos) << "the counts cannot see it: " << r.output;
  EXPECT_NE(r.output.find("FAILED  regions as written: " + (*dir / "region_moved.json").string() +
                          " was changed since the run: the regions it lists are not those the run wrote"),
            std::string::npos) << r.output;

  // The same move made by the review, as the editor records it (the frame's regions before and after): passes.
  json reviewed = moved;
  for (auto& f : reviewed["entries"][0]["frames"])
    for (std::size_t i = 0; i < f["regions"].size(); ++i)
      if (f["regions"][i]["box"] == (*smallest)["box"]) {
        json before_regions = f["regions"];
        before_regions[i] = before;
        reviewed["entries"][0]["review"] = {
            {"reviewed", json::array()},
            {"edits", {{{"op", "update"}, {"id", 1}, {"by", "ana"}, {"changes", {{{"frame", f["frame"]}, {"before", before_regions}, {"after", f["regions"]}}}}}}}};
      }
  ASSERT_TRUE(reviewed["entries"][0].contains("review"));
  r = audit_with_regions(reviewed, "region_moved");
  EXPECT_NE(r.output.find("ok      regions as written: the regions listed, its review's 1 edit(s) undone, are those the run wrote"),
            std::string::npos) << r.output;
  // A frame the review changed, changed again by other means: undoing the edit would put its "before" over that
  // change (the digest alone passed it, in this stop's first version).
  json after_review = reviewed;
  for (auto& f : after_review["entries"][0]["frames"])
    for (auto& region : f["regions"])
      if (region["box"] == (*smallest)["box"])
        for (const int k : {1, 3}) region["box"][k] = region["box"][k].get<double>() + 2;  // 2 px lower
  r = audit_with_regions(after_review, "region_moved");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("was changed since the run, not only by its review's edits: frame "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" does not list what review edit 1 left there"), std::string::npos) << r.output;
  // The digest taken out of (or mangled in) a record of the format that keeps it fails, as a clear check (a
  // null one ended the record with "a value has the wrong type", exit 1); a record of format 1 had none.
  for (const std::string how : {"removed", "null", "a number"}) {
    SCOPED_TRACE(how);
    json rec = read_json(*dir / "out.mp4.audit.json");
    if (how == "removed") rec["regions_file"].erase("regions_sha256");
    else rec["regions_file"]["regions_sha256"] = how == "null" ? json(nullptr) : json(123);
    write_json(*dir / "stripped.mp4.audit.json", rec);
    std::filesystem::copy_file(*dir / "out.mp4", *dir / "stripped.mp4", std::filesystem::copy_options::overwrite_existing);
    r = audit(*dir / "stripped.mp4.audit.json", "--no-rerender");
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_NE(r.output.find("FAILED  regions as written: the record (format 2) has no digest of the regions its run wrote"), std::string::npos) << r.output;
    rec["version"] = 1;
    write_json(*dir / "stripped.mp4.audit.json", rec);
    r = audit(*dir / "stripped.mp4.audit.json", "--no-rerender");
    if (how == "removed") {
      EXPECT_EQ(r.exit_code, 0) << r.output;
      EXPECT_NE(r.output.find("skipped regions as written: the record keeps no digest"), std::string::npos) << r.output;
    } else {
      EXPECT_EQ(r.exit_code, 4) << "a digest that is no digest: " << r.output;
    }
  }
  // Scores and track numbers change nothing hidden (a review renumbers tracks): not part of the digest.
  json renumbered = written;
  for (auto& f : renumbered["entries"][0]["frames"])
    for (auto& region : f["regions"]) region["track"] = 1000, region["score"] = 0.5;
  r = audit_with_regions(renumbered, "renumbered", "--no-rerender");
  EXPECT_NE(r.output.find("ok      regions as written"), std::string::npos) << r.output;
}

// Exploratory test (2026-12-07): a regions file without the input's entry PASSED with the hidden area "skipped",
// and one whose only entry was another input's (a later run wrote the same --detections file) PASSED with that
// input's regions "reproduced". The run wrote an entry for this input; without it nothing is proven.
TEST_F(Audit, ARegionsFileWithoutThisInputsEntryFails) {
  json regions = read_json(*dir / "regions.json");
  json none = regions;
  none["entries"] = json::array();
  auto r = audit_with_regions(none, "no_entry");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  regions entry: " + (*dir / "no_entry.json").string() + " has no entry for the input"),
            std::string::npos) << r.output;
  json other = regions;
  other["entries"][0]["input"] = "elsewhere/other.mp4";
  other["entries"][0]["audit"]["input"]["sha256"] = std::string(64, 'a');
  r = audit_with_regions(other, "other_entry");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("was made from another file (SHA-256 " + std::string(64, 'a') + ")"), std::string::npos) << r.output;
}

// Exploratory test (2026-12-07): an output replaced by its input, with the record's output hash edited to the
// input's, PASSED where the hidden area could not be re-rendered. A record that says regions were hidden
// cannot describe an output that is its input byte for byte.
TEST_F(Audit, AnOutputThatIsItsInputFailsWhateverItsRecordSays) {
  std::filesystem::copy_file(*dir / "in.mp4", *dir / "same.mp4", std::filesystem::copy_options::overwrite_existing);
  json rec = read_json(*dir / "out.mp4.audit.json");
  const json input = rec["input"];
  rec["output"]["sha256"] = input["sha256"];
  rec["output"]["size"] = input["size"];
  rec.erase("regions_file");
  write_json(*dir / "same.mp4.audit.json", rec);
  const auto r = audit(*dir / "same.mp4.audit.json", "--input " + quote(*dir / "in.mp4"));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  output differs from the input: " + (*dir / "same.mp4").string() + " is "), std::string::npos) << r.output;
  EXPECT_NE(audit(*dir / "out.mp4.audit.json").output.find("ok      output differs from the input: yes"), std::string::npos);
}

// From a read-only review: regions shrunk or emptied in place (their count kept) passed, the re-render
// reproducing "0 of 0" regions, and a render of that file gave back the input. The output's hidden pixels
// away from every listed region now fail the hidden-area check.
TEST_F(Audit, RegionsShrunkOrEmptiedInPlaceFail) {
  for (const bool emptied : {true, false}) {
    SCOPED_TRACE(emptied ? "emptied" : "shrunk to 6x6");
    json regions = read_json(*dir / "regions.json");
    for (auto& f : regions["entries"][0]["frames"])
      for (auto& r : f["regions"]) {
        const auto b = r["box"];
        const double cx = (b[0].get<double>() + b[2].get<double>()) / 2, cy = (b[1].get<double>() + b[3].get<double>()) / 2;
        r["box"] = emptied ? json::array({0, 0, 0, 0}) : json::array({cx - 3, cy - 3, cx + 3, cy + 3});
      }
    const auto r = audit_with_regions(regions, "inplace");
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_NE(r.output.find("the output hides what the regions file does not list"), std::string::npos) << r.output;
  }
  const auto untouched = audit(*dir / "out.mp4.audit.json");
  EXPECT_EQ(untouched.exit_code, 0) << untouched.output;
}

// From the same review: a render's record could be edited (counts, the review it claims) and still pass; both
// are the rendered regions file's, whose digest the record holds, and are compared with it now.
TEST_F(Audit, ARendersRecordEditedAfterwardsFails) {
  auto r = run_command(kCli + " render -q --regions " + quote(*dir / "regions.json") + " " + quote(*dir / "in.mp4") + " -o " +
                       quote(*dir / "edited.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json rec = read_json(*dir / "edited.mp4.audit.json");
  r = audit(*dir / "edited.mp4.audit.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok      review: none recorded, none in the regions file"), std::string::npos) << r.output;
  json counts = rec;
  counts["regions"]["by_class"]["face"] = 5;
  write_json(*dir / "edited.mp4.audit.json", counts);
  r = audit(*dir / "edited.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  regions file counts: the record's counts are not those of the regions file rendered"), std::string::npos) << r.output;
  json review = rec;
  review["review"] = {{"frames_reviewed", 12}, {"reviewers", {{{"name", "ana"}}}}};
  write_json(*dir / "edited.mp4.audit.json", review);
  r = audit(*dir / "edited.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  review: the record's review summary is not that of the regions file's journal"), std::string::npos) << r.output;
}

// From the same review: a regions file that no longer reads, or a record that is missing, ended the command
// with one message: the other records went unchecked and no --json report was written. Each is a failed record
// now, the others checked, the report written.
TEST_F(Audit, AnUnreadableRecordOrRegionsFileDoesNotStopTheOthers) {
  json regions = read_json(*dir / "regions.json");
  regions["entries"][0]["frames"][0]["regions"][0]["box"] = {1, 2, 3};
  json typed = read_json(*dir / "out.mp4.audit.json");
  typed["regions"]["by_class"] = "x";  // a value of the wrong type: an internal error ended the command
  write_json(*dir / "typed.audit.json", typed);
  const auto r = audit_with_regions(regions, "broken", quote(*dir / "missing.audit.json") + " " + quote(*dir / "typed.audit.json") + " " +
                                                           quote(*dir / "out.mp4.audit.json") + " --json " + quote(*dir / "report.json"));
  // A record read whose check failed outweighs the ones that could not be read (2026-12-07: exit 1 hid the
  // failure from a script); records that only could not be read still exit 1.
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_EQ(audit(*dir / "missing.audit.json", quote(*dir / "out.mp4.audit.json")).exit_code, 1);
  EXPECT_NE(r.output.find("FAILED  regions file contents: " + (*dir / "broken.json").string()), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  const json report = read_json(*dir / "report.json");
  ASSERT_EQ(report["records"].size(), 4u);
  EXPECT_FALSE(report["records"][0]["passed"].get<bool>());
  EXPECT_FALSE(report["records"][1]["passed"].get<bool>());
  EXPECT_FALSE(report["records"][2]["passed"].get<bool>());
  EXPECT_TRUE(report["records"][3]["passed"].get<bool>());
}

// The faces on a video's cover art are hidden and counted in the record, but the regions file lists frames
// only: the count check failed an untouched output ("face: 10 listed, the run hid 27"). The record says
// what was on attached pictures, and the check leaves it out.
TEST_F(Audit, CoverArtRegionsAreCountedApartFromTheFrames) {
  const auto in = *dir / "cover_in.mp4";
  ffmpeg_make("-f lavfi -t 1 -i testsrc=s=320x240:r=10 -i " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg") +
              " -map 0 -map 1 -c:v:0 libx264 -c:v:1 mjpeg -disposition:v:1 attached_pic " + quote(in));
  const auto r = run_cli("anonymize -q " + quote(in) + " -o " + quote(*dir / "cover_out.mkv") + " --detections " +
                         quote(*dir / "cover.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json rec = read_json(*dir / "cover_out.mkv.audit.json");
  EXPECT_GT(rec["regions"]["on_attached_pictures"]["by_class"]["face"].get<int>(), 3) << rec["regions"].dump();
  const auto a = audit(*dir / "cover_out.mkv.audit.json");
  EXPECT_EQ(a.exit_code, 0) << a.output;
  EXPECT_NE(a.output.find("ok      regions file counts"), std::string::npos) << a.output;
}

TEST_F(Audit, RenderRecordsTheRegionsFileAndItsReviewAndVerifyAddsItsResult) {
  json regions = read_json(*dir / "regions.json");
  regions["entries"][0]["review"] = {{"reviewed", {{{"frame", 2}, {"by", "ana"}, {"at", "2026-12-02T11:00:00Z"}}}},
                                     {"edits", json::array()}};
  write_json(*dir / "reviewed.json", regions);
  auto r = run_command(kCli + " render -q --regions " + quote(*dir / "reviewed.json") + " " + quote(*dir / "in.mp4") +
                       " -o " + quote(*dir / "rendered.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json rec = read_json(*dir / "rendered.mp4.audit.json");
  EXPECT_EQ(rec["command"], "render");
  EXPECT_EQ(rec["models"].size(), 0u);
  EXPECT_EQ(rec["regions_file"]["role"], "rendered");
  EXPECT_EQ(rec["review"]["frames_reviewed"], 1);
  EXPECT_EQ(rec["review"]["reviewers"][0]["name"], "ana");
  r = audit(*dir / "rendered.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;

  r = run_cli("verify -q " + quote(*dir / "rendered.mp4") + " --regions " + quote(*dir / "reviewed.json") + " --every 5");
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4) << r.output;
  rec = read_json(*dir / "rendered.mp4.audit.json");
  ASSERT_TRUE(rec["verify"].is_object()) << rec.dump();
  EXPECT_EQ(rec["verify"]["frames_checked"], 2);
  EXPECT_EQ(rec["verify"]["found"].get<int>(), (r.exit_code == 4) ? rec["verify"]["found"].get<int>() : 0);

  // Editing the rendered regions file afterwards breaks the record's evidence.
  regions["entries"][0]["frames"] = json::array();
  write_json(*dir / "reviewed.json", regions);
  r = audit(*dir / "rendered.mp4.audit.json");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("FAILED  regions file"), std::string::npos) << r.output;
}

TEST_F(Audit, NoAuditWritesNoRecordAndTheRecordCollidesWithNoOtherFile) {
  const auto r = run_cli("anonymize -q --no-audit " + quote(*dir / "in.mp4") + " -o " + quote(*dir / "plain.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(*dir / "plain.mp4.audit.json"));
  // A run whose detections file would be an output's audit record is refused before anything is written.
  const auto refused = run_cli("anonymize -q " + quote(*dir / "in.mp4") + " -o " + quote(*dir / "o.mp4") + " --detections " +
                               quote(*dir / "o.mp4.audit.json"));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("is the audit record"), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(*dir / "o.mp4"));
}

}  // namespace
