// The review summary an audit record carries (docs/audit.md): what the review's standing edits changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/audit_record.hpp"

using nlohmann::json;

namespace {
json face(int x) { return {{"class", "face"}, {"box", {x, 0, x + 10, 10}}}; }
json plate(int x) { return {{"class", "plate"}, {"box", {x, 0, x + 10, 5}}}; }
}  // namespace

// Regression (review of the review loop): frames changed were summed per edit, undone edits and undo records
// too (two whole-track deletes on a 50-frame clip: 100 "frames changed"), and what a review took out was not
// said at all.
TEST(ReviewSummary, CountsDistinctFramesOfStandingEditsAndTheRegionsTheyAddedAndRemoved) {
  const json review = {
      {"reviewed", {{{"frame", 1}, {"by", "ana"}}}},
      {"edits",
       {// A track deleted on frames 0-2, then another region of frame 1 deleted.
        {{"op", "delete"}, {"by", "ana"}, {"changes", {{{"frame", 0}, {"before", {face(0)}}, {"after", json::array()}},
                                                       {{"frame", 1}, {"before", {face(0), face(50)}}, {"after", {face(50)}}},
                                                       {{"frame", 2}, {"before", {face(0)}}, {"after", json::array()}}}}},
        {{"op", "delete"}, {"by", "ana"}, {"changes", {{{"frame", 1}, {"before", {face(50)}}, {"after", json::array()}}}}},
        // A plate added on frame 5 and undone: neither counts.
        {{"op", "add"}, {"by", "bo"}, {"undone_by", 4}, {"changes", {{{"frame", 5}, {"before", json::array()}, {"after", {plate(0)}}}}}},
        {{"op", "undo"}, {"by", "bo"}, {"changes", {{{"frame", 5}, {"before", {plate(0)}}, {"after", json::array()}}}}},
        // A plate added on frame 7.
        {{"op", "add"}, {"by", "bo"}, {"changes", {{{"frame", 7}, {"before", json::array()}, {"after", {plate(3)}}}}}}}}};
  const json s = roadveil::pipeline::review_summary(review);
  EXPECT_EQ(s["edits"], 5);
  EXPECT_EQ(s["undone"], 1);
  EXPECT_EQ(s["frames_changed"], 4) << s.dump();  // 0, 1, 2, 7
  EXPECT_EQ(s["regions_removed"], (json{{"face", 4}})) << s.dump();
  EXPECT_EQ(s["regions_added"], (json{{"plate", 1}})) << s.dump();
  EXPECT_EQ(s["frames_reviewed"], 1);
}
