#include "eval/flicker.hpp"

#include <algorithm>

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

}  // namespace roadveil::eval
