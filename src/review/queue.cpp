#include "review/queue.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include "core/error.hpp"
#include "core/json_integer.hpp"

namespace roadveil::review {

namespace {

bool carried(RegionSource s) {
  return s == RegionSource::Interpolated || s == RegionSource::Extended || s == RegionSource::Backward;
}

struct TrackFrame {
  std::int64_t frame;
  const Region* region;
};

// The share of `box` that the regions of its class cover (overlaps summed, at most 1: regions rarely overlap
// much where one object is).
double share_hidden_by_class(const Box& box, ObjectClass cls, const Regions* regions) {
  if (!regions || box.area() <= 0) return 0;
  double covered = 0;
  for (const Region& r : *regions)
    if (r.cls == cls) covered += intersection(r.box, box).area();
  return std::min(1.0, covered / box.area());
}

// Per frame, of each edge: how the track's detected regions moved over its last (first) `span` frames (the
// carried ones are the tracker's own extrapolation, not evidence of motion).
Box end_velocity(const std::vector<TrackFrame>& seen, bool at_end, int span) {
  const TrackFrame* end = nullptr;
  const TrackFrame* other = nullptr;
  auto visit = [&](const TrackFrame& t) {
    if (carried(t.region->source)) return true;
    if (!end) end = &t;
    else if (std::abs(end->frame - t.frame) <= span) other = &t;
    else return false;
    return true;
  };
  if (at_end) {
    for (auto it = seen.rbegin(); it != seen.rend() && visit(*it); ++it) {}
  } else {
    for (auto it = seen.begin(); it != seen.end() && visit(*it); ++it) {}
  }
  if (!end || !other) return {};
  return edge_velocity(other->region->box, static_cast<float>(other->frame), end->region->box, static_cast<float>(end->frame));
}

// The weights: a frame just outside a track (the object was probably there, unhidden) counts fully,
// decaying over `reach_frames`; a carried frame near the track's ends half, growing with its distance from
// the detection it was carried from; a long interpolated gap and a guessed head a little less; what verify
// found, most. They rank frames; they are not probabilities.
constexpr double kOutside = 1.0, kOutsideAtEdge = 0.3, kCarried = 0.5, kGap = 0.3, kGuessedHead = 0.5, kVerified = 3.0;
constexpr int kCarriedRamp = 12;  // frames from a detection over which a carried box's risk grows to kCarried
constexpr int kVelocitySpan = 8;  // frames at a track's end its motion is measured over

}  // namespace

std::optional<std::size_t> entry_of_finding(const ExposedFinding& v, const std::vector<pipeline::RegionsEntry>& entries) {
  const pipeline::EntryMatch match = pipeline::match_entry(entries, v.file, pipeline::EntryPath::Either);
  if (!match.entry || match.ambiguous()) return std::nullopt;
  return static_cast<std::size_t>(match.entry - entries.data());
}

std::vector<QueuedFrame> rank_frames(const std::vector<pipeline::RegionsEntry>& entries,
                                     const std::vector<ExposedFinding>& verified, const QueueOptions& options) {
  std::vector<QueuedFrame> out;
  const int reach = std::max(1, options.reach_frames);
  std::vector<std::optional<std::size_t>> finding_entry;
  finding_entry.reserve(verified.size());
  for (const ExposedFinding& v : verified) finding_entry.push_back(entry_of_finding(v, entries));
  for (std::size_t ei = 0; ei < entries.size(); ++ei) {
    const pipeline::RegionsEntry& e = entries[ei];
    std::int64_t frames = e.frame_total();
    const float w = static_cast<float>(e.info.width), h = static_cast<float>(e.info.height);
    auto found_here = [&](const ExposedFinding& v) { return finding_entry[static_cast<std::size_t>(&v - verified.data())] == ei; };
    // A file written without frame_count ends, as far as it tells, at its last region; verify saw further.
    if (e.info.frame_count <= 0)
      for (const ExposedFinding& v : verified)
        if (found_here(v)) frames = std::max(frames, v.frame + 1);
    std::map<std::int64_t, QueuedFrame> queued;
    auto add = [&](std::int64_t f, Reason r) {
      if (f < 0 || f >= frames || r.weight <= 0) return;
      QueuedFrame& q = queued[f];
      q.entry = ei;
      q.frame = f;
      q.risk += r.weight;
      q.reasons.push_back(std::move(r));
    };
    auto near_edge = [&](const Box& b) {
      const float mx = options.edge_margin * w, my = options.edge_margin * h;
      return w > 0 && h > 0 && (b.x1 <= mx || b.y1 <= my || b.x2 >= w - mx || b.y2 >= h - my);
    };

    auto in_picture = [&](const Box& b) { return w > 0 && h > 0 ? clamp_to(b, w, h) : b; };
    auto region_list = [&](std::int64_t f) -> const Regions* {
      const auto it = e.frames.find(f);
      return it == e.frames.end() ? nullptr : &it->second;
    };
    std::map<int, std::vector<TrackFrame>> tracks;
    for (const auto& [f, regions] : e.frames)
      for (const Region& r : regions)
        if (r.track_id >= 0) tracks[r.track_id].push_back({f, &r});

    for (const auto& track : tracks) {
      // Named, not a structured binding: clang before 16 cannot capture one in the lambda below (CI's
      // sanitizer and fuzz build is clang's).
      const int id = track.first;
      const std::vector<TrackFrame>& seen = track.second;
      // Frames are in order (map iteration); one region per track and frame.
      const TrackFrame& first = seen.front();
      const TrackFrame& last = seen.back();
      const auto first_found = std::find_if(seen.begin(), seen.end(), [](const TrackFrame& t) { return !carried(t.region->source); });
      const auto last_found = std::find_if(seen.rbegin(), seen.rend(), [](const TrackFrame& t) { return !carried(t.region->source); });
      const ObjectClass cls = first.region->cls;
      // Before the first region and after the last: nothing hides the object if it was still there. Where it
      // would be, moving as the track's ends moved; what other regions already cover there (the same object
      // found again as another track, a neighbour's region) needs no look. Without this a crowded frame,
      // where many short tracks end, outranked every frame where one object followed for long was lost.
      auto look_outside = [&](const TrackFrame& end, int step, const char* what) {
        const Box v = end_velocity(seen, step > 0, kVelocitySpan);
        const double weight = near_edge(end.region->box) ? kOutsideAtEdge : kOutside;
        for (int k = 1; k <= reach; ++k) {
          const std::int64_t f = end.frame + step * k;
          const Box where = in_picture(move_box(end.region->box, v, static_cast<float>(step * k)));
          if (where.empty()) break;  // moved out of the picture
          const double open = 1.0 - share_hidden_by_class(where, cls, region_list(f));
          add(f, {what, id, cls, where, open * weight * (1.0 - (k - 1.0) / reach)});
        }
      };
      look_outside(first, -1, "before the track's first region");
      look_outside(last, 1, "after the track's last region");
      if (first_found == seen.end()) continue;  // a track of carried regions only (a hand-edited file)
      // Carried back from the first detection and forward from the last: the box is extrapolated.
      for (auto it = seen.begin(); it != first_found; ++it) {
        const double d = static_cast<double>(first_found->frame - it->frame);
        add(it->frame, {"carried back before the first detection", id, cls, it->region->box, kCarried * std::min(1.0, d / kCarriedRamp)});
      }
      for (auto it = seen.rbegin(); it != last_found; ++it) {
        const double d = static_cast<double>(it->frame - last_found->frame);
        add(it->frame, {"carried on after the last detection", id, cls, it->region->box, kCarried * std::min(1.0, d / kCarriedRamp)});
      }
      // Gaps filled between two detections: the object was lost there.
      std::int64_t previous = first_found->frame;
      for (auto it = first_found; it != last_found.base(); ++it) {
        if (carried(it->region->source)) continue;
        const std::int64_t gap = it->frame - previous - 1;
        // Every frame of the gap, with or without a filled region (a hand-edited file may leave it bare).
        const Box* box = &it->region->box;
        for (std::int64_t f = previous + 1; f < it->frame; ++f) {
          const auto filled = std::lower_bound(seen.begin(), seen.end(), f, [](const TrackFrame& t, std::int64_t v) { return t.frame < v; });
          add(f, {"interpolated over a gap of " + std::to_string(gap) + " frames", id, cls,
                  filled != seen.end() && filled->frame == f ? filled->region->box : *box, kGap * std::min(1.0, static_cast<double>(gap) / 8.0)});
        }
        previous = it->frame;
      }
    }

    // A head region guessed from a body box, with no head or face found inside it: the head was not seen.
    for (const auto& [f, regions] : e.frames)
      for (const Region& r : regions) {
        if (r.source != RegionSource::Context) continue;
        const bool seen_inside = std::any_of(regions.begin(), regions.end(), [&](const Region& o) {
          return o.cls == ObjectClass::Face && (o.source == RegionSource::Detector || o.source == RegionSource::Head) &&
                 o.box.cx() >= r.box.x1 && o.box.cx() < r.box.x2 && o.box.cy() >= r.box.y1 && o.box.cy() < r.box.y2;
        });
        if (!seen_inside) add(f, {"head guessed from a body", r.track_id, ObjectClass::Face, r.box, kGuessedHead});
      }

    for (const ExposedFinding& v : verified)
      if (found_here(v))
        add(v.frame, {v.readable ? "verify found the hidden region readable" : "verify found it exposed", -1, v.cls, v.box, kVerified});

    for (auto& [f, q] : queued) {
      // From the frame's timestamp, as the review editor shows it (frame / rate was seconds off in a
      // variable-frame-rate video, and off by the start time in one that does not start at 0).
      q.time = e.time_of(f);
      std::stable_sort(q.reasons.begin(), q.reasons.end(), [](const Reason& a, const Reason& b) { return a.weight > b.weight; });
      out.push_back(std::move(q));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const QueuedFrame& a, const QueuedFrame& b) { return a.risk > b.risk; });
  return out;
}

std::vector<ExposedFinding> read_verify_report(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open the verify report");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || !doc.contains("files") || !doc["files"].is_array())
    throw Error(path.string() + ": not a roadveil verify report (no \"files\" array)");
  std::vector<ExposedFinding> out;
  try {
    for (const auto& file : doc["files"]) {
      if (file.contains("error")) continue;  // a file verify could not check has no findings
      for (const auto& f : file.at("findings")) {
        // Findings on cover art are on no frame of the video the queue ranks. A region that kept readable
        // detail is as urgent as a face outside every region (it was left out of the queue).
        if ((f.at("kind") != "exposed" && f.at("kind") != "readable") || f.contains("attached_picture")) continue;
        std::optional<ObjectClass> cls;
        try {
          cls = intern_object_class(f.at("class").get<std::string>());
        } catch (const Error& e) {
          throw Error(path.string() + ": " + e.what());
        }
        const auto& b = f.at("box");
        out.push_back({file.at("file").get<std::string>(), json_integer<std::int64_t>(f.at("frame")), *cls,
                       Box{b.at(0).get<float>(), b.at(1).get<float>(), b.at(2).get<float>(), b.at(3).get<float>()},
                       f.value("score", 0.0f), f.at("kind") == "readable"});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": malformed verify report (" + e.what() + ")");
  }
  return out;
}

nlohmann::json to_json(const QueuedFrame& q, const pipeline::RegionsEntry& entry) {
  nlohmann::json reasons = nlohmann::json::array();
  for (const Reason& r : q.reasons) {
    nlohmann::json j = {{"what", r.what},
                        {"class", to_string(r.cls)},
                        {"box", {r.box.x1, r.box.y1, r.box.x2, r.box.y2}},
                        {"weight", r.weight}};
    if (r.track >= 0) j["track"] = r.track;
    reasons.push_back(std::move(j));
  }
  return {{"input", entry.info.input.string()},
          {"output", entry.info.output.string()},
          {"frame", q.frame},
          {"time", q.time},
          {"risk", q.risk},
          {"reasons", std::move(reasons)}};
}

}  // namespace roadveil::review
