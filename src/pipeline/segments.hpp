#pragma once
// One long video split across workers (machines, or tasks of a job array): worker I of N anonymizes the frames
// of part I into OUTPUT.part-I-of-N.mp4, and a last step joins the parts with the input's other streams into
// OUTPUT. Parts are cut at the input's keyframes. Each worker also decodes, detects and tracks a few seconds
// on both sides of its part (the context), on the same keyframe grid as a single run, so that objects
// crossing a cut are hidden as they would be in one run: tracks coming in from before the cut exist when it
// starts, and objects first found after it are carried back across it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media/video_timeline.hpp"
#include "pipeline/anonymizer.hpp"
#include "pipeline/regions_file.hpp"

namespace roadveil::pipeline {

// Frame indices where parts begin, plus the frame count at the end (count + 1 values); each cut is the
// keyframe nearest to an equal share. Throws Error naming the file when it has fewer keyframes than parts.
std::vector<std::int64_t> segment_cuts(const media::VideoTimeline& timeline, int count, const std::string& name);

struct SegmentPlan {
  int index = 0, count = 1;
  std::int64_t first = 0, end = 0;                // frames this part writes: [first, end)
  std::int64_t process_from = 0, process_to = 0;  // frames detected and tracked: [process_from, process_to]
  std::int64_t decode_from = 0;                   // the keyframe decoding starts at (<= process_from)
};

// Frames of detection and tracking needed before and after a frame for its regions to be final.
struct SegmentContext {
  int before = 0, after = 0;
};

// `keyframe_interval`: the detection schedule's grid (frames).
SegmentPlan plan_segment(const media::VideoTimeline& timeline, const std::vector<std::int64_t>& cuts, int index,
                         int keyframe_interval, SegmentContext context);

// A part of a split run: which frames of the whole file it detects and writes, and the output it is a part of.
struct Anonymizer::Part {
  const media::VideoTimeline* timeline = nullptr;
  SegmentPlan plan;
  std::filesystem::path final_output;
};

// The frames of context a worker processes beyond each side of its part.
SegmentContext segment_context_frames(const track::TrackerConfig& tracker, const detect::ScheduleConfig& schedule,
                                      int keyframe_interval);

// The track numbers of a joined file: for each part (its regions file, one entry), its own track numbers ->
// the joined file's. A track on the last frame before a cut (`cuts[k]`, part k's first frame) and one on the
// cut's frame, of one class and overlapping (IoU >= 0.3, the best pairs first), are one track and keep the
// earlier part's number; every other track takes the next number. Numbered anew in each part, a track that
// crossed a cut was two, and a review's edit of one stopped at the cut.
std::vector<std::map<int, int>> join_track_numbers(const std::vector<RegionsFile>& parts, const std::vector<std::int64_t>& cuts);

// OUTPUT.part-I-of-N.mp4, its regions file and its record (written last: a part is complete when it exists).
struct PartFiles {
  std::filesystem::path video, regions, record;
};
PartFiles part_files(const std::filesystem::path& output, int index, int count);

// True when `files` hold a complete part made from `input` (same size and first and last MiB) with these settings:
// a rerun of a job array's task skips it. (The join checks the video packets' digest as well.)
bool part_is_done(const std::filesystem::path& input, const PartFiles& files, const std::string& settings_digest);

// What identifies the input a part was made from: size, frame count, the SHA-256 of its first and last MiB, and
// the SHA-256 of its video packets (media::VideoTimeline::packets_sha256; every part and the join read them
// anyway). part_is_done compares the size and MiBs first (0 frames, an empty digest), then reads the packets.
nlohmann::json input_fingerprint(const std::filesystem::path& input, std::int64_t frames, const std::string& video_packets_sha256);

// The part's record: which part of which input, the settings digest, and its FileReport.
nlohmann::json part_record(const SegmentPlan& plan, const nlohmann::json& fingerprint, const std::string& settings_digest,
                           const FileReport& report);
FileReport report_from_part_record(const nlohmann::json& record);

}  // namespace roadveil::pipeline
