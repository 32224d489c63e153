#include "eval/coverage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace roadveil::eval {

std::optional<ObjectClass> class_for_label(std::string_view label) {
  std::string l(label);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::array<std::pair<const char*, ObjectClass>, 12> table = {{
      {"human face", ObjectClass::Face},       {"face", ObjectClass::Face},
      {"/m/0dzct", ObjectClass::Face},         {"con_mascarilla", ObjectClass::Face},
      {"sin_mascarilla", ObjectClass::Face},   {"mascarilla_mal_puesta", ObjectClass::Face},
      {"vehicle registration plate", ObjectClass::Plate}, {"/m/01jfm_", ObjectClass::Plate},
      {"license-plate", ObjectClass::Plate},   {"license plate", ObjectClass::Plate},
      {"licence plate", ObjectClass::Plate},   {"plate", ObjectClass::Plate},
  }};
  for (const auto& [name, cls] : table)
    if (l == name) return cls;
  // A class of a model described by a manifest, by its name ("hide_as": "screen"): known once loaded.
  if (const auto custom = object_class_from_string(l); custom && !is_builtin(*custom)) return custom;
  return std::nullopt;
}

namespace {
bool inside(const Box& r, bool ellipse, float x, float y) {
  if (x < r.x1 || x >= r.x2 || y < r.y1 || y >= r.y2) return false;
  if (!ellipse) return true;
  const float rx = 0.5f * r.width(), ry = 0.5f * r.height();
  const float dx = (x - r.cx()) / rx, dy = (y - r.cy()) / ry;
  return dx * dx + dy * dy <= 1.0f;
}

// Pixel rect a region really covers when rendered (covering_rect rounds outward).
Box rendered(const Box& b) { return {std::floor(b.x1), std::floor(b.y1), std::ceil(b.x2), std::ceil(b.y2)}; }
}  // namespace

double covered_fraction(const Box& truth, const std::vector<DrawnRegion>& regions, bool truth_ellipse) {
  const int x1 = static_cast<int>(std::floor(truth.x1)), y1 = static_cast<int>(std::floor(truth.y1));
  const int x2 = static_cast<int>(std::ceil(truth.x2)), y2 = static_cast<int>(std::ceil(truth.y2));
  long total = 0, covered = 0;
  for (int y = y1; y < y2; ++y) {
    for (int x = x1; x < x2; ++x) {
      const float px = x + 0.5f, py = y + 0.5f;
      if (!inside(truth, truth_ellipse, px, py)) continue;
      ++total;
      for (const DrawnRegion& r : regions)
        if (inside(rendered(r.box), r.ellipse, px, py)) {
          ++covered;
          break;
        }
    }
  }
  return total ? static_cast<double>(covered) / total : 0.0;
}

double average_precision(const std::vector<std::vector<Box>>& truth_per_image,
                         const std::vector<std::vector<std::pair<Box, float>>>& detections_per_image) {
  struct Det {
    size_t image;
    Box box;
    float score;
  };
  std::vector<Det> all;
  size_t n_truth = 0;
  for (size_t i = 0; i < truth_per_image.size(); ++i) n_truth += truth_per_image[i].size();
  for (size_t i = 0; i < detections_per_image.size(); ++i)
    for (const auto& [b, s] : detections_per_image[i]) all.push_back({i, b, s});
  if (n_truth == 0) return 0;
  std::sort(all.begin(), all.end(), [](const Det& a, const Det& b) { return a.score > b.score; });
  std::vector<std::vector<bool>> used(truth_per_image.size());
  for (size_t i = 0; i < truth_per_image.size(); ++i) used[i].assign(truth_per_image[i].size(), false);
  std::vector<double> precision, recall;
  size_t tp = 0, fp = 0;
  for (const Det& d : all) {
    float best = 0.5f;
    int best_j = -1;
    const auto& truths = truth_per_image[d.image];
    for (size_t j = 0; j < truths.size(); ++j) {
      const float o = iou(d.box, truths[j]);
      if (o >= best) {
        best = o;
        best_j = static_cast<int>(j);
      }
    }
    if (best_j >= 0 && !used[d.image][best_j]) {
      used[d.image][best_j] = true;
      ++tp;
    } else {
      ++fp;
    }
    precision.push_back(static_cast<double>(tp) / (tp + fp));
    recall.push_back(static_cast<double>(tp) / n_truth);
  }
  double ap = 0, prev_recall = 0;
  for (size_t i = 0; i < precision.size(); ++i) {
    double p = 0;
    for (size_t k = i; k < precision.size(); ++k) p = std::max(p, precision[k]);
    ap += (recall[i] - prev_recall) * p;
    prev_recall = recall[i];
  }
  return ap;
}

double hidden_area_share(const Regions& regions, int width, int height, const EvalConfig& config) {
  if (width <= 0 || height <= 0 || regions.empty()) return 0;
  // A coarse grid is enough for a percentage.
  const int step = std::max(1, std::min(width, height) / 270);
  long total = 0, covered = 0;
  for (int y = step / 2; y < height; y += step)
    for (int x = step / 2; x < width; x += step) {
      ++total;
      for (const Region& r : regions)
        if (inside(rendered(r.box), drawn(r, config).ellipse, x + 0.5f, y + 0.5f)) {
          ++covered;
          break;
        }
    }
  return total ? static_cast<double>(covered) / total : 0;
}

Report evaluate(const std::vector<ImageEval>& images, const EvalConfig& config) {
  Report report;
  report.images = static_cast<int>(images.size());
  using Buckets = std::vector<std::pair<std::string, std::pair<float, float>>>;
  const Buckets face_buckets = {{"<16 px", {0.f, 16.f}}, {"16-32 px", {16.f, 32.f}}, {">=32 px", {32.f, 1e9f}}};
  // Plates, and the classes of one's own models (screens, signs: objects read from a distance like plates).
  const Buckets other_buckets = {{"<32 px", {0.f, 32.f}}, {"32-64 px", {32.f, 64.f}}, {">=64 px", {64.f, 1e9f}}};
  for (int c = 0; c < object_class_count(); ++c)
    for (const auto& [name, range] : (c == static_cast<int>(ObjectClass::Face) ? face_buckets : other_buckets))
      report.classes[c].buckets.push_back({name, range.first, range.second, 0, 0});

  std::array<std::vector<std::vector<Box>>, kMaxObjectClasses> ap_truth;
  std::array<std::vector<std::vector<std::pair<Box, float>>>, kMaxObjectClasses> ap_dets;
  double area_share_sum = 0, seconds = 0;
  for (const ImageEval& img : images) {
    seconds += img.seconds;
    ImageCounts& counts = report.per_image.emplace_back();
    counts.image = img.name;
    for (int c = 0; c < object_class_count(); ++c) {
      const auto cls = static_cast<ObjectClass>(c);
      ClassReport& cr = report.classes[c];
      std::vector<DrawnRegion> regions;
      std::vector<Box> truths;
      for (const Region& r : img.regions)
        if (r.cls == cls) regions.push_back(drawn(r, config));
      for (const GroundTruth& g : img.truth)
        if (g.cls == cls) truths.push_back(g.box);
      for (const Box& t : truths) {
        const bool hidden = covered_fraction(t, regions) >= config.hidden_fraction;
        ++cr.truth;
        cr.hidden += hidden;
        ++counts.counts[c][0];
        counts.counts[c][1] += hidden;
        for (size_t k = 0; k < cr.buckets.size(); ++k) {
          Bucket& b = cr.buckets[k];
          if (t.width() >= b.min_width && t.width() < b.max_width) {
            ++b.total;
            b.hidden += hidden;
            if (k < 3) {
              ++counts.counts[c][2 + 2 * k];
              counts.counts[c][3 + 2 * k] += hidden;
            }
          }
        }
      }
      for (const DrawnRegion& r : regions) {
        ++cr.regions;
        bool matches = false;
        for (const Box& t : truths) matches |= iou(r.box, t) > 0.1f;
        cr.stray += !matches;
        counts.stray[c] += !matches;
      }
      ap_truth[c].push_back(truths);
      std::vector<std::pair<Box, float>> dets;
      for (const Detection& d : img.detections)
        if (d.cls == cls) dets.emplace_back(d.box, d.score);
      ap_dets[c].push_back(std::move(dets));
    }
    counts.hidden_area = hidden_area_share(img.regions, img.width, img.height, config);
    area_share_sum += counts.hidden_area;
  }
  for (int c = 0; c < object_class_count(); ++c) report.classes[c].ap50 = average_precision(ap_truth[c], ap_dets[c]);
  report.hidden_area_share = images.empty() ? 0 : area_share_sum / images.size();
  report.mean_seconds = images.empty() ? 0 : seconds / images.size();
  return report;
}

std::string format_table(const Report& r, const std::string& title) {
  std::string out = fmt::format("{}: {} images, {:.0f} ms per image, {:.1f}% of the frame hidden, {:.2f} stray regions per image\n",
                                title, r.images, r.mean_seconds * 1000, r.hidden_area_share * 100, r.stray_per_image());
  out += fmt::format("{:<6} {:>7} {:>7} {:>9}  {:<40} {:>8} {:>7} {:>6}\n", "class", "truth", "hidden", "recall",
                     "recall by box width", "regions", "stray", "AP50");
  for (int c = 0; c < object_class_count(); ++c) {
    const ClassReport& cr = r.classes[c];
    if (!is_builtin(static_cast<ObjectClass>(c)) && cr.truth == 0 && cr.regions == 0) continue;
    std::string buckets;
    for (const Bucket& b : cr.buckets)
      buckets += b.total ? fmt::format("{} {:.2f} ({})  ", b.name, static_cast<double>(b.hidden) / b.total, b.total)
                         : fmt::format("{} -  ", b.name);
    out += fmt::format("{:<6} {:>7} {:>7} {:>9.3f}  {:<40} {:>8} {:>7} {:>6.3f}\n", to_string(static_cast<ObjectClass>(c)),
                       cr.truth, cr.hidden, cr.recall(), buckets, cr.regions, cr.stray, cr.ap50);
  }
  return out;
}

nlohmann::json to_json(const Report& r) {
  nlohmann::json j = {{"images", r.images},
                      {"mean_seconds_per_image", r.mean_seconds},
                      {"hidden_area_share", r.hidden_area_share},
                      {"stray_regions_per_image", r.stray_per_image()}};
  for (int c = 0; c < object_class_count(); ++c) {
    const ClassReport& cr = r.classes[c];
    if (!is_builtin(static_cast<ObjectClass>(c)) && cr.truth == 0 && cr.regions == 0) continue;
    nlohmann::json buckets = nlohmann::json::array();
    for (const Bucket& b : cr.buckets)
      buckets.push_back({{"name", b.name}, {"truth", b.total}, {"hidden", b.hidden},
                         {"recall", b.total ? static_cast<double>(b.hidden) / b.total : 0.0}});
    j["classes"][std::string(to_string(static_cast<ObjectClass>(c)))] = {
        {"truth", cr.truth}, {"hidden", cr.hidden}, {"recall", cr.recall()}, {"by_width", buckets},
        {"regions", cr.regions}, {"stray", cr.stray}, {"ap50", cr.ap50}};
  }
  nlohmann::json per_image = nlohmann::json::array();
  for (const ImageCounts& c : r.per_image) per_image.push_back(to_json(c));
  j["per_image"] = std::move(per_image);  // for eval --compare: counts[class] = truth, hidden, then per width bucket
  return j;
}

}  // namespace roadveil::eval
