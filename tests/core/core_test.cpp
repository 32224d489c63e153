#include <gtest/gtest.h>

#include "core/geometry.hpp"
#include "core/region.hpp"
#include "core/sha256.hpp"
#include "core/error.hpp"

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

TEST(Region, NamesRoundTrip) {
  for (auto c : {ObjectClass::Face, ObjectClass::Plate}) EXPECT_EQ(object_class_from_string(to_string(c)), c);
  for (int i = 0; i <= static_cast<int>(RegionSource::Manual); ++i) {
    const auto s = static_cast<RegionSource>(i);
    EXPECT_EQ(region_source_from_string(to_string(s)), s);
  }
  EXPECT_FALSE(object_class_from_string("car").has_value());
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
