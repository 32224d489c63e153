#include "eval/flicker.hpp"

#include <algorithm>
#include <cmath>

namespace roadveil::eval {

namespace {
const Regions kNone;
const Regions& at(const std::map<std::int64_t, Regions>& frames, std::int64_t i) {
  const auto it = frames.find(i);
  return it == frames.end() ? kNone : it->second;
}
// Continuity between neighbouring frames: any overlap, since small plates move more than their own size.
bool touches(const Region& r, const Regions& others) {
  return std::any_of(others.begin(), others.end(),
                     [&](const Region& o) { return o.cls == r.cls && intersection(o.box, r.box).area() > 0; });
}
}  // namespace

FlickerCount count_flicker(const std::map<std::int64_t, Regions>& frames, std::int64_t frame_count) {
  FlickerCount c;
  c.frames = frame_count;
  for (std::int64_t t = 1; t + 1 < frame_count; ++t) {
    const Regions &before = at(frames, t - 1), &now = at(frames, t), &after = at(frames, t + 1);
    for (const Region& r : now)
      if (!touches(r, before) && !touches(r, after)) ++c.blips;
    for (const Region& r : before)
      if (touches(r, after) && !touches(r, now)) ++c.holes;
  }
  return c;
}

CarriedGrowth largest_carried_region(const std::map<std::int64_t, Regions>& frames) {
  auto carried = [](RegionSource s) {
    return s == RegionSource::Interpolated || s == RegionSource::Extended || s == RegionSource::Backward;
  };
  std::map<int, float> detected_area;  // track -> largest detected region
  for (const auto& [index, regions] : frames)
    for (const Region& r : regions)
      if (r.track_id >= 0 && !carried(r.source)) detected_area[r.track_id] = std::max(detected_area[r.track_id], r.box.area());
  CarriedGrowth g;
  for (const auto& [index, regions] : frames)
    for (const Region& r : regions) {
      const auto it = detected_area.find(r.track_id);
      if (!carried(r.source) || it == detected_area.end() || it->second <= 0) continue;
      const double ratio = std::sqrt(static_cast<double>(r.box.area()) / it->second);
      if (ratio > g.ratio) g = {ratio, index, r.track_id};
    }
  return g;
}

}  // namespace roadveil::eval
