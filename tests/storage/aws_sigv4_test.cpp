#include "storage/aws_sigv4.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "test_util.hpp"

using namespace roadveil;
using namespace roadveil::storage;

namespace {

// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite): credentials, time, region and service.
const AwsCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kSuiteScope{"us-east-1", "service"};

std::string signature_of(const std::string& authorization) { return authorization.substr(authorization.rfind('=') + 1); }

}  // namespace

TEST(AwsSigV4, PublishedTestSuiteExamples) {
  RequestToSign get;
  get.headers = {{"Host", "example.amazonaws.com"}};
  const auto vanilla = sign_v4(get, kSuite, kSuiteScope, "20150830T123600Z");
  EXPECT_EQ(vanilla.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(vanilla.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  RequestToSign ordered = get;  // get-vanilla-query-order-key-case
  ordered.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(signature_of(sign_v4(ordered, kSuite, kSuiteScope, "20150830T123600Z").authorization),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");

  RequestToSign post = get;  // post-vanilla
  post.method = "POST";
  EXPECT_EQ(signature_of(sign_v4(post, kSuite, kSuiteScope, "20150830T123600Z").authorization),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

// The S3 documentation's example: GET /test.txt with a Range header (sig-v4-header-based-auth).
TEST(AwsSigV4, S3DocumentationExample) {
  RequestToSign r;
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  const auto s = sign_v4(r, {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""}, {"us-east-1", "s3"},
                         "20130524T000000Z");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  ASSERT_EQ(s.add.size(), 3u);  // x-amz-date, x-amz-content-sha256, authorization
}

TEST(AwsSigV4, EncodingAndBadInput) {
  EXPECT_EQ(uri_encode("clips/a b+c=d&é~_.-.mp4", true), "clips/a%20b%2Bc%3Dd%26%C3%A9~_.-.mp4");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(amz_date(1440938160), "20150830T123600Z");
  RequestToSign no_host;
  EXPECT_THROW(sign_v4(no_host, kSuite, kSuiteScope, "20150830T123600Z"), Error);
  RequestToSign r;
  r.headers = {{"host", "x"}};
  EXPECT_THROW(sign_v4(r, kSuite, kSuiteScope, "2015-08-30"), Error);
  EXPECT_THROW(sign_v4(r, {"", "", ""}, kSuiteScope, "20150830T123600Z"), Error);
}

// 40 requests of the kinds roadveil sends (object keys with spaces, '+', unicode and '~'; list queries;
// ranges; uploads with their body hash or UNSIGNED-PAYLOAD; temporary credentials; other regions and a non-S3
// service), signed here and by botocore, the signer of the AWS CLI and boto3 (Debian's python3-botocore,
// installed by scripts/setup.sh): every Authorization header must be identical.
TEST(AwsSigV4, SameSignaturesAsBotocore) {
  std::mt19937 rng(20261202);
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(*(options.begin() + std::uniform_int_distribution<std::size_t>(0, options.size() - 1)(rng)));
  };
  nlohmann::json requests = nlohmann::json::array();
  std::vector<std::string> ours;
  for (int i = 0; i < 40; ++i) {
    const std::string service = i % 10 == 9 ? "service" : "s3";
    const bool unsigned_payload = service == "s3" && i % 4 == 3;
    RequestToSign r;
    r.method = pick({"GET", "PUT", "HEAD", "POST", "DELETE"});
    const std::string bucket = pick({"dashcam", "my.bucket-2"});
    r.path = "/" + bucket + "/" + pick({"clips/a b.mp4", "2026/12/02/drive+1.mp4", "été/~tilde_(1).jpg", "x", "deep/er/"});
    if (i % 3 == 0) r.query.emplace_back("list-type", "2");
    if (i % 3 == 0) r.query.emplace_back("prefix", pick({"clips/", "a b/", "é"}));
    if (i % 5 == 1) r.query.emplace_back("partNumber", std::to_string(i));
    if (i % 5 == 1) r.query.emplace_back("uploadId", "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    const std::string host = pick({"127.0.0.1:4568", "s3.eu-central-1.amazonaws.com", "minio.local:9000"});
    r.headers = {{"Host", host}};
    if (i % 2 == 0) r.headers.emplace_back("Range", "bytes=" + std::to_string(i * 1000) + "-" + std::to_string(i * 1000 + 999));
    if (i % 7 == 2) r.headers.emplace_back("x-amz-meta-roadveil-source-etag", "\"9b2cf535f27731c974343645a3985328\"");
    if (i % 6 == 4) r.headers.emplace_back("Content-Type", "video/mp4");
    const std::string body = r.method == "PUT" || r.method == "POST" ? std::string(static_cast<std::size_t>(i * 37), 'v') : "";
    r.payload_sha256 = unsigned_payload ? "UNSIGNED-PAYLOAD" : sha256_hex(body);
    const AwsCredentials creds{"AKID" + std::to_string(i), "secret/" + std::to_string(i * 7919) + "+key",
                               i % 4 == 1 ? "FwoGZXIvYXdzEJr//////////wEaDOpLm" + std::to_string(i) : ""};
    const SigningScope scope{pick({"us-east-1", "eu-central-1", "auto"}), service};
    const std::string when = amz_date(1700000000LL + i * 86461LL);
    ours.push_back(sign_v4(r, creds, scope, when).authorization);
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [k, v] : r.headers)
      if (k != "Host") headers.push_back({k, v});
    nlohmann::json query = nlohmann::json::array();
    for (const auto& [k, v] : r.query) query.push_back({k, v});
    requests.push_back({{"method", r.method}, {"host", host}, {"path", r.path}, {"query", query}, {"headers", headers},
                        {"body", body}, {"service", service}, {"region", scope.region}, {"amz_date", when},
                        {"key", creds.access_key_id}, {"secret", creds.secret_access_key}, {"token", creds.session_token},
                        {"unsigned", unsigned_payload}});
  }
  roadveil::testing::TempDir dir;
  std::ofstream(dir / "requests.json") << requests.dump();
  const auto r = roadveil::testing::run_command("/usr/bin/python3 " ROADVEIL_SOURCE_DIR "/tests/storage/botocore_sign.py < " +
                                                roadveil::testing::quote(dir / "requests.json"));
  ASSERT_EQ(r.exit_code, 0) << "botocore (Debian's python3-botocore, installed by scripts/setup.sh) could not sign:\n" << r.output;
  const auto theirs = nlohmann::json::parse(r.output.substr(r.output.find('[')));
  ASSERT_EQ(theirs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], theirs[i].get<std::string>()) << "request " << i << ": " << requests[i].dump();
}
