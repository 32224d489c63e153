#pragma once
// How much of each ground-truth face and plate the rendered regions hide, and how much they hide that is
// not a face or a plate. Everything is measured on the regions as rendered (ellipses for faces by
// default), sampled at pixel centres.
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/region.hpp"
#include "eval/compare.hpp"

namespace roadveil::eval {

// Ground-truth class names of the supported data sets, mapped to what roadveil hides (docs/eval.md).
std::optional<ObjectClass> class_for_label(std::string_view label);

struct GroundTruth {
  ObjectClass cls;
  Box box;
};

struct ImageEval {
  std::string name;
  int width = 0, height = 0;
  std::vector<GroundTruth> truth;
  Regions regions;        // final hidden regions (after padding and tracking)
  Detections detections;  // raw detector output, for AP50
  double seconds = 0;     // detection + region time
};

struct EvalConfig {
  float hidden_fraction = 0.9f;  // a ground-truth box counts as hidden when this share of its area is covered
  std::array<bool, kMaxObjectClasses> ellipse{true, false};  // shape each class is rendered with
};

struct Bucket {
  std::string name;
  float min_width = 0, max_width = 0;  // [min, max) in pixels
  int total = 0, hidden = 0;
};

struct ClassReport {
  int truth = 0, hidden = 0;
  std::vector<Bucket> buckets;
  int regions = 0, stray = 0;  // stray: overlaps no ground truth of its class by IoU > 0.1
  double ap50 = 0;
  double recall() const { return truth ? static_cast<double>(hidden) / truth : 0; }
};

struct Report {
  int images = 0;
  std::vector<ImageCounts> per_image;  // what eval --compare pairs with another run's
  std::array<ClassReport, kMaxObjectClasses> classes;
  double hidden_area_share = 0;  // mean share of the frame area hidden (all classes)
  double mean_seconds = 0;
  double stray_per_image() const {
    std::int64_t stray = 0;
    for (const ClassReport& c : classes) stray += c.stray;
    return images ? static_cast<double>(stray) / images : 0;
  }
};

// A region as rendered: its box, and whether only the ellipse inscribed in it is hidden (drawn_as_ellipse).
struct DrawnRegion {
  Box box;
  bool ellipse = false;
};
inline DrawnRegion drawn(const Region& r, const EvalConfig& config) {
  return {r.box, drawn_as_ellipse(r.source, config.ellipse[static_cast<int>(r.cls)])};
}

// Share (0..1) of `truth` (its inscribed ellipse when `truth_ellipse`) covered by the union of `regions`,
// each drawn with its own shape.
double covered_fraction(const Box& truth, const std::vector<DrawnRegion>& regions, bool truth_ellipse = false);

// Share (0..1) of a width x height frame that `regions` hide as rendered (sampled on a coarse grid).
double hidden_area_share(const Regions& regions, int width, int height, const EvalConfig& config);

Report evaluate(const std::vector<ImageEval>& images, const EvalConfig& config);
std::string format_table(const Report& report, const std::string& title);
nlohmann::json to_json(const Report& report);

// Average precision at IoU 0.5 (all-point interpolation, as in Pascal VOC 2010+).
double average_precision(const std::vector<std::vector<Box>>& truth_per_image,
                         const std::vector<std::vector<std::pair<Box, float>>>& detections_per_image);

}  // namespace roadveil::eval
