#pragma once
// Where roadveil finds an S3-compatible store and its credentials, the way the AWS CLI and SDKs do, so that a
// machine already set up for them needs nothing else:
//  - credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the profile
//    (AWS_PROFILE, default "default") of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials);
//  - region: AWS_REGION, AWS_DEFAULT_REGION, else the profile's `region` in AWS_CONFIG_FILE (~/.aws/config),
//    else us-east-1;
//  - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (MinIO, Ceph RGW, R2, s3rver...), else AWS's regional one.
// Addressing: virtual-hosted (bucket.s3.REGION.amazonaws.com) on AWS, path-style (ENDPOINT/bucket/key) on a
// custom endpoint, which is what self-hosted stores serve; AWS_S3_ADDRESSING_STYLE=path|virtual overrides.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "storage/aws_sigv4.hpp"

namespace roadveil::storage {

// "s3://bucket/key/with/slashes" (a key ending in '/' or empty is a prefix, like a folder).
struct S3Url {
  std::string bucket, key;
  bool is_prefix() const { return key.empty() || key.back() == '/'; }
  std::string to_string() const { return "s3://" + bucket + "/" + key; }
};
bool is_s3_url(const std::string& text);
// Throws Error naming the text when it is not a valid s3:// URL (bucket names: 3-63 of a-z 0-9 . -).
S3Url parse_s3_url(const std::string& text);

struct S3Config {
  AwsCredentials credentials;
  std::string region = "us-east-1";
  std::string endpoint;        // "http://127.0.0.1:4568" (scheme, host, port; no path); empty: AWS
  bool path_style = false;
  std::string credentials_from;  // where they came from, for messages ("environment", "profile dev in FILE")
};

// Environment lookups go through `env` so that tests can set them; the files are read from disk.
using Environment = std::map<std::string, std::string>;
Environment process_environment();
// Throws Error when the profile asked for does not exist or a file cannot be parsed; missing credentials are
// reported by the first request (anonymous access is valid for public buckets).
S3Config resolve_s3_config(const Environment& env);

struct S3Address {
  std::string scheme, host;  // host with :port when not the scheme's default
  std::string path;          // not encoded: "/bucket/key" (path-style) or "/key"
};
S3Address address_of(const S3Config& config, const S3Url& url);

}  // namespace roadveil::storage
