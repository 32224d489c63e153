#include "track/tracker.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

#include "core/borrowed_motion.hpp"

namespace roadveil::track {

namespace {
Box lerp(const Box& a, const Box& b, float t) {
  return {a.x1 + (b.x1 - a.x1) * t, a.y1 + (b.y1 - a.y1) * t, a.x2 + (b.x2 - a.x2) * t, a.y2 + (b.y2 - a.y2) * t};
}
Box hull(const Box& a, const Box& b) {
  return {std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2), std::max(a.y2, b.y2)};
}
// Where the path between two observations (Tracker::Observation) puts the object at `frame`.
template <class Observation>
Box path_at(const Observation& a, const Observation& b, std::int64_t frame) {
  return lerp(a.box, b.box, static_cast<float>(frame - a.frame) / static_cast<float>(b.frame - a.frame));
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
// The median of `n` values (reordered).
float median(float* v, std::size_t n) {
  std::nth_element(v, v + n / 2, v + n);
  const float upper = v[n / 2];
  if (n % 2) return upper;
  return 0.5f * (upper + *std::max_element(v, v + n / 2));
}
}  // namespace

// Per edge, the Theil-Sen line through the observations: the median of the slopes between every two of them,
// and the median of where each puts the line at `at`. One box a detector placed a dozen pixels off moves
// neither (a least-squares or two-point line it tilts: carried 16 frames back, a plate's region drifted 45 px
// from it, zoom clip e1663ee1). Up to kFitObservations observations, the newest towards `at`.
Tracker::Track::Fit Tracker::Track::fit(size_t first, size_t last, std::int64_t at) const {
  constexpr std::size_t kMaxPairs = kFitObservations * (kFitObservations - 1) / 2;
  if (last - first + 1 > kFitObservations) {
    if (obs[last].frame <= at) first = last + 1 - kFitObservations;
    else last = first + kFitObservations - 1;
  }
  const std::size_t n = last - first + 1;
  const Box& nearest = obs[obs[last].frame <= at ? last : first].box;  // the observation at the `at` end
  Fit out{nearest, {}};
  if (n < 2) return out;
  std::array<float, kMaxPairs> slopes{};
  std::array<float, kFitObservations> places{};
  auto edge = [](const Box& b, int e) { return e == 0 ? b.x1 : e == 1 ? b.y1 : e == 2 ? b.x2 : b.y2; };
  float slope[4], place[4];
  for (int e = 0; e < 4; ++e) {
    std::size_t pairs = 0;
    for (std::size_t a = first; a < last; ++a)
      for (std::size_t b = a + 1; b <= last; ++b)
        slopes[pairs++] = (edge(obs[b].box, e) - edge(obs[a].box, e)) / static_cast<float>(obs[b].frame - obs[a].frame);
    slope[e] = median(slopes.data(), pairs);
    for (std::size_t k = first; k <= last; ++k)
      places[k - first] = edge(obs[k].box, e) + slope[e] * static_cast<float>(at - obs[k].frame);
    place[e] = median(places.data(), n);
  }
  out.velocity = {slope[0], slope[1], slope[2], slope[3]};
  out.box = {place[0], place[1], place[2], place[3]};
  if (out.box.x2 <= out.box.x1 || out.box.y2 <= out.box.y1) out.box = nearest;
  return out;
}

Tracker::Tracker(const TrackerConfig& config, const PaddingConfig& padding, int frame_w, int frame_h)
    : config_(config), padding_(padding), w_(frame_w), h_(frame_h) {}

Tracker::Track::Fit Tracker::Track::fit_before(size_t i, int baseline) const {
  if (i == 0 || i >= obs.size()) return {i < obs.size() ? obs[i].box : Box{}, {}};
  size_t from = i - 1;
  while (from > 0 && obs[i].frame - obs[from - 1].frame <= baseline) --from;
  return fit(from, i, obs[i].frame);
}

Tracker::Track::Fit Tracker::Track::fit_after(size_t i, int baseline) const {
  if (i + 1 >= obs.size()) return {i < obs.size() ? obs[i].box : Box{}, {}};
  size_t to = i + 1;
  while (to + 1 < obs.size() && obs[to + 1].frame - obs[i].frame <= baseline) ++to;
  return fit(i, to, obs[i].frame);
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
      // A track predicted wholly out of the frame has left it: what is found in view is something else (zoom
      // clip ba3a17cc: a small false box 60 px below a plate that had left nine frames before continued its
      // track, and the plate's last frames were filled towards it instead of carried out of the frame).
      if (clamp_to(p, static_cast<float>(w_), static_cast<float>(h_)).empty()) continue;
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
    if (config_.enabled && config_.consensus && obs.size() >= 2) {
      // The second opinion on this box: between two detections, their interpolation (only where the
      // neighbours are close enough to fill the frame between them themselves); at a track's first or last
      // detection, which no detection on its other side checks, the path of the detections on its one side
      // extrapolated to it (zoom clips: a plate's last box came back 9 px short of its left edge while the
      // boxes before it had followed the plate).
      const size_t i = static_cast<size_t>(after - obs.begin());
      std::optional<Box> path;
      if (i > 0 && i + 1 < obs.size()) {
        const Observation& a = obs[i - 1];
        const Observation& b = obs[i + 1];
        if (b.frame - a.frame <= config_.max_gap + 1) path = path_at(a, b, frame);
      } else if (i + 1 == obs.size()) {
        // Where the line through the boxes before it (Track::fit) puts it, not the box before it moved on:
        // that one may be off as well (zoom clip 5650236e: a plate's last box 7 px short of its left edge,
        // the box before it 4 px).
        const Observation& a = obs[i - 1];
        if (frame - a.frame <= config_.max_gap + 1) {
          const Track::Fit before = t.fit_before(i - 1, config_.velocity_baseline);
          path = move_box(before.box, before.velocity, static_cast<float>(frame - a.frame));
        }
      } else {
        const Observation& b = obs[1];
        if (b.frame - frame <= config_.max_gap + 1) {
          const Track::Fit after = t.fit_after(1, config_.velocity_baseline);
          path = move_box(after.box, after.velocity, static_cast<float>(frame - b.frame));
        }
      }
      if (path) {
        const Box both = hull(box, *path);
        if (both.area() <= config_.max_consensus_growth * box.area()) box = both;
      }
    }
  } else if (!config_.enabled) {
    return std::nullopt;
  } else if (after != obs.begin() && after != obs.end()) {
    const Observation& a = *(after - 1);
    const Observation& b = *after;
    // Consecutive detections of a track are at most `max_gap` frames apart (`push` matches no older track).
    // Union of the interpolation and a slightly grown copy: motion between detections is not linear.
    box = grow(path_at(a, b, frame), 1.0f + config_.growth_per_frame * std::min(frame - a.frame, b.frame - frame));
    score = std::min(a.score, b.score);
    source = RegionSource::Interpolated;
  } else if (after == obs.end()) {
    const std::int64_t dt = frame - obs.back().frame;
    if (dt > forward_frames(t) && (dt > config_.exit_frames || !leaving_frame(t))) return std::nullopt;
    box = carried(t, obs.size() - 1, dt);  // carried out of the frame: clamped to nothing below
    score = obs.back().score;
    source = RegionSource::Extended;
  } else {
    const std::int64_t dt = obs.front().frame - frame;
    if (dt > config_.extend_backward) return std::nullopt;
    box = carried(t, 0, -dt);
    score = obs.front().score;
    source = RegionSource::Backward;
  }
  if (source == RegionSource::Interpolated) {
    const std::int64_t reach = 2 * static_cast<std::int64_t>(config_.velocity_baseline);
    box = with_jitter_margin(t, frame - reach, frame + reach, box);
  }
  const Box padded = pad_box(box, padding_.of(t.cls, t.kind), padding_.scale, padding_.min_margin_px, w_, h_);
  if (padded.empty()) return std::nullopt;
  return Region{t.cls, padded, score, source, config_.enabled ? t.id : -1};
}

Box Tracker::carried(const Track& t, size_t i, std::int64_t dt) const {
  const Observation& from = t.obs[i];
  Track::Fit path = t.obs.size() < 2 ? Track::Fit{from.box, borrowed_velocity(t, from)}
                    : dt >= 0       ? t.fit_before(i, config_.velocity_baseline)
                                    : t.fit_after(i, config_.velocity_baseline);
  // Carried from both where the detection is and where the track's path puts it (see Track::fit): the last
  // box may be the one a detector placed off, or the object may have turned. Where the two disagree beyond
  // the consensus bound, the path of several boxes is the better guess.
  const Box both = hull(from.box, path.box);
  path.box = both.area() <= config_.max_consensus_growth * from.box.area() ? both : path.box;
  const float frames = static_cast<float>(dt >= 0 ? dt : -dt);
  Box guess = grow(carry(path.box, path.velocity, static_cast<float>(dt), config_), 1.0f + config_.growth_per_frame * frames);
  // The jitter of the detections the motion was measured on, on the track's side of `from`.
  const std::int64_t baseline = config_.velocity_baseline;
  guess = dt >= 0 ? with_jitter_margin(t, from.frame - baseline, from.frame, guess)
                  : with_jitter_margin(t, from.frame, from.frame + baseline, guess);
  return limit_size(guess, from.box, config_.max_region_scale);
}

Box Tracker::with_jitter_margin(const Track& t, std::int64_t from, std::int64_t to, const Box& box) const {
  if (config_.jitter_margin <= 0 || t.obs.size() < 3) return box;
  double sum_x = 0, sum_y = 0;
  int n = 0;
  // Each detection with both neighbours inside [from, to]: what is read is what the window says.
  auto first = std::lower_bound(t.obs.begin(), t.obs.end(), from, [](const Observation& o, std::int64_t f) { return o.frame < f; });
  for (size_t i = static_cast<size_t>(first - t.obs.begin()) + 1; i + 1 < t.obs.size() && t.obs[i + 1].frame <= to; ++i) {
    const Observation &a = t.obs[i - 1], &o = t.obs[i], &b = t.obs[i + 1];
    const Box path = path_at(a, b, o.frame);
    sum_x += static_cast<double>(o.box.x1 - path.x1) * (o.box.x1 - path.x1) + static_cast<double>(o.box.x2 - path.x2) * (o.box.x2 - path.x2);
    sum_y += static_cast<double>(o.box.y1 - path.y1) * (o.box.y1 - path.y1) + static_cast<double>(o.box.y2 - path.y2) * (o.box.y2 - path.y2);
    ++n;
  }
  if (n < 2) return box;  // too few to tell noise from motion
  const float mx = std::min(config_.jitter_margin * static_cast<float>(std::sqrt(sum_x / (2 * n))), config_.max_jitter_share * box.width());
  const float my = std::min(config_.jitter_margin * static_cast<float>(std::sqrt(sum_y / (2 * n))), config_.max_jitter_share * box.height());
  return {box.x1 - mx, box.y1 - my, box.x2 + mx, box.y2 + my};
}

std::int64_t Tracker::forward_frames(const Track& t) const {
  const float followed = static_cast<float>(t.obs.back().frame - t.obs.front().frame);
  const auto share = static_cast<std::int64_t>(std::lround(config_.extend_forward_share * followed));
  return std::max<std::int64_t>(config_.extend_forward, std::min<std::int64_t>(config_.max_extend_forward, share));
}

Box Tracker::borrowed_velocity(const Track& t, const Observation& o) const {
  BorrowedMotion motion(o.box, config_.borrow_radius);
  for (const Track& n : tracks_) {
    if (&n == &t || n.obs.size() < 2) continue;
    const Observation& last = n.obs.back();
    if (std::abs(last.frame - o.frame) > 2 * static_cast<std::int64_t>(config_.max_gap)) continue;
    motion.offer(last.box, n.velocity(config_.velocity_baseline));
  }
  return motion.velocity();
}

bool Tracker::leaving_frame(const Track& t) const {
  // Where its centre will be `exit_frames` after its last detection, moving as it last moved; an object seen
  // once moves as its neighbours do (borrowed_velocity), as it is carried: zoom clip 64a9caff, a 66x88 head
  // at the left edge seen on the first frame only was carried towards the edge for `extend_forward` frames
  // and then shown for the five frames it took to leave. Zero without neighbours: not leaving.
  const Box v = t.obs.size() < 2 ? borrowed_velocity(t, t.obs.back()) : t.velocity(config_.velocity_baseline);
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
  const std::int64_t keep_after = oldest_pending - std::max(config_.longest_forward_carry(), config_.max_gap) - 2;
  std::erase_if(tracks_, [&](const Track& t) { return t.obs.back().frame < keep_after; });
}

}  // namespace roadveil::track
