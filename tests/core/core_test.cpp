#include <gtest/gtest.h>

#include "core/borrowed_motion.hpp"
#include "core/geometry.hpp"
#include "core/region.hpp"
#include "core/sha256.hpp"
#include "core/error.hpp"
#include "core/json_integer.hpp"

#include <filesystem>
#include <fstream>

using namespace roadveil;

TEST(Geometry, IouOfIdenticalDisjointAndHalfOverlappingBoxes) {
  const Box a{0, 0, 10, 10};
  EXPECT_FLOAT_EQ(iou(a, a), 1.0f);
  EXPECT_FLOAT_EQ(iou(a, Box{20, 20, 30, 30}), 0.0f);
  EXPECT_NEAR(iou(a, Box{5, 0, 15, 10}), 50.0f / 150.0f, 1e-6);
}

TEST(Geometry, CoveringRectRoundsOutwardAndClamps) {
  EXPECT_EQ(covering_rect(Box{1.2f, 2.7f, 5.1f, 6.0f}, 100, 100), (PixelRect{1, 2, 5, 4}));
  EXPECT_EQ(covering_rect(Box{-5, -5, 3.5f, 200}, 10, 20), (PixelRect{0, 0, 4, 20}));
  EXPECT_TRUE(covering_rect(Box{50, 50, 60, 60}, 10, 10).empty());
}

TEST(Geometry, ClampKeepsBoxInsideFrame) {
  const Box b = clamp_to(Box{-3, 4, 15, 30}, 10, 20);
  EXPECT_EQ(b, (Box{0, 4, 10, 20}));
}

TEST(Geometry, AUnionIsWorthLookingAtOnlyWhereItCostsNoMoreDetectorPixels) {
  const Box big{0, 0, 400, 200}, small{300, 100, 364, 164}, beside{380, 0, 780, 200};
  // At equal scales: a window inside another costs nothing more; two side by side overlapping a little cost
  // more as their union (the corners outside both).
  EXPECT_TRUE(union_costs_no_more(big, 0.5f, small, 0.5f, bounding_union(big, small)));
  EXPECT_FALSE(union_costs_no_more(big, 1.0f, Box{380, 150, 780, 350}, 1.0f, bounding_union(big, Box{380, 150, 780, 350})));
  EXPECT_TRUE(union_costs_no_more(big, 1.0f, beside, 1.0f, bounding_union(big, beside)));
  // A small window at 2x inside a large one at 0.5x: their union at 2x costs 16 times the large one's.
  EXPECT_FALSE(union_costs_no_more(big, 0.5f, small, 2.0f, bounding_union(big, small)));
}

TEST(Geometry, OverlappingAreasMergeWhileTheirPredicateSaysSoAndDisjointOnesNever) {
  struct Item {
    Box area;
    int count;
  };
  std::vector<Item> items{{{0, 0, 10, 10}, 1}, {{5, 0, 15, 10}, 1}, {{8, 0, 20, 10}, 1}, {{50, 0, 60, 10}, 1}};
  const auto area_of = [](const Item& i) -> const Box& { return i.area; };
  const auto combine = [](const Item& a, const Item& b, const Box& u) { return Item{u, a.count + b.count}; };
  std::vector<Item> never = items;
  merge_overlapping(never, area_of, [](const Item&, const Item&, const Box&) { return false; }, combine);
  EXPECT_EQ(never.size(), 4u);
  merge_overlapping(items, area_of, [](const Item&, const Item&, const Box&) { return true; }, combine);
  ASSERT_EQ(items.size(), 2u);  // the chain of three is one; the disjoint one stays alone
  EXPECT_EQ(items[0].area, (Box{0, 0, 20, 10}));
  EXPECT_EQ(items[0].count, 3);
  EXPECT_EQ(items[1].count, 1);
}

// A neighbour lends its centre's velocity and its growth relative to its size; nearer ones count more, and
// ones beyond the radius (in sizes of the borrower) not at all.
TEST(BorrowedMotion, NeighboursLendTheirVelocityAndRelativeGrowthWithinTheRadius) {
  const Box at = Box::from_xywh(100, 100, 10, 10);
  BorrowedMotion none(at, 6);
  none.offer(Box::from_xywh(200, 100, 20, 20), {5, 0, 5, 0});  // 10.5 sizes away
  EXPECT_FALSE(none.any());
  EXPECT_EQ(none.velocity(), Box{});

  // A neighbour twice as large, moving 5 px right, growing 20% a frame in width and 10% in height: the
  // borrower moves 5 px right and grows by the same shares of its own size.
  BorrowedMotion one(at, 6);
  one.offer(Box::from_xywh(130, 95, 20, 20), {3, -1, 7, 1});
  ASSERT_TRUE(one.any());
  const Box v = one.velocity();
  EXPECT_FLOAT_EQ(0.5f * (v.x1 + v.x2), 5.0f);
  EXPECT_FLOAT_EQ(v.x2 - v.x1, 0.2f * 10);
  EXPECT_FLOAT_EQ(v.y2 - v.y1, 0.1f * 10);

  // Two neighbours moving opposite ways: the nearer one weighs more.
  BorrowedMotion two(at, 6);
  two.offer(Box::from_xywh(110, 100, 10, 10), {2, 0, 2, 0});   // 1 size away
  two.offer(Box::from_xywh(140, 100, 10, 10), {-2, 0, -2, 0});  // 4 sizes away
  EXPECT_GT(two.velocity().x1, 0.0f);
  EXPECT_LT(two.velocity().x1, 2.0f);

  BorrowedMotion off(at, 0);
  off.offer(Box::from_xywh(100, 100, 10, 10), {1, 1, 1, 1});
  EXPECT_FALSE(off.any());
}

TEST(Region, NamesRoundTrip) {
  for (auto c : {ObjectClass::Face, ObjectClass::Plate}) EXPECT_EQ(object_class_from_string(to_string(c)), c);
  for (int i = 0; i <= static_cast<int>(RegionSource::Manual); ++i) {
    const auto s = static_cast<RegionSource>(i);
    EXPECT_EQ(region_source_from_string(to_string(s)), s);
  }
  EXPECT_FALSE(object_class_from_string("car").has_value());
}

// Classes of one's own models get the next ids by name, once; the names are checked and the table bounded.
TEST(Region, ClassesOfOnesOwnAreAddedByNameOnceAndCountedInWords) {
  EXPECT_FALSE(object_class_from_string("screen"));
  const ObjectClass screen = intern_object_class("screen");
  EXPECT_FALSE(is_builtin(screen));
  EXPECT_TRUE(is_builtin(ObjectClass::Plate));
  EXPECT_GE(static_cast<int>(screen), kBuiltinObjectClasses);
  EXPECT_EQ(intern_object_class("screen"), screen) << "the same name is the same class";
  EXPECT_EQ(object_class_from_string("screen"), screen);
  EXPECT_EQ(to_string(screen), "screen");
  EXPECT_EQ(intern_object_class("plate"), ObjectClass::Plate);
  EXPECT_EQ(object_classes().size(), static_cast<size_t>(object_class_count()));
  for (const char* bad : {"", "Screen", "9lives", "a b", "house/number", "abcdefghijklmnopqrstuvwxyzabcdefg"})
    EXPECT_THROW(intern_object_class(bad), Error) << bad;

  ClassCounts counts{};
  counts[0] = 3;
  counts[1] = 2;
  EXPECT_EQ(counts_in_words(counts, "regions"), "3 face and 2 plate regions") << "a class that did not occur is left out";
  counts[static_cast<int>(screen)] = 4;
  EXPECT_EQ(counts_in_words(counts, "regions"), "3 face, 2 plate and 4 screen regions");
}

TEST(RegionDeathTest, TheClassTableIsBoundedWithAMessage) {
  // In a child process: the classes it adds are not seen by the other tests.
  EXPECT_EXIT(
      {
        try {
          for (int i = 0; i < kMaxObjectClasses; ++i) intern_object_class("extra" + std::to_string(i));
        } catch (const Error& e) {
          std::exit(std::string(e.what()).find("at most 16 classes") != std::string::npos ? 0 : 1);
        }
        std::exit(2);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileDigestEqualsTheDigestOfItsBytesAndNamesAnUnreadableFile) {
  const auto path = std::filesystem::temp_directory_path() / "roadveil_sha256_test.bin";
  std::string bytes(200003, '\0');  // more than three read buffers, the last one partial
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7919 % 251);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(sha256_file_hex(path), sha256_hex(bytes));
  std::filesystem::remove(path);
  try {
    sha256_file_hex(path);
    FAIL() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

// Regression: fuzz_regions_file found "track": 1e126 cast straight to int by nlohmann's value("track", -1)
// (undefined behaviour under UBSan). Whole floats are integers; anything else is nlohmann's own exception.
TEST(JsonInteger, TakesIntegersAndWholeFloatsAndRefusesWhatTheTypeCannotHold) {
  using nlohmann::json;
  EXPECT_EQ(json_integer<int>(json::parse("1280")), 1280);
  EXPECT_EQ(json_integer<int>(json::parse("1280.0")), 1280);
  EXPECT_EQ(json_integer<int>(json::parse("-1")), -1);
  EXPECT_EQ(json_integer<int>(json::parse("2147483647")), 2147483647);
  EXPECT_EQ(json_integer<int>(json::parse("-2147483648.0")), -2147483647 - 1);
  EXPECT_EQ(json_integer<std::int64_t>(json::parse("9223372036854775807")), INT64_MAX);
  for (const char* bad : {"1e126", "-1e126", "2147483648", "-2147483649", "2147483648.0", "4294967301", "0.5", "true",
                          "\"7\"", "null", "[1]"})
    EXPECT_THROW((void)json_integer<int>(json::parse(bad)), json::exception) << bad;
  for (const char* bad : {"18446744073709551615", "9223372036854775808.0", "1e19"})
    EXPECT_THROW((void)json_integer<std::int64_t>(json::parse(bad)), json::exception) << bad;
  EXPECT_THROW((void)json_integer<unsigned>(json::parse("-1")), json::exception);
  const json object = json::parse(R"({"a": 3, "b": null, "c": 1e300})");
  EXPECT_EQ(json_integer(object, "a", -1), 3);
  EXPECT_EQ(json_integer(object, "b", -1), -1);
  EXPECT_EQ(json_integer(object, "missing", -1), -1);
  EXPECT_THROW((void)json_integer(object, "c", -1), json::out_of_range);
  EXPECT_EQ((json_integers<int, 3>(json::parse("[1, 2.0, 3]"))), (std::array<int, 3>{1, 2, 3}));
  EXPECT_THROW((void)(json_integers<int, 3>(json::parse("[1, 2]"))), json::type_error);
  EXPECT_THROW((void)(json_integers<int, 2>(json::parse("[1, 1e99]"))), json::out_of_range);
}
