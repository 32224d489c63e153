#pragma once
// Whether one configuration (a new model, other thresholds) measurably hides more than another on the same
// annotated images: the difference of recall per class and box-width bucket, with a 95% confidence interval
// from a paired bootstrap over images (the images are resampled with replacement, both configurations scored
// on the same resample), so that a team adopts a model only when the interval excludes zero.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/region.hpp"

namespace roadveil::eval {

// What one configuration did on one image (Report::per_image, written to eval's JSON as "per_image").
struct ImageCounts {
  std::string image;
  // Per class: [truth, hidden] for all boxes, then for each of the 3 width buckets.
  std::array<std::array<int, 8>, kMaxObjectClasses> counts{};
  std::array<int, kMaxObjectClasses> stray{};
  double hidden_area = 0;  // share of the frame
};
nlohmann::json to_json(const ImageCounts& c);
ImageCounts image_counts_from_json(const nlohmann::json& j);

struct Difference {
  std::string what;       // "face", "face <16 px", ..., "frame hidden", "stray per image"
  int images = 0;         // images that have such a box (all images for area and stray)
  int truth = 0;          // boxes measured (0 for area and stray)
  bool cost = false;      // area or stray regions (more is worse), not a recall (more is better)
  double reference = 0, candidate = 0;  // recall, or the mean share / count per image
  double difference = 0, low = 0, high = 0;  // candidate - reference and its 95% interval
};

struct Comparison {
  std::string unit = "images";  // what was resampled: images, or a video's objects and frames
  int images = 0;  // units in both runs
  int only_reference = 0, only_candidate = 0;
  std::vector<Difference> rows;
};

// Pairs the images of both runs by name and bootstraps `resamples` times (seeded: the same inputs give the
// same intervals). Throws Error when no image is in both.
Comparison compare_runs(const std::vector<ImageCounts>& reference, const std::vector<ImageCounts>& candidate,
                        const std::array<std::vector<std::string>, kMaxObjectClasses>& bucket_names,
                        int resamples = 2000, std::uint64_t seed = 1);

// The same for one video against its per-frame truth, from two `eval --json` reports of it ("per_object",
// "hidden_area_per_frame"): objects are paired by class and id and resampled for the object-frames hidden and
// the objects never exposed; frames are resampled for the frame area hidden. Throws Error naming what is
// missing or when the two runs share no object.
Comparison compare_video_runs(const nlohmann::json& reference, const nlohmann::json& candidate, int resamples = 2000,
                              std::uint64_t seed = 1);
// Whether an eval --json report has what compare_video_runs needs.
bool is_video_report(const nlohmann::json& report);
std::string format_comparison(const Comparison& c, const std::string& reference_name);
nlohmann::json to_json(const Comparison& c);

}  // namespace roadveil::eval
