#pragma once
// How much of what a reference run hid a candidate run also hides, frame by frame: for videos, where no
// ground truth exists, the reference is the exhaustive run (full detection on every frame, no padding, no
// tracking: the detector's own boxes) and the candidate a faster schedule. A reference box counts as
// hidden when the candidate's regions cover `hidden_fraction` of it, as `eval` counts ground truth; a region
// drawn as an ellipse (drawn_as_ellipse) is compared as the ellipse the reference drew. Reference boxes are first shrunk by
// `kEdgeTolerance` of their size on each side: the same network run at two resolutions places box edges
// that far apart (90th percentile 8% per side, plates on the shared videos), and no candidate can be
// asked to cover the reference network's slack exactly.
#include <array>
#include <cstdint>
#include <map>

#include "core/region.hpp"
#include "eval/coverage.hpp"

namespace roadveil::eval {

inline constexpr float kEdgeTolerance = 0.1f;

struct ClassAgreement {
  std::int64_t reference = 0, hidden = 0;
  double share() const { return reference ? static_cast<double>(hidden) / static_cast<double>(reference) : 1.0; }
};

struct Agreement {
  std::int64_t frames = 0;
  std::int64_t frames_with_miss = 0;  // frames where some reference box is not hidden
  std::int64_t longest_miss_run = 0;  // most consecutive such frames
  std::array<ClassAgreement, kMaxObjectClasses> classes;
  void add(const Agreement& other);
};

// Frames are indexed 0 .. frame_count-1; frames missing from a map hide nothing.
Agreement compare_regions(const std::map<std::int64_t, Regions>& reference,
                          const std::map<std::int64_t, Regions>& candidate, std::int64_t frame_count,
                          const EvalConfig& config = {});

}  // namespace roadveil::eval
