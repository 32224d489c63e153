#include "pipeline/segments.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "core/sha256.hpp"
#include "media/input_file.hpp"
#include "media/video_timeline.hpp"
#include "pipeline/audit_record.hpp"

namespace roadveil::pipeline {

std::vector<std::int64_t> segment_cuts(const media::VideoTimeline& timeline, int count, const std::string& name) {
  const std::int64_t frames = timeline.frames();
  const auto& keys = timeline.keyframes;
  if (count < 1) throw Error(name + ": cannot split into " + std::to_string(count) + " parts");
  // A decoder starts at a keyframe, so the first frame must be one for the first part to start there.
  const auto usable = keys.empty() || keys.front() != 0 ? keys.size() + 1 : keys.size();
  if (frames == 0 || static_cast<std::int64_t>(usable) < count)
    throw Error(fmt::format("{}: has {} frames and {} keyframes: it can be split into at most {} parts, not {} "
                            "(parts start at keyframes)", name, frames, keys.size(), std::min<std::int64_t>(usable, frames), count));
  std::vector<std::int64_t> cuts{0};
  for (int k = 1; k < count; ++k) {
    const double target = static_cast<double>(frames) * k / count;
    // The keyframe nearest to the target that leaves room for the parts still to come.
    std::int64_t best = -1;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::int64_t key = keys[i];
      if (key <= cuts.back()) continue;
      if (static_cast<int>(keys.size() - 1 - i) < count - 1 - k) break;
      if (best < 0 || std::abs(static_cast<double>(key) - target) < std::abs(static_cast<double>(best) - target)) best = key;
    }
    if (best < 0) throw Error(name + ": not enough keyframes to split into " + std::to_string(count) + " parts");
    cuts.push_back(best);
  }
  cuts.push_back(frames);
  return cuts;
}

SegmentPlan plan_segment(const media::VideoTimeline& timeline, const std::vector<std::int64_t>& cuts, int index,
                         int keyframe_interval, SegmentContext context) {
  const int count = static_cast<int>(cuts.size()) - 1;
  if (index < 0 || index >= count) throw Error(fmt::format("part {} of {} does not exist (0 to {})", index, count, count - 1));
  const std::int64_t interval = std::max(1, keyframe_interval), last = timeline.frames() - 1;
  SegmentPlan p;
  p.index = index;
  p.count = count;
  p.first = cuts[index];
  p.end = cuts[index + 1];
  // Detection starts and stops on the schedule's keyframe grid (multiples of the interval), as in one run.
  p.process_from = std::max<std::int64_t>(0, (p.first - context.before) / interval * interval);
  const std::int64_t needed = p.end - 1 + context.after;
  p.process_to = std::min(last, (needed + interval - 1) / interval * interval);
  const auto key = std::upper_bound(timeline.keyframes.begin(), timeline.keyframes.end(), p.process_from);
  p.decode_from = key == timeline.keyframes.begin() ? 0 : *std::prev(key);
  return p;
}

SegmentContext segment_context_frames(const track::TrackerConfig& tracker, const detect::ScheduleConfig& schedule,
                                      int keyframe_interval) {
  // Regions of a frame depend on the detections `lookahead` frames later (gaps, backward carries) and on the
  // tracks alive before it (forward and exit carries, the motion and jitter that place them, the span that
  // sets how long they are carried: history_frames); one more interval lets the detection schedule's
  // windows settle. A keyframe's occupants depend on the `occupant_keyframes` keyframes before it, not after.
  const int tracking = std::max(tracker.lookahead(), tracker.history_frames());
  const int interval = std::max(1, keyframe_interval);
  return {tracking + (1 + std::max(0, schedule.occupant_keyframes)) * interval, tracking + interval};
}

PartFiles part_files(const std::filesystem::path& output, int index, int count) {
  const std::string base = output.string() + fmt::format(".part-{}-of-{}", index, count);
  // MP4 keeps every presentation and decoding timestamp as the encoder made them (its time scale is the
  // input's, its edit list the encoder's delay); NUT and Matroska store no decoding timestamps, and the ones
  // a demuxer derives from them would start the part at another time.
  return {base + ".mp4", base + ".regions.json", base + ".json"};
}

nlohmann::json input_fingerprint(const std::filesystem::path& input, std::int64_t frames, const std::string& video_packets_sha256) {
  std::ifstream in(input, std::ios::binary);
  if (!in) throw Error(input.string() + ": cannot read");
  std::error_code ec;
  const auto size = std::filesystem::file_size(input, ec);
  if (ec) throw Error(input.string() + ": cannot read (" + ec.message() + ")");
  constexpr std::uintmax_t kMiB = 1 << 20;
  std::string head(std::min(size, kMiB), '\0'), tail(std::min(size, kMiB), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  in.seekg(static_cast<std::streamoff>(size - tail.size()));
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  if (!in) throw Error(input.string() + ": cannot read");
  return {{"size", size},
          {"frames", frames},
          {"first_mib_sha256", sha256_hex(head)},
          {"last_mib_sha256", sha256_hex(tail)},
          {"video_packets_sha256", video_packets_sha256}};
}

bool part_is_done(const std::filesystem::path& input, const PartFiles& files, const std::string& settings_digest) {
  std::error_code ec;
  if (!std::filesystem::exists(files.record, ec) || !std::filesystem::exists(files.video, ec) ||
      !std::filesystem::exists(files.regions, ec))
    return false;
  try {
    std::ifstream in(files.record);
    const nlohmann::json record = nlohmann::json::parse(in);
    nlohmann::json expected = input_fingerprint(input, 0, "");
    nlohmann::json recorded = record.at("input");
    const std::string packets = recorded.value("video_packets_sha256", "");
    recorded["frames"] = 0;
    recorded["video_packets_sha256"] = "";
    if (!(record.at("version") == kRoadveilVersion && record.at("settings") == settings_digest && recorded == expected &&
          !record.at("report").at("damaged").get<bool>()))
      return false;
    // What the join checks, checked before a part is skipped: its files as recorded, and the input's video
    // packets. A part damaged since it was made, or made from an input whose middle changed, was skipped by
    // every rerun and refused by every join, and only deleting it by hand got out of that.
    if (sha256_file_hex(files.video) != record.at("video_sha256").get<std::string>() ||
        sha256_file_hex(files.regions) != record.at("regions_sha256").get<std::string>())
      return false;
    media::InputFile video(input);
    return media::read_video_timeline(video).packets_sha256 == packets;
  } catch (const std::exception&) {
    return false;  // any doubt: make the part again
  }
}

namespace {
// Counts per class by name: class ids are this process's (the classes of one's own models get theirs as they
// are first seen), names are what another process joining the parts knows.
nlohmann::json counts_by_name(const ClassCounts& counts) {
  nlohmann::json j = nlohmann::json::object();
  for (const ObjectClass c : object_classes())
    if (is_builtin(c) || counts[static_cast<int>(c)] > 0) j[std::string(to_string(c))] = counts[static_cast<int>(c)];
  return j;
}
ClassCounts counts_from_names(const nlohmann::json& j) {
  ClassCounts counts{};
  for (const auto& [name, count] : j.items()) counts[static_cast<int>(intern_object_class(name))] = json_integer<std::int64_t>(count);
  return counts;
}
}  // namespace

nlohmann::json part_record(const SegmentPlan& plan, const nlohmann::json& fingerprint, const std::string& settings_digest,
                           const FileReport& report) {
  return {{"roadveil_part", 1},
          {"version", kRoadveilVersion},
          {"part", plan.index},
          {"parts", plan.count},
          {"first_frame", plan.first},
          {"end_frame", plan.end},
          {"input", fingerprint},
          {"settings", settings_digest},
          {"report",
           {{"frames", report.frames},
            {"frames_keyframes", report.frames_keyframes},
            {"frames_searched", report.frames_searched},
            {"regions", counts_by_name(report.regions)},
            {"regions_by_source", report.regions_by_source},
            {"frames_with_regions", report.frames_with_regions},
            {"detections", counts_by_name(report.detections)},
            {"seconds", report.seconds},
            {"video_crf", report.video_crf},
            {"damaged", report.damaged},
            {"warnings", report.warnings}}}};
}

FileReport report_from_part_record(const nlohmann::json& record) {
  const nlohmann::json& r = record.at("report");
  FileReport report;
  report.ok = true;
  report.frames = json_integer<std::int64_t>(r.at("frames"));
  report.frames_keyframes = json_integer<std::int64_t>(r.at("frames_keyframes"));
  report.frames_searched = json_integer<std::int64_t>(r.at("frames_searched"));
  report.video_crf = r.value("video_crf", -1.0);
  report.regions = counts_from_names(r.at("regions"));
  report.regions_by_source = json_integers<std::int64_t, kRegionSourceCount>(r.at("regions_by_source"));
  report.frames_with_regions = json_integer<std::int64_t>(r.at("frames_with_regions"));
  report.detections = counts_from_names(r.at("detections"));
  report.seconds = r.at("seconds").get<double>();
  report.damaged = r.at("damaged").get<bool>();
  report.warnings = r.at("warnings").get<std::vector<std::string>>();
  return report;
}

std::vector<std::map<int, int>> join_track_numbers(const std::vector<RegionsFile>& parts, const std::vector<std::int64_t>& cuts) {
  std::vector<std::map<int, int>> numbers(parts.size());
  int next = 0;
  // A track's box on one frame (its first region there).
  auto boxes_on = [](const RegionsEntry& entry, std::int64_t frame) {
    std::map<int, const Region*> on;
    if (const auto it = entry.frames.find(frame); it != entry.frames.end())
      for (const Region& r : it->second)
        if (r.track_id >= 0) on.emplace(r.track_id, &r);
    return on;
  };
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const RegionsEntry& entry = parts[k].entries().front();
    if (k > 0 && k < cuts.size()) {
      const auto before = boxes_on(parts[k - 1].entries().front(), cuts[k] - 1), after = boxes_on(entry, cuts[k]);
      // Greedy by overlap: the best pair first, each track used once.
      std::vector<std::tuple<float, int, int>> pairs;  // IoU, track after, track before
      for (const auto& [a, ra] : after)
        for (const auto& [b, rb] : before)
          if (ra->cls == rb->cls)
            if (const float overlap = iou(ra->box, rb->box); overlap >= 0.3f) pairs.emplace_back(overlap, a, b);
      std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
      std::set<int> used_before;
      for (const auto& [overlap, a, b] : pairs)
        if (!numbers[k].count(a) && !used_before.count(b)) {
          numbers[k][a] = numbers[k - 1].at(b);
          used_before.insert(b);
        }
    }
    for (const auto& [frame, regions] : entry.frames)
      for (const Region& r : regions)
        if (r.track_id >= 0 && !numbers[k].count(r.track_id)) numbers[k][r.track_id] = next++;
  }
  return numbers;
}

}  // namespace roadveil::pipeline
