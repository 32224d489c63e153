#pragma once
// AWS Signature Version 4 for S3 and S3-compatible stores (MinIO, Ceph RGW, R2, ...): the Authorization
// header of a request, computed as AWS specifies (canonical request -> string to sign -> HMAC chain), so
// that roadveil talks to object storage with libcurl alone. Checked against AWS's published examples and,
// request by request, against botocore's signer (tests/storage).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roadveil::storage {

struct AwsCredentials {
  std::string access_key_id, secret_access_key;
  std::string session_token;  // temporary credentials only
};

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct RequestToSign {
  std::string method = "GET";
  std::string path = "/";  // not encoded: "/bucket/clips/a b.mp4"
  HttpFields query;        // not encoded; order does not matter
  HttpFields headers;      // names in any case; must include host
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" (S3 over TLS, streamed bodies).
  std::string payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";  // empty body
};

struct SigningScope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct SignedHeaders {
  HttpFields add;             // to send besides the request's own: x-amz-date, x-amz-content-sha256 (S3),
                              // x-amz-security-token (temporary credentials), authorization
  std::string authorization;  // also in `add`
  std::string canonical_request, string_to_sign;  // for tests and for messages when a store disagrees
};

// `amz_date` is the request time as "YYYYMMDDTHHMMSSZ" (UTC). S3 encodes the path once; every other service
// twice (AWS's rule), which `service` decides.
SignedHeaders sign_v4(const RequestToSign& request, const AwsCredentials& credentials, const SigningScope& scope,
                      std::string_view amz_date);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) as they are,
// every other byte as %XX (upper case); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);
// The reverse: every %XX (either case) as its byte, anything else as it is; '+' as a space when
// `plus_is_space` (the form encoding of keys in S3 event notifications), as '+' otherwise (a URL's user
// information).
std::string uri_decode(std::string_view text, bool plus_is_space);

// "YYYYMMDDTHHMMSSZ" for a time in seconds since the epoch.
std::string amz_date(long long unix_seconds);

}  // namespace roadveil::storage
