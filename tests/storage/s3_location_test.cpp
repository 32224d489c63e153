#include "storage/s3_location.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "test_util.hpp"

using namespace roadveil;
using namespace roadveil::storage;

TEST(S3Url, BucketKeyAndPrefix) {
  const auto u = parse_s3_url("s3://dashcam-2026/drives/berlin/a b.mp4");
  EXPECT_EQ(u.bucket, "dashcam-2026");
  EXPECT_EQ(u.key, "drives/berlin/a b.mp4");
  EXPECT_FALSE(u.is_prefix());
  EXPECT_TRUE(parse_s3_url("s3://dashcam-2026/drives/").is_prefix());
  EXPECT_TRUE(parse_s3_url("s3://dashcam-2026").is_prefix());
  for (const char* bad : {"s3://", "s3://ab/x", "s3://Upper/x", "s3://-dash/x", "s3://under_score/x", "/local/file.mp4"})
    EXPECT_THROW(parse_s3_url(bad), Error) << bad;
  EXPECT_FALSE(is_s3_url("clip.mp4"));
}

TEST(S3Config, EnvironmentWinsThenProfileFiles) {
  roadveil::testing::TempDir dir;
  std::ofstream(dir / "credentials") << "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n"
                                        "# a comment\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s2\naws_session_token = t2\n";
  std::ofstream(dir / "config") << "[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n";
  Environment env{{"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()}, {"AWS_CONFIG_FILE", (dir / "config").string()}};

  auto c = resolve_s3_config(env);
  EXPECT_EQ(c.credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_FALSE(c.path_style);

  env["AWS_PROFILE"] = "dev";
  c = resolve_s3_config(env);
  EXPECT_EQ(c.credentials.access_key_id, "AKIDDEV");
  EXPECT_EQ(c.credentials.session_token, "t2");
  EXPECT_EQ(c.region, "eu-central-1");
  EXPECT_NE(c.credentials_from.find("profile dev"), std::string::npos);

  env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env["AWS_SECRET_ACCESS_KEY"] = "s3";
  env["AWS_REGION"] = "auto";
  c = resolve_s3_config(env);
  EXPECT_EQ(c.credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(c.region, "auto");

  env["AWS_PROFILE"] = "nope";
  env.erase("AWS_ACCESS_KEY_ID");
  EXPECT_THROW(resolve_s3_config(env), Error);
}

TEST(S3Config, CustomEndpointsArePathStyleAwsIsVirtualHosted) {
  Environment env{{"AWS_ACCESS_KEY_ID", "k"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-central-1"}};
  auto c = resolve_s3_config(env);
  auto a = address_of(c, parse_s3_url("s3://dashcam/clips/a.mp4"));
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.host, "dashcam.s3.eu-central-1.amazonaws.com");
  EXPECT_EQ(a.path, "/clips/a.mp4");
  a = address_of(c, parse_s3_url("s3://my.dotted.bucket/a.mp4"));  // no TLS name for dots: path-style
  EXPECT_EQ(a.host, "s3.eu-central-1.amazonaws.com");
  EXPECT_EQ(a.path, "/my.dotted.bucket/a.mp4");

  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4568/";
  c = resolve_s3_config(env);
  EXPECT_TRUE(c.path_style);
  a = address_of(c, parse_s3_url("s3://dashcam/clips/a.mp4"));
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.host, "127.0.0.1:4568");
  EXPECT_EQ(a.path, "/dashcam/clips/a.mp4");
  env["AWS_ENDPOINT_URL_S3"] = "https://minio.example.org";  // the S3-only variable wins
  env["AWS_S3_ADDRESSING_STYLE"] = "virtual";
  EXPECT_EQ(address_of(resolve_s3_config(env), parse_s3_url("s3://dashcam/a")).host, "dashcam.minio.example.org");
  env.erase("AWS_ENDPOINT_URL_S3");
  env["AWS_S3_ADDRESSING_STYLE"] = "sideways";
  EXPECT_THROW(resolve_s3_config(env), Error);
  env.erase("AWS_S3_ADDRESSING_STYLE");
  env["AWS_ENDPOINT_URL"] = "minio:9000";
  EXPECT_THROW(resolve_s3_config(env), Error);
}
