#pragma once
// S3 event notifications, the JSON that AWS S3, MinIO and Ceph RGW send when an object is written:
//   {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "uploads"},
//                 "object": {"key": "cam+1/drive%C3%A9.mp4", "size": 1234, "eTag": "9b2c..."}}}]}
// Keys are URL-encoded in these records, with '+' for a space (AWS's documented form). `enqueue` writes the
// same shape, so a worker cannot tell a backfilled object from an uploaded one.
#include <cstdint>
#include <string>
#include <vector>

namespace roadveil::service {

struct ObjectEvent {
  std::string event_name;  // "ObjectCreated:Put", "ObjectRemoved:Delete", ...
  std::string bucket, key;  // key decoded
  std::int64_t size = 0;
  std::string etag;         // without quotes; may be empty (MinIO sends it, some bridges do not)
  bool created() const { return event_name.starts_with("ObjectCreated:") || event_name.starts_with("s3:ObjectCreated:"); }
};

// Every record of a notification. Throws Error for text that is not such a notification; a record without
// bucket or key is an error too (it names the record's index).
std::vector<ObjectEvent> parse_s3_event(const std::string& json_text);

// One record in the same shape, for `enqueue` (eventName "ObjectCreated:Put", key encoded as AWS does).
std::string make_s3_event(const std::string& bucket, const std::string& key, std::int64_t size, const std::string& etag);

// AWS's form of a key in notifications: URL-encoded with '+' for a space, and back.
std::string decode_event_key(const std::string& encoded);
std::string encode_event_key(const std::string& key);

}  // namespace roadveil::service
