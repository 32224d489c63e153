#include "eval/agreement.hpp"

#include <algorithm>
#include <vector>

namespace roadveil::eval {

void Agreement::add(const Agreement& o) {
  frames += o.frames;
  frames_with_miss += o.frames_with_miss;
  longest_miss_run = std::max(longest_miss_run, o.longest_miss_run);
  for (int c = 0; c < object_class_count(); ++c) {
    classes[c].reference += o.classes[c].reference;
    classes[c].hidden += o.classes[c].hidden;
  }
}

Agreement compare_regions(const std::map<std::int64_t, Regions>& reference,
                          const std::map<std::int64_t, Regions>& candidate, std::int64_t frame_count,
                          const EvalConfig& config) {
  Agreement a;
  a.frames = frame_count;
  std::int64_t run = 0;
  std::vector<DrawnRegion> cover;
  for (std::int64_t f = 0; f < frame_count; ++f) {
    bool missed = false;
    const auto ref = reference.find(f);
    if (ref != reference.end()) {
      const auto cand = candidate.find(f);
      for (const Region& r : ref->second) {
        const int c = static_cast<int>(r.cls);
        cover.clear();
        if (cand != candidate.end())
          for (const Region& o : cand->second)
            if (o.cls == r.cls) cover.push_back(drawn(o, config));
        ++a.classes[c].reference;
        const Box core = Box::from_center(r.box.cx(), r.box.cy(), (1 - 2 * kEdgeTolerance) * r.box.width(),
                                          (1 - 2 * kEdgeTolerance) * r.box.height());
        if (covered_fraction(core, cover, drawn(r, config).ellipse) >= config.hidden_fraction)
          ++a.classes[c].hidden;
        else
          missed = true;
      }
    }
    run = missed ? run + 1 : 0;
    a.frames_with_miss += missed;
    a.longest_miss_run = std::max(a.longest_miss_run, run);
  }
  return a;
}

}  // namespace roadveil::eval
