#pragma once
// The detections file: for each input and each frame, the regions that were hidden. Written as it goes
// (one frame per line, so hour-long videos keep constant memory and a person can read and edit it), read
// back by `render --regions` to render exactly what it says. Format: docs/regions-file.md.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/region.hpp"
#include "core/sha256.hpp"
#include "core/temporary_file.hpp"

namespace roadveil::pipeline {

struct MediaEntryInfo {
  std::filesystem::path input, output;
  bool video = true;
  int width = 0, height = 0;
  int time_base_num = 1, time_base_den = 1;
  double frame_rate = 0;
  std::int64_t frame_count = 0;  // frames of the input (0: unknown, a file written before version 0.2)
  // The size of the input file the run read, as the entry's audit record says (-1: not recorded).
  std::int64_t input_bytes = -1;
};

// Rounds boxes to the precision the regions file keeps (1/100 px), so that what a run hides is exactly what
// its file says: `render --regions` reproduces the pixels and `verify` finds the same mosaic grid.
void round_to_file_precision(Regions& regions);

// What an entry's regions hide, as a SHA-256: each region's frame, class, source and box (in the file's
// 1/100 px), in frame order; frames without regions, scores and track numbers are left out (they change
// nothing that is hidden, and a review renumbers tracks). The audit record of a run that writes a regions
// file keeps the digest of what it wrote, so that `roadveil audit` tells the file as the run wrote it (and as
// its review's journal changed it since) from a file changed by other means: a region moved onto another
// place keeps every count, and where it is small the output's pixels cannot tell either.
class RegionsDigest {
 public:
  // Frames in ascending order, each once.
  void add(std::int64_t frame, const Regions& regions) { const std::string t = text(frame, regions); sha256_.update(t.data(), t.size()); }
  // What is digested of one frame: a line a region.
  static std::string text(std::int64_t frame, const Regions& regions);
  std::string hex() { return sha256_.hex(); }  // finishes it

 private:
  Sha256 sha256_;
};
std::string regions_digest(const std::map<std::int64_t, Regions>& frames);

// One region as the file (and a review's journal) writes it; `fail` makes the Error thrown for a malformed one,
// naming where it is.
Region region_from_json(const nlohmann::json& region, const std::function<Error(const std::string&)>& fail);

// One entry as the file keeps it: its fields on one line, then its review's edits and its frames one a line.
void write_regions_entry(std::ostream& out, nlohmann::json entry);

class RegionsWriter {
 public:
  explicit RegionsWriter(const std::filesystem::path& path);  // writes beside it, renamed by close()
  ~RegionsWriter();
  void begin(const MediaEntryInfo& info);
  // Frames without regions are not written: a missing frame means nothing was hidden in it.
  void frame(std::int64_t index, std::int64_t pts, const Regions& regions);
  void end(const std::string& status, std::int64_t frame_count);
  // Ends the entry begun for a file that then failed (nothing when none is open), so that one failing file
  // of a folder run leaves the file valid: its entry says "failed: ERROR".
  void fail(const std::string& error, std::int64_t frames_done);
  // Adds the audit record of the entry just ended (its output is hashed only once it is complete).
  void attach_audit(const std::string& record_json);
  // The RegionsDigest of the regions of the entry last ended ("" before one has).
  const std::string& entry_digest() const { return entry_digest_; }
  // Writes an entry of an earlier file as it was (a file a --skip-done rerun skipped keeps its regions, audit
  // record and review in the file the rerun writes over the earlier one).
  void copy_entry(const nlohmann::json& entry);
  // Moves the file into place; without any entry begun, writes nothing and leaves a file of that name alone.
  void close();

 private:
  void finish_entry();

  std::filesystem::path path_;
  TemporaryFile temp_;
  std::ofstream out_;
  int time_base_num_ = 1, time_base_den_ = 1;
  bool any_entry_ = false, any_frame_ = false, closed_ = false, entry_open_ = false;
  bool entry_unclosed_ = false;  // ended, its closing brace not written yet (an audit record may follow)
  std::optional<RegionsDigest> digest_;  // of the open entry
  std::string entry_digest_;
};

struct RegionsEntry {
  MediaEntryInfo info;
  std::string input_sha256;  // of the input file the run read, as the entry's audit record says ("": not recorded)
  std::string output_sha256;  // of the output it wrote, the same way
  std::map<std::int64_t, Regions> frames;  // frame index -> regions
  std::map<std::int64_t, std::int64_t> pts;  // frame index -> its timestamp (in time_base), where the file gives it
  nlohmann::json review;  // the entry's review journal as the file has it (null: never reviewed)
  // The time of frame `index` in seconds: its timestamp where the file gives one; else counted at the frame rate
  // from the nearest earlier frame that has one (a variable frame rate is right up to there), or back from the
  // first that has one; from 0 where none has.
  double time_of(std::int64_t index) const;
  // Frames up to the last one with regions.
  std::int64_t frames_spanned() const { return frames.empty() ? 0 : frames.rbegin()->first + 1; }
  // The input's frames: frame_count, or what the regions span in a file written without it.
  std::int64_t frame_total() const { return std::max(info.frame_count, frames_spanned()); }
  // Throws Error when `file` (width x height) is not the size this entry describes: "FILE: is WxH but its
  // regions entry (INPUT) describes WxH: " and `why` (render and verify say it each their way).
  void check_size(const std::filesystem::path& file, int width, int height, const std::string& why) const;
  // Throws Error when `file` is not as many bytes as the input this entry's audit record says it was made
  // from (when recorded): "FILE: is N bytes but its regions entry (INPUT) was made from a file of M bytes: "
  // and `why`. Pictures of one size with the same name in two folders are told apart by it.
  void check_bytes(const std::filesystem::path& file, const std::string& why) const;
};

// Which entry a file is of: the one known by that exact path, else the one whose path ends with the most of
// the file's last components (a folder run's in/b/x.jpg for in2/b/x.jpg, not in/a/x.jpg). `tied` lists the
// entries that match as far when there are several (then `entry` is not to be taken). Render, verify, audit
// and the review queue all attribute files this way.
// How many of two paths' last components are the same ("in2/b/x.jpg" and "in/b/x.jpg": 2).
std::size_t common_tail(const std::filesystem::path& a, const std::filesystem::path& b);
enum class EntryPath { Input, Output, Either };
struct EntryMatch {
  const RegionsEntry* entry = nullptr;
  std::vector<const RegionsEntry*> tied;
  bool ambiguous() const { return tied.size() > 1; }
};
EntryMatch match_entry(const std::vector<RegionsEntry>& entries, const std::filesystem::path& file, EntryPath by);

class RegionsFile {
 public:
  static RegionsFile read(const std::filesystem::path& path);  // throws Error naming the file and the problem
  // The entry for an input: by exact path, then the one whose path ends with the most of the input's last
  // components (b/x.jpg, then x.jpg; throws Error naming them where two entries match as far), then, when
  // `only_input` (a run with a single input, e.g. a renamed file), the only entry when there is one. A
  // folder run never takes an entry by elimination: one entry's boxes would be rendered into every file.
  const RegionsEntry* find(const std::filesystem::path& input, bool only_input = false) const;
  // The entry whose output is `output` (a finished file being checked), matched the same way by its output
  // path, then, when `only_file`, the only entry when there is one.
  const RegionsEntry* find_output(const std::filesystem::path& output, bool only_file = false) const;
  const std::vector<RegionsEntry>& entries() const { return entries_; }
  // How the run that wrote the file hid the classes of its own models, from the audit records it holds
  // (settings "class_styles": name -> style; empty when written without them). One run writes a file, with
  // one set of models, so its entries agree; they are merged (a later entry's style of a class wins).
  const nlohmann::json& class_styles() const { return class_styles_; }
  // How the run hid faces and plates ({"face_style": ..., "plate_style": ...} of its audit settings; empty
  // where no entry has a record): render hides as the run did unless told otherwise.
  const nlohmann::json& builtin_styles() const { return builtin_styles_; }
  // How the run encoded ({"codec", "crf", "preset", "jpeg_quality"} of its audit settings, those of values a
  // run writes; empty where no entry has a record): render encodes as the run did unless told otherwise, or it reproduces nothing.
  const nlohmann::json& encoding() const { return encoding_; }

 private:
  std::vector<RegionsEntry> entries_;
  nlohmann::json class_styles_ = nlohmann::json::object();
  nlohmann::json builtin_styles_ = nlohmann::json::object();
  nlohmann::json encoding_ = nlohmann::json::object();
};

}  // namespace roadveil::pipeline
