#include "storage/aws_sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace roadveil::storage {
namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &size))
    throw Error("SigV4: OpenSSL's HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values: surrounding spaces removed, inner runs of spaces as one.
std::string trim_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Every other service wants the path normalised (no empty, "." or ".." segments) and encoded twice.
std::string canonical_uri(std::string_view path, bool s3) {
  if (path.empty()) return "/";
  if (s3) return uri_encode(path, true);
  std::vector<std::string_view> segments;
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string normal;
  for (const auto seg : segments) {
    normal += '/';
    normal += seg;
  }
  if (normal.empty() || (path.size() > 1 && path.back() == '/')) normal += "/";
  return uri_encode(uri_encode(normal, true), true);
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string uri_decode(std::string_view text, bool plus_is_space) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string amz_date(long long unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[20];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

SignedHeaders sign_v4(const RequestToSign& request, const AwsCredentials& credentials, const SigningScope& scope,
                      std::string_view date_time) {
  if (date_time.size() != 16 || date_time[8] != 'T' || date_time[15] != 'Z')
    throw Error("SigV4: the request time must read YYYYMMDDTHHMMSSZ, not \"" + std::string(date_time) + "\"");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    throw Error("SigV4: no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile)");
  const bool s3 = scope.service == "s3";
  SignedHeaders out;
  out.add.emplace_back("x-amz-date", std::string(date_time));
  if (s3) out.add.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty()) out.add.emplace_back("x-amz-security-token", credentials.session_token);

  // Headers: lower-case names, sorted; a name given twice has its values joined by commas.
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_host = false;
  for (const HttpFields* fields : {&request.headers, static_cast<const HttpFields*>(&out.add)})
    for (const auto& [name, value] : *fields) {
      headers.emplace_back(lower(name), trim_value(value));
      has_host = has_host || headers.back().first == "host";
    }
  if (!has_host) throw Error("SigV4: the request has no host header");
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';
      canonical_headers += headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += headers[i].first;
  }

  // Query: names and values encoded, sorted by name, then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : request.query) query.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name + "=" + value;
  }

  out.canonical_request = request.method + "\n" + canonical_uri(request.path, s3) + "\n" + canonical_query + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + request.payload_sha256;
  const std::string day(date_time.substr(0, 8));
  const std::string credential_scope = day + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(date_time) + "\n" + credential_scope + "\n" +
                       sha256_hex(out.canonical_request);
  const std::string key = hmac_sha256(
      hmac_sha256(hmac_sha256(hmac_sha256("AWS4" + credentials.secret_access_key, day), scope.region), scope.service),
      "aws4_request");
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + credential_scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + hex_lower(hmac_sha256(key, out.string_to_sign));
  out.add.emplace_back("authorization", out.authorization);
  return out;
}

}  // namespace roadveil::storage
