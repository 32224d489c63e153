#include "eval/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "core/error.hpp"
#include "core/json_integer.hpp"

namespace roadveil::eval {

nlohmann::json to_json(const ImageCounts& c) {
  nlohmann::json j = {{"image", c.image}, {"hidden_area", c.hidden_area}};
  for (int k = 0; k < object_class_count(); ++k)
    if (is_builtin(static_cast<ObjectClass>(k)) || c.counts[k][0] > 0 || c.stray[k] > 0)
      j[std::string(to_string(static_cast<ObjectClass>(k)))] = {{"counts", c.counts[k]}, {"stray", c.stray[k]}};
  return j;
}

ImageCounts image_counts_from_json(const nlohmann::json& j) {
  ImageCounts c;
  c.image = j.at("image").get<std::string>();
  c.hidden_area = j.at("hidden_area").get<double>();
  // Every other key is a class, by name: the classes of one's own models are written only where they occur.
  for (const auto& [name, cls] : j.items()) {
    if (!cls.is_object() || !cls.contains("counts") || !cls.contains("stray")) continue;  // not a class
    const int k = static_cast<int>(intern_object_class(name));
    c.counts[k] = json_integers<int, 8>(cls.at("counts"));
    c.stray[k] = json_integer<int>(cls.at("stray"));
  }
  return c;
}

namespace {

// One measured quantity: a ratio of sums (recall: hidden / truth) or a mean per image (area, stray).
struct Metric {
  std::string what;
  int cls = -1, slot = 0;  // recall of counts[cls][2*slot], [2*slot+1]; cls -1: area (slot 0) or stray (slot 1)
};

struct Sums {
  double num = 0, den = 0;
  double value() const { return den > 0 ? num / den : 0; }
};

Sums sums_of(const Metric& m, const ImageCounts& c, Sums s) {
  if (m.cls >= 0) {
    s.num += c.counts[m.cls][2 * m.slot + 1];
    s.den += c.counts[m.cls][2 * m.slot];
  } else {
    int stray = 0;
    for (int k = 0; k < kMaxObjectClasses; ++k) stray += c.stray[k];
    s.num += m.slot == 0 ? c.hidden_area : static_cast<double>(stray);
    s.den += 1;
  }
  return s;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < sorted.size() ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

}  // namespace

Comparison compare_runs(const std::vector<ImageCounts>& reference, const std::vector<ImageCounts>& candidate,
                        const std::array<std::vector<std::string>, kMaxObjectClasses>& bucket_names, int resamples,
                        std::uint64_t seed) {
  std::map<std::string, const ImageCounts*> by_name;
  for (const ImageCounts& r : reference) by_name[r.image] = &r;
  std::vector<std::pair<const ImageCounts*, const ImageCounts*>> pairs;
  Comparison out;
  for (const ImageCounts& c : candidate) {
    const auto it = by_name.find(c.image);
    if (it == by_name.end()) {
      ++out.only_candidate;
      continue;
    }
    pairs.emplace_back(it->second, &c);
  }
  out.images = static_cast<int>(pairs.size());
  out.only_reference = static_cast<int>(reference.size()) - out.images;
  if (pairs.empty()) throw Error("the two runs have no image in common: compare runs on the same annotated images");

  std::vector<Metric> metrics;
  for (int k = 0; k < object_class_count(); ++k) {
    const std::string name(to_string(static_cast<ObjectClass>(k)));
    metrics.push_back({name, k, 0});
    for (size_t b = 0; b < bucket_names[k].size() && b < 3; ++b)
      metrics.push_back({name + " " + bucket_names[k][b], k, static_cast<int>(b) + 1});
  }
  metrics.push_back({"frame hidden", -1, 0});
  metrics.push_back({"stray per image", -1, 1});

  const size_t n = pairs.size();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<std::vector<double>> diffs(metrics.size());
  std::vector<size_t> sample(n);
  for (int r = 0; r < resamples; ++r) {
    for (size_t& s : sample) s = pick(rng);
    for (size_t m = 0; m < metrics.size(); ++m) {
      Sums a, b;
      for (size_t s : sample) {
        a = sums_of(metrics[m], *pairs[s].first, a);
        b = sums_of(metrics[m], *pairs[s].second, b);
      }
      if (a.den > 0 && b.den > 0) diffs[m].push_back(b.value() - a.value());  // a resample without such boxes says nothing
    }
  }
  for (size_t m = 0; m < metrics.size(); ++m) {
    Sums a, b;
    int images = 0;
    for (const auto& [ref, cand] : pairs) {
      const Sums before = a;
      a = sums_of(metrics[m], *ref, a);
      b = sums_of(metrics[m], *cand, b);
      images += a.den > before.den;
    }
    if (metrics[m].cls >= 0 && a.den == 0) continue;  // no box of this kind in the set
    Difference d;
    d.what = metrics[m].what;
    d.images = images;
    d.truth = metrics[m].cls >= 0 ? static_cast<int>(a.den) : 0;
    d.cost = metrics[m].cls < 0;
    d.reference = a.value();
    d.candidate = b.value();
    d.difference = d.candidate - d.reference;
    std::sort(diffs[m].begin(), diffs[m].end());
    d.low = percentile(diffs[m], 0.025);
    d.high = percentile(diffs[m], 0.975);
    out.rows.push_back(d);
  }
  return out;
}

bool is_video_report(const nlohmann::json& report) {
  return report.is_object() && report.contains("per_object") && report.contains("hidden_area_per_frame");
}

Comparison compare_video_runs(const nlohmann::json& reference, const nlohmann::json& candidate, int resamples,
                              std::uint64_t seed) {
  // Each object is a unit whose "recall" slots are its frames [visible, hidden] and [1, never exposed]; each
  // frame is a unit with its hidden area. The two kinds are resampled apart (an object is not a frame).
  auto objects = [](const nlohmann::json& report) {
    std::vector<ImageCounts> units;
    for (const auto& o : report.at("per_object")) {
      const ObjectClass cls = intern_object_class(o.at("class").get<std::string>());
      ImageCounts u;
      u.image = std::string(to_string(cls)) + " " + std::to_string(json_integer<std::int64_t>(o.at("id")));
      const int frames = json_integer<int>(o.at("frames")), hidden = json_integer<int>(o.at("hidden"));
      u.counts[static_cast<int>(cls)] = {frames, hidden, 1, frames == hidden ? 1 : 0, 0, 0, 0, 0};
      units.push_back(u);
    }
    return units;
  };
  auto frames = [](const nlohmann::json& report) {
    std::vector<ImageCounts> units;
    int index = 0;
    for (const auto& a : report.at("hidden_area_per_frame")) {
      ImageCounts u;
      u.image = std::to_string(index++);
      u.hidden_area = a.get<double>();
      units.push_back(u);
    }
    return units;
  };
  std::array<std::vector<std::string>, kMaxObjectClasses> never;
  for (auto& names : never) names = {"never exposed"};
  Comparison by_object;
  try {
    by_object = compare_runs(objects(reference), objects(candidate), never, resamples, seed);
  } catch (const Error&) {
    throw Error("the two runs have no object in common: compare runs of the same video and ground truth");
  }
  Comparison out = by_object;
  out.unit = "objects";
  std::erase_if(out.rows, [](const Difference& d) { return d.cost; });  // area and stray mean nothing per object
  const auto ref_frames = frames(reference), cand_frames = frames(candidate);
  if (!ref_frames.empty() && !cand_frames.empty()) {
    const Comparison by_frame = compare_runs(ref_frames, cand_frames, {}, resamples, seed);
    for (const Difference& d : by_frame.rows)
      if (d.what == "frame hidden") out.rows.push_back(d);
  }
  return out;
}

std::string format_comparison(const Comparison& c, const std::string& reference_name) {
  std::string out = fmt::format(
      "compared with {}: {} {} in both ({} only in the reference, {} only in this run); 95% intervals from a "
      "bootstrap over the {}{}\n",
      reference_name, c.images, c.unit, c.only_reference, c.only_candidate, c.unit,
      c.unit == "objects" ? " (frame area: over the frames)" : "");
  out += fmt::format("{:<22} {:>6} {:>10} {:>10}  {:<30} {}\n", "", c.unit == "objects" ? "count" : "boxes", "reference",
                     "this run", "difference [95% interval]", "");
  for (const Difference& d : c.rows) {
    const bool cost = d.cost, percent = d.what == "frame hidden";
    auto v = [&](double x) { return percent ? fmt::format("{:.2f}%", 100 * x) : cost ? fmt::format("{:.2f}", x) : fmt::format("{:.3f}", x); };
    auto s = [&](double x) { return fmt::format("{}{}", x >= 0 ? "+" : "", v(x)); };
    const char* verdict = d.low > 0 ? (cost ? "costs more" : "hides more")
                          : d.high < 0 ? (cost ? "costs less" : "hides less")
                                       : "no measurable difference";
    out += fmt::format("{:<22} {:>6} {:>10} {:>10}  {:<30} {}\n", d.what, cost ? std::string() : std::to_string(d.truth),
                       v(d.reference), v(d.candidate), fmt::format("{} [{}, {}]", s(d.difference), s(d.low), s(d.high)), verdict);
  }
  return out;
}

nlohmann::json to_json(const Comparison& c) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Difference& d : c.rows)
    rows.push_back({{"what", d.what}, {"images", d.images}, {"truth", d.truth}, {"reference", d.reference},
                    {"candidate", d.candidate}, {"difference", d.difference}, {"ci95", {d.low, d.high}}});
  return {{"unit", c.unit}, {"images", c.images}, {"only_reference", c.only_reference}, {"only_candidate", c.only_candidate}, {"rows", rows}};
}

}  // namespace roadveil::eval
