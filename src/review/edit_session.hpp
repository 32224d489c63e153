#pragma once
// The regions file of one input, opened for review: edits by people (add, delete, move/resize a region,
// apply it to the rest of a track, extend a track, mark frames reviewed), each saved at once with an atomic
// write, each recorded with its reviewer, time and the regions before and after, so that it can be undone
// and so that the file itself is the record of the review. `roadveil render` then renders the edited file.
//
// Several browser tabs may edit at once. Edits name the region they change by its place and its box as the
// tab saw it; an edit whose region has changed meanwhile is refused as a conflict (the tab reloads) instead
// of silently overwriting the other change. Edits of other regions simply both land.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/regions_file.hpp"

namespace roadveil::review {

// An edit that cannot be applied to the file as it is now (another tab changed the region or frame).
class EditConflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An edit that is wrong in itself (a frame outside the video, an empty box, an unknown operation).
class BadEdit : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class EditSession {
 public:
  // Opens `regions_path` and takes the entry for `input` (matched like render does). `frame_timestamps`: the
  // video's frame -> pts table, which places frames that get their first region and checks that the file
  // was written for this video. Throws Error naming the file and the mismatch.
  EditSession(const std::filesystem::path& regions_path, const std::filesystem::path& input,
              std::vector<std::int64_t> frame_timestamps, int width, int height);

  const pipeline::MediaEntryInfo& info() const { return info_; }
  std::int64_t frame_count() const { return static_cast<std::int64_t>(timestamps_.size()); }
  // Grows with every edit (and undo): a tab that sees a new revision reloads what it shows.
  std::int64_t revision() const { return static_cast<std::int64_t>(edits_.size()); }

  // {"frame", "time", "regions": [...], "reviewed": {"by", "at"} or null, "revision"}.
  nlohmann::json frame(std::int64_t index) const;
  // Frames that have regions, and frames marked reviewed (for the timeline).
  nlohmann::json overview() const;
  // The entry as a RegionsEntry (for the review queue).
  pipeline::RegionsEntry entry() const;

  // Applies one edit (JSON from the page, docs/review.md) by `reviewer` and saves the file. Returns
  // {"revision", "frames": [changed frame indices]}. Throws BadEdit, EditConflict or Error (saving failed).
  nlohmann::json apply(const nlohmann::json& edit, const std::string& reviewer,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
  // Undoes `reviewer`'s latest edit that is not undone yet (recorded as an edit of its own).
  nlohmann::json undo(const std::string& reviewer,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

 private:
  struct Change {
    std::int64_t frame;
    nlohmann::json before, after;  // regions arrays
  };
  const nlohmann::json& regions_at(std::int64_t frame) const;
  std::size_t resolve(std::int64_t frame, const nlohmann::json& ref) const;
  std::int64_t checked_frame(const nlohmann::json& edit, const char* key = "frame") const;
  nlohmann::json checked_box(const nlohmann::json& value) const;
  int next_track() const;
  // Frames of `track`'s class `cls` after (forward), before (backward) or on both sides of `frame`.
  std::vector<std::int64_t> track_frames(std::int64_t frame, int track, const std::string& cls,
                                         const std::string& scope) const;
  nlohmann::json commit(nlohmann::json record, std::vector<Change> changes, const std::string& reviewer,
                        std::chrono::system_clock::time_point now);
  void set_regions(std::int64_t frame, nlohmann::json regions);
  void save();

  std::filesystem::path path_;
  nlohmann::json doc_;           // the whole file, other entries included
  std::size_t entry_index_ = 0;
  pipeline::MediaEntryInfo info_;
  std::vector<std::int64_t> timestamps_;
  std::map<std::int64_t, nlohmann::json> frames_;    // frame -> regions array (non-empty)
  std::map<std::int64_t, nlohmann::json> reviewed_;  // frame -> {"by", "at"}
  nlohmann::json edits_ = nlohmann::json::array();
  std::filesystem::file_time_type saved_time_{};
};

}  // namespace roadveil::review
