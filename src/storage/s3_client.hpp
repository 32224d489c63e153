#pragma once
// The S3 requests roadveil needs, over libcurl, signed with storage/aws_sigv4: read an object (whole to a
// file, or a byte range), learn its size, ETag and metadata, list a prefix, write a file as an object and
// delete one. Works with any S3-compatible store (storage/s3_location resolves where and who).
//
// What a user relies on:
//  - an object appears whole or not at all: a file larger than one part goes up as a multipart upload that is
//    completed last (and aborted on failure); parts are read from disk one at a time, so memory stays one part;
//  - throttling (429, SlowDown), server errors (5xx) and dropped connections are retried with exponential
//    backoff and jitter; other errors are not;
//  - every error names the operation and the s3:// object and says what the store answered; secrets (the
//    secret key, the session token, the Authorization header) never appear in an error or a log line.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/s3_location.hpp"

namespace roadveil::storage {

// User metadata (x-amz-meta-NAME), names in lower case without the prefix.
using ObjectMetadata = std::map<std::string, std::string>;

struct ObjectInfo {
  std::string key;
  std::int64_t size = 0;
  std::string etag;         // without quotes
  ObjectMetadata metadata;  // from HEAD only (listing does not return it)
};

struct RetryPolicy {
  int attempts = 6;  // in all, the first included
  std::chrono::milliseconds first_delay{200};
  std::chrono::milliseconds max_delay{8000};
  // A transfer under 1 byte/s for this long is a dropped connection (retried; twice with nothing back at all,
  // the endpoint is taken to be no S3 one).
  long stall_seconds = 60;
};

// An answer of the store that is an error; `status` 0 when no answer came (connection failed).
class S3Error : public Error {
 public:
  S3Error(const std::string& message, long status, std::string code)
      : Error(message), status(status), code(std::move(code)) {}
  long status;
  std::string code;  // S3's error code ("NoSuchKey", "AccessDenied", "SlowDown"), or ""
};

class S3Client {
 public:
  explicit S3Client(S3Config config, RetryPolicy retry = {});
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Size, ETag and user metadata; nullopt when there is no such object.
  std::optional<ObjectInfo> head(const S3Url& object);
  // Every object whose key starts with `prefix.key`, in key order (ListObjectsV2, all pages).
  std::vector<ObjectInfo> list(const S3Url& prefix);
  // The whole object into `file` (written as it arrives; a retry starts the file again). Returns the ETag of
  // what was read (the object may have been replaced since it was listed).
  std::string download(const S3Url& object, const std::filesystem::path& file);
  // `length` bytes from `offset` (fewer at the end of the object). With `if_match` (an ETag), an object
  // replaced since is an error (HTTP 412) rather than bytes of another version.
  std::string read_range(const S3Url& object, std::int64_t offset, std::int64_t length, const std::string& if_match = "");
  // `file` as the object, with `metadata`. One PUT up to part_size, else a multipart upload.
  void upload(const std::filesystem::path& file, const S3Url& object, const ObjectMetadata& metadata = {},
              const std::string& content_type = "application/octet-stream");
  void remove(const S3Url& object);

  const S3Config& config() const { return config_; }
  // Multipart part size (S3's minimum is 5 MiB; grown for files over 10,000 parts).
  std::int64_t part_size = 8 << 20;
  // Keys per listing page (S3's maximum is 1000; tests make it small to see several pages).
  int list_page_size = 1000;
  // Seconds since the epoch used to sign requests (tests pin it; the store rejects a clock > 15 min off).
  std::function<long long()> clock;

 private:
  struct Request;
  struct Response;
  // With retries; an answer outside 2xx and `also_fine` throws S3Error.
  Response send(const Request& request, std::initializer_list<long> also_fine = {});
  Response send_once(const Request& request, std::string& transport_error);
  [[noreturn]] void fail(const Request& request, const Response& response, const std::string& transport_error) const;
  void upload_multipart(const std::filesystem::path& file, std::int64_t size, const S3Url& object,
                        const ObjectMetadata& metadata, const std::string& content_type);

  S3Config config_;
  RetryPolicy retry_;
  void* curl_ = nullptr;  // one easy handle: connections are reused between requests
};

}  // namespace roadveil::storage
