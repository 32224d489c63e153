#include "detect/detection_schedule.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <tuple>
#include <utility>

#include "core/borrowed_motion.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace roadveil::detect {

namespace {

constexpr int kThumbW = 32, kThumbH = 18;
constexpr float kMaxSearchScale = 2.0f;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool same_kind(const Detection& d, ObjectClass cls, RegionSource source) { return d.cls == cls && d.source == source; }

// Whether a window that looked for `have` ran every network `want` needs.
bool includes(const SearchTargets& have, const SearchTargets& want) {
  return (!want.faces || have.faces) && (!want.heads || have.heads) && (!want.plates || have.plates) &&
         (!want.persons || have.persons) && (want.own_classes & ~have.own_classes) == 0;
}

// How well a detection continues an object predicted at `p` (0: not at all): any overlap beats nearness,
// nearness counts within one object size.
float continuation_quality(const Box& p, const Detection& d) {
  const float overlap = iou(p, d.box);
  const float dist = std::hypot(d.box.cx() - p.cx(), d.box.cy() - p.cy());
  const float reach = std::max(p.width(), p.height());
  return overlap > 0.05f ? 1.0f + overlap : dist < reach ? 1.0f - dist / reach : 0.0f;
}

// continuation_quality thresholds: any continuation, overlapping ones only, none (it is at most 2).
constexpr float kAnyContinuation = 0.0f, kOverlapOnly = 1.0f, kNoContinuation = 3.0f;

// Which unclaimed detection continues each object (object k predicted at `predicted[k]`, taking only a
// continuation_quality over `needed(k)`; -1: none), decided for all objects at once: a network's box over its
// threshold before one placed by appearance (by the other direction's pass) before a weak one (a weak box
// beside a strong one for the same object would become a second object), and within a tier the best
// continuation first. Decided object by object in order of score, an object took its neighbour's box by
// nearness before the neighbour could take it by overlap, and both were lost: on zoom clip cd84ae0e a 27x8 plate found at 0.84, missed by its next
// window, took the box of a marker 22 px above it, was then predicted moving up 22 px a frame and never
// found again (41 frames exposed), and the marker, its box taken, was dropped.
template <class Object, class Candidate, class QualityNeeded>
void assign_continuations(const std::vector<Object>& objects, const std::vector<Box>& predicted, QualityNeeded needed,
                          const Detections& here, std::vector<bool>& claimed, std::vector<Candidate>& candidates,
                          std::vector<int>& assigned) {
  const auto tier = [](const Detection& d) { return d.weak ? 2 : d.by_appearance ? 1 : 0; };
  candidates.clear();
  for (size_t k = 0; k < objects.size(); ++k) {
    const float least = needed(k);
    for (size_t j = 0; j < here.size(); ++j) {
      if (claimed[j] || !same_kind(here[j], objects[k].cls, objects[k].source)) continue;
      const float quality = continuation_quality(predicted[k], here[j]);
      if (quality > least) candidates.push_back({tier(here[j]), quality, static_cast<int>(k), static_cast<int>(j)});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tuple(a.tier, -a.quality, a.object, a.detection) < std::tuple(b.tier, -b.quality, b.object, b.detection);
  });
  assigned.assign(objects.size(), -1);
  for (const Candidate& c : candidates) {
    if (assigned[static_cast<size_t>(c.object)] >= 0 || claimed[static_cast<size_t>(c.detection)]) continue;
    assigned[static_cast<size_t>(c.object)] = c.detection;
    claimed[static_cast<size_t>(c.detection)] = true;
  }
}

// Where a place in a vehicle's box at one keyframe lies in its box at the next: each axis scaled by the
// box's change and anchored at a side of the box the frame did not cut.
struct VehicleMapping {
  Box now;                 // the vehicle's box at this keyframe
  float sx = 1, sy = 1;    // scale from the old box
  float was_x = 0, now_x = 0, was_y = 0, now_y = 0;  // anchor: a point of the old box and where it is now
  Box apply(const Box& r) const {
    return {now_x + (r.x1 - was_x) * sx, now_y + (r.y1 - was_y) * sy, now_x + (r.x2 - was_x) * sx,
            now_y + (r.y2 - was_y) * sy};
  }
};

// A box that shows the vehicle as the old one did (width-to-height ratio within `aspect_tolerance`) maps
// places by its own change. One narrower for its height than before shows a vehicle running off the left or
// right edge of the frame as the camera closes in (zoom clip 196eb840: a bus 1.45 times as wide as high, then
// 1.14 with its front out of the picture); then its height gives the scale, and its side still in the
// picture the anchor, if the vehicle's whole width at that scale would indeed reach past exactly one edge of
// the frame, and the box does reach that edge (within 2% of the frame's side: the detectors' boxes of a
// vehicle the edge cuts end short of it, the bus's by 18 px of 1920). The same for one wider for its height
// than before, cut at the top or bottom. The height and the anchor side are trusted only where neither box
// comes within those 2% of the frame's edge (zoom clip 59adc3bb: a van cut at the right and bottom at both
// keyframes, its widths 444 and 452 px where it had grown 1.34x). Anything else (the box took in another
// part of a bus, or another vehicle) maps nothing.
// One axis of a box: [lo, hi] within [0, extent].
struct Span {
  float lo, hi;
};

// Along an axis where the new box may be cut by one end of the frame: the anchor (a point of the old span and
// where it is now) at the end still in the picture, if the vehicle's whole extent `whole` from there would
// reach past the other end and the new span does reach it; none otherwise. `margin`: how near an end counts.
std::optional<std::pair<float, float>> cut_anchor(Span was, Span now, float whole, float extent, float margin) {
  const auto clear_lo = [&](Span s) { return s.lo > margin; };
  const auto clear_hi = [&](Span s) { return s.hi < extent - margin; };
  const bool cut_hi = now.lo + whole > extent && !clear_hi(now), cut_lo = now.hi - whole < 0.0f && !clear_lo(now);
  if (cut_hi == cut_lo) return std::nullopt;
  if (cut_hi) {
    if (!clear_lo(was) || !clear_lo(now)) return std::nullopt;
    return std::pair{was.lo, now.lo};
  }
  if (!clear_hi(was) || !clear_hi(now)) return std::nullopt;
  return std::pair{was.hi, now.hi};
}

bool clear_of_both_ends(Span s, float extent, float margin) { return s.lo > margin && s.hi < extent - margin; }

std::optional<VehicleMapping> map_vehicle(const Box& was, const Box& now, float frame_w, float frame_h,
                                          float aspect_tolerance) {
  if (was.empty() || now.empty()) return std::nullopt;
  const float sx = now.width() / was.width(), sy = now.height() / was.height();
  const float change = (now.width() / now.height()) / (was.width() / was.height());
  if (std::abs(std::log(change)) <= std::log(1.0f + aspect_tolerance))
    return VehicleMapping{now, sx, sy, was.x1, now.x1, was.y1, now.y1};
  const float mx = 0.02f * frame_w, my = 0.02f * frame_h;
  const Span was_x{was.x1, was.x2}, now_x{now.x1, now.x2}, was_y{was.y1, was.y2}, now_y{now.y1, now.y2};
  if (change < 1.0f) {  // narrower: cut at the left or right edge, scaled as its height says
    if (!clear_of_both_ends(was_y, frame_h, my) || !clear_of_both_ends(now_y, frame_h, my)) return std::nullopt;
    const auto x = cut_anchor(was_x, now_x, was.width() * sy, frame_w, mx);
    if (!x) return std::nullopt;
    return VehicleMapping{now, sy, sy, x->first, x->second, was.y1, now.y1};
  }
  // Lower for its width: cut at the top or bottom, scaled as its width says.
  if (!clear_of_both_ends(was_x, frame_w, mx) || !clear_of_both_ends(now_x, frame_w, mx)) return std::nullopt;
  const auto y = cut_anchor(was_y, now_y, was.height() * sx, frame_h, my);
  if (!y) return std::nullopt;
  return VehicleMapping{now, sx, sx, was.x1, now.x1, y->first, y->second};
}

}  // namespace

int ScheduleConfig::interval_for(double frames_per_second) const {
  if (keyframe_seconds <= 0) return std::max(1, keyframe_interval);
  const double fps = frames_per_second > 0 ? frames_per_second : 25.0;
  return std::max(1, static_cast<int>(std::lround(fps * keyframe_seconds)));
}

DetectionSchedule::DetectionSchedule(Detector& detector, const ScheduleConfig& config)
    : detector_(detector), config_(config) {
  config_.keyframe_interval = std::max(1, config_.keyframe_interval);
  config_.search_every = std::max(0, config_.search_every);
}

bool DetectionSchedule::is_scene_cut(const AVFrame& frame) {
  // The first component of the first plane: luma for YUV and grey, red for RGB; enough to see a cut.
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_FLOAT)) ||
      desc->comp[0].depth > 16 || frame.width < 1 || frame.height < 1)
    return false;
  const AVComponentDescriptor& c = desc->comp[0];
  const int bytes = c.depth > 8 ? 2 : 1;
  const float to_8bit = 1.0f / static_cast<float>(1 << (c.depth - 8 > 0 ? c.depth - 8 : 0));
  thumbnail_.resize(kThumbW * kThumbH);
  for (int ty = 0; ty < kThumbH; ++ty) {
    const int y = (2 * ty + 1) * frame.height / (2 * kThumbH);
    const std::uint8_t* row = frame.data[c.plane] + static_cast<std::ptrdiff_t>(y) * frame.linesize[c.plane];
    for (int tx = 0; tx < kThumbW; ++tx) {
      const int x = (2 * tx + 1) * frame.width / (2 * kThumbW);
      const std::uint8_t* p = row + static_cast<std::ptrdiff_t>(x) * c.step + c.offset;
      unsigned v = bytes == 2 ? static_cast<unsigned>(p[0] | (p[1] << 8)) : p[0];
      v = (v >> c.shift) & ((1u << c.depth) - 1);
      thumbnail_[ty * kThumbW + tx] = static_cast<float>(v) * to_8bit;
    }
  }
  bool cut = false;
  if (previous_thumbnail_.size() == thumbnail_.size()) {
    float sum = 0;
    for (size_t i = 0; i < thumbnail_.size(); ++i) sum += std::abs(thumbnail_[i] - previous_thumbnail_[i]);
    cut = sum / static_cast<float>(thumbnail_.size()) > config_.scene_cut;
  }
  previous_thumbnail_.swap(thumbnail_);
  return cut;
}

void DetectionSchedule::keyframe(const Slot& slot, float score_factor) {
  const auto start = std::chrono::steady_clock::now();
  WholeFramePass pass = config_.keyframe_pass;
  pass.score_factor = score_factor;
  *slot.detections = detector_.detect_whole(*slot.frame, pass);
  keep_occupants(*slot.frame, *slot.detections);
  stats_.keyframe_seconds += seconds_since(start);
  *slot.pass = FramePass::Keyframe;
  ++stats_.keyframes;
}

// The occupants of the keyframe before (`opening_occupants_`) not found again at this one, in the vehicle
// they sat in (see ScheduleConfig::occupant_keyframes); this keyframe's occupants go to `last_occupants_`.
void DetectionSchedule::keep_occupants(const AVFrame& frame, Detections& found) {
  last_occupants_.clear();
  for (const Occupant& o : detector_.occupants()) last_occupants_.push_back({o, 0});
  // With every frame a keyframe there is no interval to bridge (the tracker fills a frame or two), and a
  // run that detects every frame stays the networks' own boxes (bench/video_agreement.sh's reference).
  if (config_.occupant_keyframes <= 0 || config_.keyframe_interval <= 1) return;
  const std::span<const Box> vehicles = detector_.vehicles();
  const float fw = static_cast<float>(frame.width), fh = static_cast<float>(frame.height);
  for (const SeenOccupant& before : opening_occupants_) {
    if (before.kept >= config_.occupant_keyframes) continue;
    const Box& was = before.occupant.vehicle;
    std::optional<VehicleMapping> mapping;
    float best = config_.occupant_vehicle_iou;
    for (const Box& v : vehicles)
      if (const float overlap = iou(v, was); overlap >= best)
        if (const auto m = map_vehicle(was, v, fw, fh, config_.occupant_vehicle_aspect)) {
          best = overlap;
          mapping = m;
        }
    if (!mapping) continue;
    const Box kept = clamp_to(mapping->apply(before.occupant.region), fw, fh);
    // Nobody found there: no face, head or head region of this keyframe (weak ones too: the closing keyframe's
    // weak boxes may continue someone followed) covering half of it or half covered by it, and none kept
    // there already.
    const auto there = [&](const Box& b) { return half_of_smaller_overlaps(b, kept); };
    if (kept.empty() ||
        std::any_of(found.begin(), found.end(), [&](const Detection& d) { return d.cls == ObjectClass::Face && there(d.box); }) ||
        std::any_of(last_occupants_.begin(), last_occupants_.end(), [&](const SeenOccupant& now) { return there(now.occupant.region); }))
      continue;
    found.push_back({ObjectClass::Face, kept, before.occupant.score, before.occupant.source});
    last_occupants_.push_back({{kept, mapping->now, before.occupant.score, before.occupant.source}, before.kept + 1});
  }
}

std::size_t DetectionSchedule::add(const Slot& slot) {
  const std::int64_t index = slot.index >= 0 ? slot.index : next_index_;
  next_index_ = index + 1;
  const bool cut = is_scene_cut(*slot.frame);
  if (!have_keyframe_ || cut) {
    std::size_t done = 0;
    if (cut) ++stats_.scene_cuts;
    if (!pending_.empty()) done += complete();  // the frame before the cut closes its interval
    opening_occupants_.clear();  // nobody is carried over a cut
    keyframe(slot);
    opening_occupants_.swap(last_occupants_);
    opening_keyframe_ = *slot.detections;
    sample_looks(*slot.frame, opening_keyframe_, opening_looks_);
    have_keyframe_ = true;
    return done + 1;
  }
  pending_.push_back(slot);
  // The grid of the whole file: after a scene cut the next keyframe is the next multiple, not an interval later.
  const std::int64_t interval = std::max(1, config_.keyframe_interval);
  return index % interval == 0 || static_cast<std::int64_t>(pending_.size()) >= interval ? complete() : 0;
}

std::size_t DetectionSchedule::finish() { return pending_.empty() ? 0 : complete(); }

std::size_t DetectionSchedule::complete() {
  // Interval indices: 0 is the opening keyframe (already complete), 1..m the held frames, m the closing one.
  const int m = static_cast<int>(pending_.size());
  const bool following = config_.search_every > 0 && m > 1;
  Detections& closing = *pending_.back().detections;
  keyframe(pending_.back(), following ? config_.continue_score_factor : 1.0f);
  // The next interval is followed from this keyframe's own detections only: what it keeps of its weak
  // boxes depends on this interval's frames, so a frame's regions depend on a bounded stretch of video
  // (a part of a split run starts a few intervals early and must find the same).
  last_keyframe_.clear();
  for (const Detection& d : closing)
    if (!d.weak) last_keyframe_.push_back(d);
  sample_looks(*pending_.back().frame, last_keyframe_, last_looks_);
  if (following) {
    if (static_cast<int>(forward_windows_.size()) < m + 1) forward_windows_.resize(m + 1);
    for (auto& w : forward_windows_) w.clear();
    auto seed = [&](const Detections& found, const std::vector<Appearance>& looks, int index) {
      objects_.clear();
      for (size_t i = 0; i < found.size(); ++i) {
        const Detection& d = found[i];
        objects_.push_back({d.cls, d.source, d.box, {}, d.score, index, index, d.box, looks[i]});
      }
      std::stable_sort(objects_.begin(), objects_.end(), [](const Known& a, const Known& b) { return a.score > b.score; });
    };
    // Every frame is visited; each object is searched only on the frames where it is due (see follow).
    seed(opening_keyframe_, opening_looks_, 0);
    for (int i = 1; i < m; ++i) follow(objects_, i, &forward_windows_[i], nullptr, glances_at(i, m));
    continue_at_keyframe(objects_, m);
    std::erase_if(closing, [](const Detection& d) { return d.weak; });
    sample_looks(*pending_.back().frame, closing, closing_looks_);
    seed(closing, closing_looks_, m);
    for (int i = m - 1; i > 0; --i) follow(objects_, i, nullptr, &forward_windows_[i]);
    for (int i = 1; i < m; ++i) {
      Slot& s = pending_[i - 1];
      merge_duplicates(*s.detections);
      if (*s.pass == FramePass::Search) ++stats_.searched;
    }
  }
  opening_keyframe_.swap(last_keyframe_);
  opening_looks_.swap(last_looks_);
  opening_occupants_.swap(last_occupants_);
  pending_.clear();
  return static_cast<std::size_t>(m);
}

bool DetectionSchedule::glances_at(int index, int m) const {
  if (config_.glances <= 0 || m < 4) return false;
  for (int k = 1; k <= config_.glances; ++k)
    if (static_cast<int>(std::lround(static_cast<double>(k) * m / (config_.glances + 1))) == index) return true;
  return false;
}

void DetectionSchedule::sample_looks(const AVFrame& frame, const Detections& found, std::vector<Appearance>& looks) const {
  looks.resize(found.size());
  for (size_t i = 0; i < found.size(); ++i) looks[i] = sample_appearance(frame, found[i].box, config_.appearance_min_side);
}

float DetectionSchedule::search_scale(const Known& o) const {
  if (o.source == RegionSource::Context) return 1.0f;
  // Sizes as shown (in source rows): a source pixel is shown pixel_aspect() times as wide as high.
  const float aspect = detector_.pixel_aspect();
  if (o.cls == ObjectClass::Plate && config_.plate_window_widths > 0)
    return std::clamp(config_.search_plate_width / std::max(1.0f, aspect * o.box.width()), config_.min_search_scale, kMaxSearchScale);
  const float size = std::sqrt(std::max(1.0f, aspect * o.box.area()));
  return std::clamp(config_.search_object_size / size, config_.min_search_scale, kMaxSearchScale);
}

void DetectionSchedule::follow(std::vector<Known>& objects, int index, std::vector<Window>* searched,
                               const std::vector<Window>* skip, bool glance) {
  const Slot& slot = pending_[index - 1];
  const AVFrame& frame = *slot.frame;
  const Box whole{0, 0, static_cast<float>(frame.width), static_cast<float>(frame.height)};

  // Where each object should be now, and the window its network must see to find it there.
  std::vector<Box>& predicted = predicted_;
  predicted.resize(objects.size());
  windows_.clear();
  // An object whose motion is not known yet (just found at a keyframe, or by a window) is looked for on the
  // very next frame, where it has barely moved, so that its velocity is known before the gaps between
  // searches open: on the zoom clips, objects near the frame edges moved out of a window placed where they
  // were two frames before. After that, on every `search_every`-th frame of the interval (or less often when
  // predictable): the same frames going forward and backward, so that a backward window a forward one
  // already covered is not searched again.
  auto due = [&](const Known& o) {
    const int dt = std::abs(index - o.frame);
    if (!o.velocity_known) return dt >= 1;
    return index % config_.search_every == 0 && dt >= std::max(o.gap, 1);
  };
  for (Known& o : objects) {
    if (o.velocity_known) continue;
    BorrowedMotion motion(o.box, config_.borrow_radius);
    for (const Known& n : objects)
      if (n.velocity_known) motion.offer(n.box, n.velocity);
    o.velocity = motion.velocity();
  }
  for (size_t k = 0; k < objects.size(); ++k) {
    Known& o = objects[k];
    const float dt = static_cast<float>(index - o.frame);
    predicted[k] = move_box(o.box, o.velocity, dt);
    if (!due(o)) continue;
    const Box area = detector_.search_area({o.cls, predicted[k], o.score, o.source});
    const float margin = 2.0f * (config_.search_margin + config_.margin_per_frame * std::abs(dt));
    const float min_side = static_cast<float>(config_.min_window);
    float window_w = std::max(min_side, area.width() * (1 + margin)), window_h = std::max(min_side, area.height() * (1 + margin));
    if (o.cls == ObjectClass::Plate && config_.plate_window_widths > 0) {
      const float context = config_.plate_window_widths * predicted[k].width();
      window_w = std::max(window_w, context);
      window_h = std::max(window_h, 0.5f * context * detector_.pixel_aspect());  // half as high as wide, as shown
    }
    const Box window = intersection(Box::from_center(area.cx(), area.cy(), window_w, window_h), whole);
    if (window.empty() || intersection(predicted[k], whole).empty()) {
      o.misses = config_.max_misses + 1;  // left the frame
      continue;
    }
    const bool covered = skip && std::any_of(skip->begin(), skip->end(), [&](const Window& s) {
      return intersection(s.area, window).area() >= 0.8f * window.area();
    });
    if (!covered) {
      SearchTargets targets = Detector::targets_for({o.cls, o.box, o.score, o.source});
      targets.score_factor = config_.continue_score_factor;
      windows_.push_back({window, targets, search_scale(o)});
    }
  }
  // Overlapping windows become one, looked at with the larger scale. One that looks for plates only where
  // that costs no more detector pixels than both apart: otherwise the union shows the plate of the window
  // with the smaller scale several times larger than its window would, where the plate network misses it
  // (a 65 px plate not found for 20 frames of a zoom clip, 12 of them exposed, its window merged with a 15 px
  // plate's at twice the scale; zoom clips: plates never exposed 123 -> 128 of 135, less of the frame hidden). Other windows
  // merge while the union covers no more source pixels: that sees small heads next to a followed one at
  // the larger scale, and finds some (with the plates' rule for every window: heads never exposed 116 -> 113).
  merge_overlapping(windows_, [](const Window& w) -> const Box& { return w.area; },
                    [](const Window& a, const Window& b, const Box& u) {
                      if (a.targets.plates || b.targets.plates) return union_costs_no_more(a.area, a.scale, b.area, b.scale, u);
                      return union_costs_no_more(a.area, 1.0f, b.area, 1.0f, u);
                    },
                    [](const Window& a, const Window& b, const Box& u) {
                      return Window{u, a.targets | b.targets, std::max(a.scale, b.scale)};
                    });
  if (static_cast<int>(windows_.size()) > config_.max_windows) windows_.resize(config_.max_windows);
  const auto start = std::chrono::steady_clock::now();
  for (const Window& w : windows_) {
    Detections found = detector_.detect_around(frame, w.area, w.targets, w.scale);
    slot.detections->insert(slot.detections->end(), found.begin(), found.end());
    if (searched) searched->push_back(w);
    ++stats_.windows;
  }
  stats_.search_seconds += seconds_since(start);
  if (!windows_.empty()) *slot.pass = FramePass::Search;
  if (glance) {
    // Only what nothing followed or found here explains is taken: a box mostly over an object's predicted
    // box or a window's box of the same class is that object, seen at a lower resolution, and is left to
    // the windows (taking it changed how objects were followed and merged: on the zoom clips with every
    // glance box taken, 58 fewer head-frames hidden). The rest starts objects (below), which the backward
    // pass also takes up here and follows back to the interval's start.
    const auto glance_start = std::chrono::steady_clock::now();
    const size_t before = slot.detections->size();
    for (const Detection& d : detector_.detect_glance(frame, config_.glance_pass)) {
      if (d.weak) continue;
      bool explained = false;
      for (size_t k = 0; k < objects.size() && !explained; ++k)
        explained = objects[k].cls == d.cls && half_of_smaller_overlaps(predicted[k], d.box);
      for (size_t j = 0; j < before && !explained; ++j)
        explained = (*slot.detections)[j].cls == d.cls && half_of_smaller_overlaps((*slot.detections)[j].box, d.box);
      if (!explained) slot.detections->push_back(d);
    }
    stats_.glance_seconds += seconds_since(glance_start);
    ++stats_.glances;
    *slot.pass = FramePass::Search;
  }

  // Each object takes the detection of its kind that best overlaps its prediction, or failing that the
  // nearest within one object size (one over its threshold before a weak one), matched for all objects at
  // once (assign_continuations); the rest of what the windows found are objects to follow from here.
  int matches = 0;  // objects looked for by appearance on this frame
  Detections& here = *slot.detections;
  std::vector<bool>& claimed = claimed_;
  claimed.assign(here.size(), false);
  // Every object still followed takes part: one due here takes the box that best continues it, overlapping or
  // near; one not due, a box that a window of its neighbour shows overlapping it (it is found there, and its
  // box is no neighbour's to take by nearness). Nothing for an object given up.
  const auto followed = [&](size_t k) { return objects[k].misses <= config_.max_misses; };
  const auto needed = [&](size_t k) {
    return !followed(k) ? kNoContinuation : due(objects[k]) ? kAnyContinuation : kOverlapOnly;
  };
  assign_continuations(objects, predicted, needed, here, claimed, candidates_, assigned_);
  for (size_t k = 0; k < objects.size(); ++k) {
    Known& o = objects[k];
    const int best = assigned_[k];
    if (best < 0 && (!followed(k) || !due(o))) continue;
    const Box& p = predicted[k];
    if (best < 0) {
      o.gap = 0;  // look again on the next search frame
      // Only where a window of this pass (or of the forward pass, for a window skipped as covered) looked
      // and missed it, at most `max_windows` objects a frame.
      const SearchTargets wanted = Detector::targets_for({o.cls, o.box, o.score, o.source});
      const auto looked_at = [&](const Window& w) {
        return includes(w.targets, wanted) && intersection(w.area, p).area() >= 0.8f * p.area();
      };
      const bool looked = std::any_of(windows_.begin(), windows_.end(), looked_at) ||
                          (skip && std::any_of(skip->begin(), skip->end(), looked_at));
      if (config_.appearance_similarity > 0 && looked && matches < config_.max_windows &&
          std::abs(index - o.seen) <= config_.appearance_frames) {
        ++matches;
        // The size its motion predicts, within the change a carried track may show (track/tracker.hpp):
        // at most 3% a frame and 1.5x against the network's last box.
        const float limit = std::min(1.5f, 1.0f + 0.03f * static_cast<float>(std::abs(index - o.seen)));
        const float w = std::clamp(p.width(), o.seen_box.width() / limit, o.seen_box.width() * limit);
        const float h = std::clamp(p.height(), o.seen_box.height() / limit, o.seen_box.height() * limit);
        const AppearanceMatch match = match_appearance(frame, o.look, Box::from_center(p.cx(), p.cy(), w, h));
        if (match.similarity >= config_.appearance_similarity) {
          // Still there: hidden and followed from here, with the motion the network's boxes measured.
          here.push_back({.cls = o.cls, .box = match.box, .score = o.score, .source = o.source, .by_appearance = true});
          claimed.push_back(true);
          o.box = match.box;
          o.frame = index;
          o.misses = 0;
          ++stats_.by_appearance;
          continue;
        }
      }
      ++o.misses;
      continue;
    }
    if (here[best].by_appearance) {
      // Found by appearance for this object in the other direction's pass: where it is, not what it looks
      // like or how it moves (those stay as its network last measured them).
      o.box = here[best].box;
      o.frame = index;
      o.misses = 0;
      continue;
    }
    here[best].weak = false;  // it continues a followed object: a region like any other
    // The latest motion the network's boxes show, unsmoothed (a car pulling away from a standstill must not
    // be predicted at rest): from its last box, not from a box placed by appearance since.
    o.velocity = edge_velocity(o.seen_box, static_cast<float>(o.seen), here[best].box, static_cast<float>(index));
    const bool predictable = o.velocity_known && iou(p, here[best].box) >= config_.predictable_iou;
    o.gap = predictable ? std::min(2 * std::max(o.gap, config_.search_every), config_.max_search_gap) : 0;
    o.velocity_known = true;
    o.box = here[best].box;
    o.score = here[best].score;
    o.frame = index;
    o.seen = index;
    o.seen_box = o.box;
    o.look = sample_appearance(frame, o.box, config_.appearance_min_side);
    o.misses = 0;
  }
  std::erase_if(objects, [&](const Known& o) { return o.misses > config_.max_misses; });
  // A box found twice (two windows, or forward and backward) is one object.
  fresh_.clear();
  for (size_t j = 0; j < here.size(); ++j) {
    if (here[j].weak || here[j].by_appearance) continue;
    const bool known = claimed[j] || std::any_of(objects.begin(), objects.end(), [&](const Known& o) {
      return same_kind(here[j], o.cls, o.source) && iou(o.box, here[j].box) > 0.5f;
    });
    if (!known)
      fresh_.push_back({here[j].cls, here[j].source, here[j].box, {}, here[j].score, index, index, here[j].box,
                        sample_appearance(frame, here[j].box, config_.appearance_min_side)});
  }
  objects.insert(objects.end(), fresh_.begin(), fresh_.end());
  std::erase_if(here, [](const Detection& d) { return d.weak; });  // weak evidence that continued nothing
}

// The closing keyframe's weak boxes (scored from `continue_score_factor` of the thresholds) that continue an
// object followed through the interval, as a search window would have accepted them: the same hysteresis at
// the keyframe as between keyframes, where before an object whose score dipped there was lost at the frame
// meant to find everything.
void DetectionSchedule::continue_at_keyframe(const std::vector<Known>& objects, int index) {
  Detections& here = *pending_[index - 1].detections;
  claimed_.assign(here.size(), false);
  predicted_.resize(objects.size());
  for (size_t k = 0; k < objects.size(); ++k)
    predicted_[k] = move_box(objects[k].box, objects[k].velocity, static_cast<float>(index - objects[k].frame));
  assign_continuations(objects, predicted_, [](size_t) { return kAnyContinuation; }, here, claimed_, candidates_, assigned_);
  for (const int best : assigned_)
    if (best >= 0) here[static_cast<size_t>(best)].weak = false;
}

}  // namespace roadveil::detect
