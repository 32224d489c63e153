// eval --compare: the paired bootstrap that says whether one configuration measurably hides more than another.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "core/error.hpp"
#include "eval/compare.hpp"

using namespace roadveil;
using namespace roadveil::eval;

namespace {

const std::array<std::vector<std::string>, kMaxObjectClasses> kBuckets = {{{"<16 px", "16-32 px", ">=32 px"},
                                                                           {"<32 px", "32-64 px", ">=64 px"}}};

// `n` images, each with `faces` faces of the 16-32 px bucket of which `hidden(i)` are hidden, and one stray region.
std::vector<ImageCounts> run(int n, int faces, const std::function<int(int)>& hidden, double area = 0.01) {
  std::vector<ImageCounts> out;
  for (int i = 0; i < n; ++i) {
    ImageCounts c;
    c.image = "img" + std::to_string(i) + ".jpg";
    const int h = hidden(i);
    c.counts[0] = {faces, h, 0, 0, faces, h, 0, 0};
    c.stray[0] = 1;
    c.hidden_area = area;
    out.push_back(c);
  }
  return out;
}

const Difference& row(const Comparison& c, const std::string& what) {
  for (const Difference& d : c.rows)
    if (d.what == what) return d;
  throw std::runtime_error("no row " + what);
}

}  // namespace

TEST(CompareRuns, IdenticalRunsDifferByNothing) {
  const auto a = run(30, 4, [](int i) { return i % 5; });
  const Comparison c = compare_runs(a, a, kBuckets);
  EXPECT_EQ(c.images, 30);
  for (const Difference& d : c.rows) {
    EXPECT_DOUBLE_EQ(d.difference, 0) << d.what;
    EXPECT_DOUBLE_EQ(d.low, 0) << d.what;
    EXPECT_DOUBLE_EQ(d.high, 0) << d.what;
  }
  EXPECT_EQ(row(c, "face").truth, 120);
  EXPECT_EQ(row(c, "face 16-32 px").truth, 120);
  EXPECT_THROW(row(c, "plate"), std::runtime_error) << "no plate in the set: no row";
  EXPECT_NE(format_comparison(c, "a.json").find("no measurable difference"), std::string::npos);
}

TEST(CompareRuns, AClearGainHasAnIntervalAboveZeroAndANoisyOneDoesNot) {
  const auto before = run(40, 4, [](int) { return 2; });
  const Comparison clear = compare_runs(before, run(40, 4, [](int) { return 4; }), kBuckets);
  EXPECT_DOUBLE_EQ(row(clear, "face").difference, 0.5);
  EXPECT_GT(row(clear, "face").low, 0);
  EXPECT_NE(format_comparison(clear, "before.json").find("hides more"), std::string::npos);

  // One more face hidden in one image of 40, another lost in another: nothing to adopt a model on.
  const Comparison noisy = compare_runs(before, run(40, 4, [](int i) { return i == 3 ? 3 : i == 7 ? 1 : 2; }), kBuckets);
  EXPECT_DOUBLE_EQ(row(noisy, "face").difference, 0);
  EXPECT_LT(row(noisy, "face").low, 0);
  EXPECT_GT(row(noisy, "face").high, 0);

  // Costs are compared the same way: twice the hidden area in every image.
  const Comparison costly = compare_runs(before, run(40, 4, [](int) { return 2; }, 0.02), kBuckets);
  EXPECT_NEAR(row(costly, "frame hidden").difference, 0.01, 1e-12);
  EXPECT_GT(row(costly, "frame hidden").low, 0);
  EXPECT_NE(format_comparison(costly, "before.json").find("costs more"), std::string::npos);
}

TEST(CompareRuns, IntervalsAreReproducibleAndImagesArePairedByName) {
  const auto a = run(25, 3, [](int i) { return i % 4 == 0 ? 3 : 1; });
  auto b = run(25, 3, [](int i) { return i % 3 == 0 ? 3 : 2; });
  const Comparison first = compare_runs(a, b, kBuckets), second = compare_runs(a, b, kBuckets);
  EXPECT_DOUBLE_EQ(row(first, "face").low, row(second, "face").low);
  EXPECT_DOUBLE_EQ(row(first, "face").high, row(second, "face").high);
  std::reverse(b.begin(), b.end());  // order does not matter, names do
  EXPECT_DOUBLE_EQ(row(compare_runs(a, b, kBuckets), "face").difference, row(first, "face").difference);
  b.pop_back();
  const Comparison fewer = compare_runs(a, b, kBuckets);
  EXPECT_EQ(fewer.images, 24);
  EXPECT_EQ(fewer.only_reference, 1);
  for (auto& c : b) c.image = "other-" + c.image;
  EXPECT_THROW(compare_runs(a, b, kBuckets), Error);
}

TEST(CompareRuns, PerImageCountsSurviveTheJsonReport) {
  const auto a = run(1, 5, [](int) { return 3; }, 0.25);
  const ImageCounts back = image_counts_from_json(to_json(a[0]));
  EXPECT_EQ(back.image, a[0].image);
  EXPECT_EQ(back.counts, a[0].counts);
  EXPECT_EQ(back.stray, a[0].stray);
  EXPECT_DOUBLE_EQ(back.hidden_area, 0.25);
}
