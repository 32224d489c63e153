#include "track/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace roadveil::track {

namespace {
Box lerp(const Box& a, const Box& b, float t) {
  return {a.x1 + (b.x1 - a.x1) * t, a.y1 + (b.y1 - a.y1) * t, a.x2 + (b.x2 - a.x2) * t, a.y2 + (b.y2 - a.y2) * t};
}
Box hull(const Box& a, const Box& b) {
  return {std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2), std::max(a.y2, b.y2)};
}
Box grow(const Box& b, float factor) {
  return Box::from_center(b.cx(), b.cy(), b.width() * factor, b.height() * factor);
}
// `moved`, extrapolated `dt` frames from `anchor`, with its size held within the plausible change.
Box bounded_carry(const Box& anchor, const Box& moved, float dt, const TrackerConfig& c) {
  const float limit = std::max(1.0f, std::min(c.max_carry_scale, 1.0f + c.max_scale_per_frame * dt));
  const float w = std::clamp(moved.width(), anchor.width() / limit, anchor.width() * limit);
  const float h = std::clamp(moved.height(), anchor.height() / limit, anchor.height() * limit);
  return Box::from_center(moved.cx(), moved.cy(), w, h);
}
// `box`, no wider or taller than `scale` times `anchor` (the box shrinks around its centre).
Box limit_size(const Box& box, const Box& anchor, float scale) {
  if (scale <= 0) return box;
  const float w = std::min(box.width(), scale * anchor.width()), h = std::min(box.height(), scale * anchor.height());
  return Box::from_center(box.cx(), box.cy(), w, h);
}
// `anchor` carried `dt` frames (negative: back in time) at any speed between (1 -+ spread) times `velocity`,
// the spread at most `max_spread` of the anchor's size on each edge.
Box carry(const Box& anchor, const Box& velocity, float dt, const TrackerConfig& c) {
  const Box linear = move_box(anchor, velocity, dt);
  const float cap_x = c.max_spread * anchor.width(), cap_y = c.max_spread * anchor.height();
  auto spread = [&](float v, float cap) { return std::clamp(v * dt * c.speed_spread, -cap, cap); };
  const Box d{spread(velocity.x1, cap_x), spread(velocity.y1, cap_y), spread(velocity.x2, cap_x), spread(velocity.y2, cap_y)};
  const Box ahead{linear.x1 + d.x1, linear.y1 + d.y1, linear.x2 + d.x2, linear.y2 + d.y2};
  const Box behind{linear.x1 - d.x1, linear.y1 - d.y1, linear.x2 - d.x2, linear.y2 - d.y2};
  const float frames = std::abs(dt);
  return hull(bounded_carry(anchor, ahead, frames, c), bounded_carry(anchor, behind, frames, c));
}
}  // namespace

Tracker::Tracker(const TrackerConfig& config, const PaddingConfig& padding, int frame_w, int frame_h)
    : config_(config), padding_(padding), w_(frame_w), h_(frame_h) {}

Box Tracker::Track::velocity(int baseline) const {
  if (obs.size() < 2) return {};
  const Observation& last = obs.back();
  size_t from = obs.size() - 2;
  while (from > 0 && last.frame - obs[from - 1].frame <= baseline) --from;
  return edge_velocity(obs[from].box, static_cast<float>(obs[from].frame), last.box, static_cast<float>(last.frame));
}

Box Tracker::Track::start_velocity(int baseline) const {
  if (obs.size() < 2) return {};
  const Observation& first = obs.front();
  size_t to = 1;
  while (to + 1 < obs.size() && obs[to + 1].frame - first.frame <= baseline) ++to;
  return edge_velocity(first.box, static_cast<float>(first.frame), obs[to].box, static_cast<float>(obs[to].frame));
}

Box Tracker::Track::predict(std::int64_t frame, int baseline) const {
  return move_box(obs.back().box, velocity(baseline), static_cast<float>(frame - obs.back().frame));
}

void Tracker::push(const Detections& detections) {
  const std::int64_t frame = next_frame_++;
  if (!config_.enabled) {
    for (const Detection& d : detections)
      tracks_.push_back({next_id_++, d.cls, {{frame, d.box, d.score}}, d.source});
    return;
  }
  // Greedy matching by overlap with each live track's prediction; candidates sorted by quality.
  struct Candidate {
    float quality;
    size_t det, track;
  };
  std::vector<Candidate> candidates;
  for (size_t di = 0; di < detections.size(); ++di) {
    const Detection& d = detections[di];
    for (size_t ti = 0; ti < tracks_.size(); ++ti) {
      const Track& t = tracks_[ti];
      if (t.cls != d.cls || t.kind != d.source || t.obs.back().frame >= frame || frame - t.obs.back().frame > config_.max_gap + 1) continue;
      // Matching predicts one step from the latest motion (the last two detections): a longer baseline
      // here lost plates that turned or slowed (zoom clips: plates never exposed 121 -> 118 of 135).
      const Box p = t.predict(frame, 1);
      const float overlap = iou(p, d.box);
      const float size = std::max({p.width(), p.height(), d.box.width(), d.box.height(), 1.0f});
      const float dist = std::hypot(p.cx() - d.box.cx(), p.cy() - d.box.cy()) / size;
      const float ratio = std::max(p.area(), d.box.area()) / std::max(1.0f, std::min(p.area(), d.box.area()));
      if (ratio > 4.0f) continue;
      // The longer the object went unseen, the further it may have moved.
      const float gap = static_cast<float>(frame - t.obs.back().frame);
      if (overlap >= config_.match_iou || dist <= config_.match_center_dist * std::sqrt(gap))
        candidates.push_back({overlap + 0.5f * (1.0f - std::min(dist, 1.0f)), di, ti});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.quality > b.quality; });
  std::vector<bool> det_used(detections.size(), false), track_used(tracks_.size(), false);
  for (const Candidate& c : candidates) {
    if (det_used[c.det] || track_used[c.track]) continue;
    det_used[c.det] = track_used[c.track] = true;
    tracks_[c.track].obs.push_back({frame, detections[c.det].box, detections[c.det].score});
  }
  for (size_t di = 0; di < detections.size(); ++di) {
    if (det_used[di]) continue;
    const Detection& d = detections[di];
    tracks_.push_back({next_id_++, d.cls, {{frame, d.box, d.score}}, d.source});
  }
}

std::optional<Region> Tracker::region_for(const Track& t, std::int64_t frame) const {
  const auto& obs = t.obs;
  auto after = std::lower_bound(obs.begin(), obs.end(), frame,
                                [](const Observation& o, std::int64_t f) { return o.frame < f; });
  Box box;
  float score = 0;
  RegionSource source;
  if (after != obs.end() && after->frame == frame) {
    box = after->box;
    score = after->score;
    source = t.kind;
    if (config_.enabled && config_.consensus && after != obs.begin() && after + 1 != obs.end()) {
      const Observation& a = *(after - 1);
      const Observation& b = *(after + 1);
      if (b.frame - a.frame <= config_.max_gap + 1) {
        const float s = static_cast<float>(frame - a.frame) / static_cast<float>(b.frame - a.frame);
        const Box both = hull(box, lerp(a.box, b.box, s));
        if (both.area() <= config_.max_consensus_growth * box.area()) box = both;
      }
    }
  } else if (!config_.enabled) {
    return std::nullopt;
  } else if (after != obs.begin() && after != obs.end()) {
    const Observation& a = *(after - 1);
    const Observation& b = *after;
    if (b.frame - a.frame > config_.max_gap + 1) {
      // A long gap: treat as the end of one track and the start of the next.
      const std::int64_t since = frame - a.frame, until = b.frame - frame;
      if (since <= config_.extend_forward) {
        box = grow(a.box, 1.0f + config_.growth_per_frame * since);
        score = a.score;
        source = RegionSource::Extended;
      } else if (until <= config_.extend_backward) {
        box = grow(b.box, 1.0f + config_.growth_per_frame * until);
        score = b.score;
        source = RegionSource::Backward;
      } else {
        return std::nullopt;
      }
    } else {
      const float s = static_cast<float>(frame - a.frame) / static_cast<float>(b.frame - a.frame);
      // Union of the interpolation and a slightly grown copy: motion between detections is not linear.
      box = grow(lerp(a.box, b.box, s), 1.0f + config_.growth_per_frame * std::min(frame - a.frame, b.frame - frame));
      score = std::min(a.score, b.score);
      source = RegionSource::Interpolated;
    }
  } else if (after == obs.end()) {
    const Observation& last = obs.back();
    const std::int64_t dt = frame - last.frame;
    if (dt > config_.extend_forward && (dt > config_.exit_frames || !leaving_frame(t))) return std::nullopt;
    // Carried out of the frame: clamped to nothing below.
    const Box v = obs.size() >= 2 ? t.velocity(config_.velocity_baseline) : borrowed_velocity(t);
    box = limit_size(grow(carry(last.box, v, static_cast<float>(dt), config_), 1.0f + config_.growth_per_frame * dt), last.box,
                     config_.max_region_scale);
    score = last.score;
    source = RegionSource::Extended;
  } else {
    const Observation& first = obs.front();
    const std::int64_t dt = first.frame - frame;
    if (dt > config_.extend_backward) return std::nullopt;
    const Box v = obs.size() >= 2 ? t.start_velocity(config_.velocity_baseline) : borrowed_velocity(t);
    box = limit_size(grow(carry(first.box, v, -static_cast<float>(dt), config_), 1.0f + config_.growth_per_frame * dt), first.box,
                     config_.max_region_scale);
    score = first.score;
    source = RegionSource::Backward;
  }
  const Box padded = pad_box(box, padding_.of(t.cls, t.kind), padding_.scale, padding_.min_margin_px, w_, h_);
  if (padded.empty()) return std::nullopt;
  return Region{t.cls, padded, score, source, config_.enabled ? t.id : -1};
}

// Each neighbour's motion as its centre's velocity and its growth rate (per frame, relative to its size), so
// that a neighbour twice as large lends the same expansion, not twice the pixels; weighted by nearness.
Box Tracker::borrowed_velocity(const Track& t) const {
  if (config_.borrow_radius <= 0 || t.obs.empty()) return {};
  const Observation& o = t.obs.back();
  const float size = std::max({o.box.width(), o.box.height(), 1.0f});
  float weight = 0, vx = 0, vy = 0, gx = 0, gy = 0;
  for (const Track& n : tracks_) {
    if (&n == &t || n.obs.size() < 2) continue;
    const Observation& last = n.obs.back();
    if (std::abs(last.frame - o.frame) > 2 * static_cast<std::int64_t>(config_.max_gap)) continue;
    const float d = std::hypot(last.box.cx() - o.box.cx(), last.box.cy() - o.box.cy()) / size;
    if (d > config_.borrow_radius) continue;
    const Box v = n.velocity(config_.velocity_baseline);
    const float w = 1.0f / (1.0f + d);
    vx += w * 0.5f * (v.x1 + v.x2);
    vy += w * 0.5f * (v.y1 + v.y2);
    gx += w * (v.x2 - v.x1) / std::max(1.0f, last.box.width());
    gy += w * (v.y2 - v.y1) / std::max(1.0f, last.box.height());
    weight += w;
  }
  if (weight <= 0) return {};
  vx /= weight, vy /= weight, gx /= weight, gy /= weight;
  const float hw = 0.5f * gx * o.box.width(), hh = 0.5f * gy * o.box.height();
  return {vx - hw, vy - hh, vx + hw, vy + hh};
}

bool Tracker::leaving_frame(const Track& t) const {
  if (t.obs.size() < 2) return false;  // no motion known
  // Where its centre will be `exit_frames` after its last detection, moving as it last moved.
  const Box v = t.velocity(config_.velocity_baseline);
  const Box& last = t.obs.back().box;
  const float steps = static_cast<float>(config_.exit_frames);
  const float cx = last.cx() + 0.5f * (v.x1 + v.x2) * steps, cy = last.cy() + 0.5f * (v.y1 + v.y2) * steps;
  return cx < 0 || cy < 0 || cx > static_cast<float>(w_) || cy > static_cast<float>(h_);
}

std::optional<FrameRegions> Tracker::pop() {
  if (next_pop_ >= next_frame_) return std::nullopt;
  if (!finished_ && next_frame_ - next_pop_ <= config_.lookahead()) return std::nullopt;
  FrameRegions out{next_pop_, {}};
  for (const Track& t : tracks_)
    if (auto r = region_for(t, next_pop_)) out.regions.push_back(*r);
  // In a canonical order, not in the order the tracks were made: a part of a split run starts its tracks at
  // another frame than one run does, and must write the same regions file and draw overlapping regions in
  // the same order.
  std::sort(out.regions.begin(), out.regions.end(), [](const Region& a, const Region& b) {
    return std::tuple(a.cls, a.source, a.box.y1, a.box.x1, a.box.y2, a.box.x2, a.score) <
           std::tuple(b.cls, b.source, b.box.y1, b.box.x1, b.box.y2, b.box.x2, b.score);
  });
  ++next_pop_;
  prune(next_pop_);
  return out;
}

void Tracker::prune(std::int64_t oldest_pending) {
  const std::int64_t keep_after = oldest_pending - std::max({config_.extend_forward, config_.exit_frames, config_.max_gap}) - 2;
  std::erase_if(tracks_, [&](const Track& t) { return t.obs.back().frame < keep_after; });
}

}  // namespace roadveil::track
