#include "storage/s3_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <pugixml.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <exception>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "core/sha256.hpp"

namespace roadveil::storage {

struct S3Client::Request {
  std::string what;  // what the user would call it: "reading", "listing", "writing"
  std::string method = "GET";
  S3Url object;
  HttpFields query;
  HttpFields headers;    // sent and signed (host and the x-amz-* of signing are added)
  std::string_view body;
  // Receives the body of a successful answer as it arrives; without it the body is kept in Response::body.
  std::function<void(std::string_view)> sink;
  std::function<void()> restart;  // before a retry, when `sink` may already have had data
};

struct S3Client::Response {
  long status = 0;
  bool silent = false;  // the endpoint took the connection and sent nothing back before the time ran out
  HttpFields headers;  // names in lower case
  std::string body;    // an error's body, or a success's without a sink
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
};

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string unquoted(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

struct Transfer {
  const std::function<void(std::string_view)>* sink = nullptr;
  CURL* curl = nullptr;
  std::string* body = nullptr;
  HttpFields* headers = nullptr;
  std::exception_ptr sink_error;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink && *t->sink && status >= 200 && status < 300) {
    try {
      (*t->sink)(std::string_view(data, n));
    } catch (...) {
      t->sink_error = std::current_exception();
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
  } else {
    t->body->append(data, n);
  }
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->headers->clear();  // a new answer (after "100 Continue" or a redirect)
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    t->headers->emplace_back(lowercase(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return n;
}

bool retryable_transport(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// S3's error document: <Error><Code>..</Code><Message>..</Message></Error>.
std::pair<std::string, std::string> error_code_and_message(const std::string& body) {
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return {};
  const pugi::xml_node e = doc.child("Error");
  return {e.child_value("Code"), e.child_value("Message")};
}

bool retryable_answer(long status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 || code == "SlowDown" ||
         code == "RequestTimeout" || code == "InternalError";
}

std::string endpoint_text(const S3Config& config, const S3Url& object) {
  const S3Address a = address_of(config, object);
  return a.scheme + "://" + a.host;
}

}  // namespace

S3Client::S3Client(S3Config config, RetryPolicy retry) : config_(std::move(config)), retry_(retry) {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) throw Error("cannot start libcurl");
  clock = [] { return static_cast<long long>(std::time(nullptr)); };
}

S3Client::~S3Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

S3Client::Response S3Client::send_once(const Request& req, std::string& transport_error) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  const S3Address a = address_of(config_, req.object);
  std::string url = a.scheme + "://" + a.host + uri_encode(a.path, true);
  for (std::size_t i = 0; i < req.query.size(); ++i)
    url += (i == 0 ? "?" : "&") + uri_encode(req.query[i].first, false) + "=" + uri_encode(req.query[i].second, false);

  // curl drops a header with an empty value, which would then be signed but not sent: such headers go in
  // neither. The Host header is sent as signed (curl leaves a default :443/:80 out of its own).
  HttpFields headers;
  for (const auto& h : req.headers)
    if (!h.second.empty()) headers.push_back(h);
  headers.emplace_back("host", a.host);
  HttpFields send_headers = headers;
  if (!config_.credentials.access_key_id.empty()) {
    RequestToSign sig;
    sig.method = req.method;
    sig.path = a.path;
    sig.query = req.query;
    sig.headers = headers;
    sig.payload_sha256 = sha256_hex(req.body);
    const SignedHeaders s = sign_v4(sig, config_.credentials, {config_.region, "s3"}, amz_date(clock()));
    send_headers.insert(send_headers.end(), s.add.begin(), s.add.end());
  }
  curl_slist* list = nullptr;
  for (const auto& [k, v] : send_headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip before each part

  Response response;
  Transfer t{&req.sink, c, &response.body, &response.headers, nullptr};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  // The path is sent as signed: without this, curl removes "./" and "../" segments of a key.
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  // A transfer that stalls (under 1 byte/s for a minute) is a dropped connection: retried.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, retry_.stall_seconds);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data() ? req.body.data() : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (t.sink_error) std::rethrow_exception(t.sink_error);
  if (rc != CURLE_OK) {
    transport_error = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
    response.status = retryable_transport(rc) ? -1 : 0;  // -1: worth another try
    long answered = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answered);
    response.silent = rc == CURLE_OPERATION_TIMEDOUT && answered == 0 && response.headers.empty();
    return response;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

S3Client::Response S3Client::send(const Request& req, std::initializer_list<long> also_fine) {
  std::mt19937 random(std::random_device{}());
  std::string transport_error;
  Response response;
  int silent = 0;
  for (int attempt = 1;; ++attempt) {
    transport_error.clear();
    response = send_once(req, transport_error);
    if ((response.status >= 200 && response.status < 300) ||
        std::find(also_fine.begin(), also_fine.end(), response.status) != also_fine.end())
      return response;
    const std::string code = error_code_and_message(response.body).first;
    const bool again = response.status == -1 || retryable_answer(response.status, code);
    // An endpoint that takes connections and answers nothing, twice: not a busy server but a wrong one (a
    // port of something else, a proxy that swallows requests). Each try waited the full minute: six of them
    // made every request take six minutes before it failed.
    silent = response.silent ? silent + 1 : 0;
    if (silent >= 2) {
      transport_error += " (twice, not a byte back: is this an S3 endpoint?)";
      break;
    }
    if (!again || attempt >= retry_.attempts) break;
    // Exponential backoff with jitter (half to all of the step), so that workers throttled together do not
    // come back together.
    const auto step = std::min<std::int64_t>(retry_.max_delay.count(), retry_.first_delay.count() << std::min(attempt - 1, 20));
    const auto wait = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(step / 2, step)(random));
    spdlog::warn("{}: {}: {}; trying again in {} ms ({} of {} attempts)", req.object.to_string(), req.what,
                 response.status == -1 ? transport_error : fmt::format("HTTP {}{}", response.status, code.empty() ? "" : " " + code),
                 wait.count(), attempt, retry_.attempts);
    std::this_thread::sleep_for(wait);
    if (req.restart) req.restart();
  }
  fail(req, response, transport_error);
}

void S3Client::fail(const Request& req, const Response& response, const std::string& transport_error) const {
  const std::string where = req.object.to_string();
  if (response.status <= 0)
    throw S3Error(fmt::format("{}: {} failed: no answer from {} ({})", where, req.what, endpoint_text(config_, req.object),
                              transport_error),
                  0, "");
  const auto [code, message] = error_code_and_message(response.body);
  const std::string said = code.empty() ? "" : " " + code + (message.empty() ? "" : ": " + message);
  if (response.status == 404 && code == "NoSuchBucket")
    throw S3Error(fmt::format("{}: {} failed: there is no bucket '{}' at {}", where, req.what, req.object.bucket,
                              endpoint_text(config_, req.object)),
                  404, code);
  if (response.status == 404)
    throw S3Error(fmt::format("{}: {} failed: no such object (HTTP 404{})", where, req.what, said), 404, code);
  if (response.status == 412)
    throw S3Error(fmt::format("{}: {} failed: the object was replaced while it was read (HTTP 412)", where, req.what), 412, code);
  if (response.status == 403) {
    const std::string who = config_.credentials.access_key_id.empty()
                                ? "no credentials were found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
                                : "with the credentials from " + config_.credentials_from;
    throw S3Error(fmt::format("{}: {} failed: access denied (HTTP 403{}); {}", where, req.what, said, who), 403, code);
  }
  throw S3Error(fmt::format("{}: {} failed: HTTP {}{}", where, req.what, response.status, said), response.status, code);
}

std::optional<ObjectInfo> S3Client::head(const S3Url& object) {
  // A missing object (or bucket: HEAD answers carry no body to tell) is an answer here, not an error.
  const Response r = send({"reading", "HEAD", object, {}, {}, {}, {}, {}}, {404});
  if (r.status == 404) return std::nullopt;
  ObjectInfo info;
  info.key = object.key;
  const std::string length = r.header("content-length");
  info.size = length.empty() ? 0 : std::stoll(length);
  info.etag = unquoted(r.header("etag"));
  for (const auto& [k, v] : r.headers)
    if (k.starts_with("x-amz-meta-")) info.metadata[k.substr(11)] = v;
  return info;
}

std::vector<ObjectInfo> S3Client::list(const S3Url& prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    Request req{"listing", "GET", S3Url{prefix.bucket, ""}, {{"list-type", "2"}, {"prefix", prefix.key}, {"max-keys", std::to_string(list_page_size)}}, {}, {}, {}, {}};
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    const Response r = send(req);
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size()) || !doc.child("ListBucketResult"))
      throw Error(fmt::format("{}: listing failed: the answer is not an S3 object listing", prefix.to_string()));
    const pugi::xml_node result = doc.child("ListBucketResult");
    for (const pugi::xml_node c : result.children("Contents")) {
      ObjectInfo info;
      info.key = c.child_value("Key");
      info.size = c.child("Size").text().as_llong();
      info.etag = unquoted(c.child_value("ETag"));
      out.push_back(std::move(info));
    }
    if (std::string(result.child_value("IsTruncated")) != "true") break;
    token = result.child_value("NextContinuationToken");
    if (token.empty())
      throw Error(fmt::format("{}: listing failed: the store says the list goes on but gives no continuation token",
                              prefix.to_string()));
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

std::string S3Client::download(const S3Url& object, const std::filesystem::path& file) {
  std::ofstream out;
  auto open = [&] {
    out.close();
    out.open(file, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(file.string() + ": cannot write (downloading " + object.to_string() + ")");
  };
  open();
  Request req{"reading", "GET", object, {}, {}, {}, {}, {}};
  req.sink = [&](std::string_view data) {
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw Error(file.string() + ": writing failed (disk full?) while downloading " + object.to_string());
  };
  req.restart = open;
  const Response r = send(req);
  out.close();
  if (!out) throw Error(file.string() + ": writing failed (disk full?) while downloading " + object.to_string());
  return unquoted(r.header("etag"));
}

std::string S3Client::read_range(const S3Url& object, std::int64_t offset, std::int64_t length, const std::string& if_match) {
  if (length <= 0) return "";
  Request req{"reading", "GET", object, {}, {{"range", fmt::format("bytes={}-{}", offset, offset + length - 1)}}, {}, {}, {}};
  if (!if_match.empty()) req.headers.emplace_back("if-match", if_match);
  Response r = send(req, {416});
  if (r.status == 416) return "";  // at or past the end
  // A store that ignores Range answers 200 with the whole object.
  if (r.status == 200) return r.body.substr(std::min<std::size_t>(r.body.size(), static_cast<std::size_t>(offset)), length);
  return r.body;
}

void S3Client::upload(const std::filesystem::path& file, const S3Url& object, const ObjectMetadata& metadata,
                      const std::string& content_type) {
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  if (ec) throw Error(file.string() + ": cannot read (" + ec.message() + ")");
  if (size > part_size) return upload_multipart(file, size, object, metadata, content_type);
  std::string body(static_cast<std::size_t>(size), '\0');
  std::ifstream in(file, std::ios::binary);
  if (!in.read(body.data(), size)) throw Error(file.string() + ": cannot read");
  Request req{"writing", "PUT", object, {}, {{"content-type", content_type}}, body, {}, {}};
  for (const auto& [k, v] : metadata) req.headers.emplace_back("x-amz-meta-" + k, v);
  send(req);
}

void S3Client::upload_multipart(const std::filesystem::path& file, std::int64_t size, const S3Url& object,
                                const ObjectMetadata& metadata, const std::string& content_type) {
  const std::int64_t part = std::max(part_size, (size + 9999) / 10000);
  Request create{"writing", "POST", object, {{"uploads", ""}}, {{"content-type", content_type}}, {}, {}, {}};
  for (const auto& [k, v] : metadata) create.headers.emplace_back("x-amz-meta-" + k, v);
  const Response created = send(create);
  pugi::xml_document doc;
  doc.load_buffer(created.body.data(), created.body.size());
  const std::string upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty())
    throw Error(fmt::format("{}: writing failed: the store started no multipart upload", object.to_string()));
  try {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(file.string() + ": cannot read");
    std::string buffer(static_cast<std::size_t>(part), '\0');
    std::string complete = "<CompleteMultipartUpload>";
    for (std::int64_t number = 1, done = 0; done < size; ++number) {
      const std::int64_t n = std::min(part, size - done);
      if (!in.read(buffer.data(), n)) throw Error(file.string() + ": cannot read (changed while uploading?)");
      Request put{"writing", "PUT", object, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                  {{"content-type", "application/octet-stream"}},
                  std::string_view(buffer.data(), static_cast<std::size_t>(n)), {}, {}};
      const Response r = send(put);
      if (r.header("etag").empty())
        throw Error(fmt::format("{}: writing failed: the store gave part {} no ETag", object.to_string(), number));
      complete += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number, r.header("etag"));
      done += n;
    }
    complete += "</CompleteMultipartUpload>";
    Request finish{"writing", "POST", object, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, complete, {}, {}};
    const Response r = send(finish);
    // S3 may answer 200 and still fail the completion, in the body.
    if (const auto [code, message] = error_code_and_message(r.body); !code.empty())
      throw S3Error(fmt::format("{}: writing failed: completing the upload: {}: {}", object.to_string(), code, message), r.status, code);
  } catch (...) {
    // The parts uploaded so far are billed storage until aborted; the object itself never appeared.
    try {
      Request abort{"abandoning an upload", "DELETE", object, {{"uploadId", upload_id}}, {}, {}, {}, {}};
      send(abort);
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
    throw;
  }
}

void S3Client::remove(const S3Url& object) {
  send({"deleting", "DELETE", object, {}, {}, {}, {}, {}}, {404});
}

}  // namespace roadveil::storage
