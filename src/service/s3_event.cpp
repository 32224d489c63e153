#include "service/s3_event.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "storage/aws_sigv4.hpp"

namespace roadveil::service {

using json = nlohmann::json;

std::string decode_event_key(const std::string& encoded) { return storage::uri_decode(encoded, true); }

std::string encode_event_key(const std::string& key) {
  std::string out = storage::uri_encode(key, true);
  // uri_encode gives %20 for a space; notifications use '+'.
  std::string result;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 3, "%20") == 0) {
      result += '+';
      i += 2;
    } else {
      result += out[i];
    }
  }
  return result;
}

std::vector<ObjectEvent> parse_s3_event(const std::string& json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(fmt::format("not an S3 event notification: not JSON ({})", e.what()));
  }
  if (!doc.is_object() || !doc.contains("Records") || !doc["Records"].is_array())
    throw Error("not an S3 event notification: no \"Records\" array");
  std::vector<ObjectEvent> out;
  for (std::size_t i = 0; i < doc["Records"].size(); ++i) {
    const json& r = doc["Records"][i];
    try {
      ObjectEvent e;
      e.event_name = r.value("eventName", "");
      const json& s3 = r.at("s3");
      e.bucket = s3.at("bucket").at("name").get<std::string>();
      const json& object = s3.at("object");
      e.key = decode_event_key(object.at("key").get<std::string>());
      if (object.contains("size") && object["size"].is_number_integer()) e.size = object["size"].get<std::int64_t>();
      e.etag = object.value("eTag", object.value("etag", ""));
      if (e.etag.size() >= 2 && e.etag.front() == '"' && e.etag.back() == '"') e.etag = e.etag.substr(1, e.etag.size() - 2);
      if (e.bucket.empty() || e.key.empty()) throw Error("empty bucket or key");
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      throw Error(fmt::format("S3 event record {}: no bucket name or object key ({})", i, ex.what()));
    }
  }
  return out;
}

std::string make_s3_event(const std::string& bucket, const std::string& key, std::int64_t size, const std::string& etag) {
  const json record = {{"eventVersion", "2.1"},
                       {"eventSource", "roadveil:enqueue"},
                       {"eventName", "ObjectCreated:Put"},
                       {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", encode_event_key(key)}, {"size", size}, {"eTag", etag}}}}}};
  return json{{"Records", json::array({record})}}.dump();
}

}  // namespace roadveil::service
