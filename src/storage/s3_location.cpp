#include "storage/s3_location.hpp"

#include <cstdlib>
#include <fstream>

#include "core/error.hpp"

extern char** environ;

namespace roadveil::storage {
namespace {

std::string get(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string trim_ini(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// The INI files of the AWS CLI: [section] then key = value; '#' and ';' start comments.
std::map<std::string, std::map<std::string, std::string>> read_ini(const std::filesystem::path& path) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::ifstream in(path);
  if (!in) return sections;
  std::string line, section;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim_ini(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') throw Error(path.string() + ":" + std::to_string(number) + ": a section name needs ']'");
      section = trim_ini(line.substr(1, line.size() - 2));
      sections[section];
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;  // nested settings (s3 =\n  addressing_style = ...) are not needed here
    sections[section][trim_ini(line.substr(0, eq))] = trim_ini(line.substr(eq + 1));
  }
  return sections;
}

std::filesystem::path home_file(const Environment& env, const std::string& variable, const char* default_name) {
  const std::string set = get(env, variable);
  if (!set.empty()) return set;
  const std::string home = get(env, "HOME");
  return home.empty() ? std::filesystem::path() : std::filesystem::path(home) / ".aws" / default_name;
}

}  // namespace

bool is_s3_url(const std::string& text) { return text.rfind("s3://", 0) == 0; }

S3Url parse_s3_url(const std::string& text) {
  if (!is_s3_url(text)) throw Error(text + ": not an s3:// URL");
  const std::string rest = text.substr(5);
  const auto slash = rest.find('/');
  S3Url url{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1)};
  const bool valid_bucket =
      url.bucket.size() >= 3 && url.bucket.size() <= 63 &&
      url.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos &&
      url.bucket.front() != '.' && url.bucket.front() != '-' && url.bucket.back() != '.' && url.bucket.back() != '-';
  if (!valid_bucket) throw Error(text + ": \"" + url.bucket + "\" is not a bucket name (3-63 characters of a-z, 0-9, '.', '-')");
  return url;
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

S3Config resolve_s3_config(const Environment& env) {
  S3Config c;
  const std::string profile = get(env, "AWS_PROFILE").empty() ? "default" : get(env, "AWS_PROFILE");
  const bool profile_asked = !get(env, "AWS_PROFILE").empty();
  if (!get(env, "AWS_ACCESS_KEY_ID").empty()) {
    c.credentials = {get(env, "AWS_ACCESS_KEY_ID"), get(env, "AWS_SECRET_ACCESS_KEY"), get(env, "AWS_SESSION_TOKEN")};
    c.credentials_from = "environment (AWS_ACCESS_KEY_ID)";
  } else {
    const auto file = home_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    const auto sections = file.empty() ? decltype(read_ini(file)){} : read_ini(file);
    if (const auto it = sections.find(profile); it != sections.end()) {
      auto value = [&](const char* k) { return it->second.count(k) ? it->second.at(k) : std::string(); };
      c.credentials = {value("aws_access_key_id"), value("aws_secret_access_key"), value("aws_session_token")};
      c.credentials_from = "profile " + profile + " in " + file.string();
    } else if (profile_asked) {
      throw Error("AWS_PROFILE=" + profile + ": no such profile in " + (file.empty() ? "~/.aws/credentials" : file.string()));
    }
  }
  // Region: environment, then the profile in the config file ("[profile NAME]", or "[default]").
  c.region = !get(env, "AWS_REGION").empty() ? get(env, "AWS_REGION") : get(env, "AWS_DEFAULT_REGION");
  if (c.region.empty()) {
    const auto config_file = home_file(env, "AWS_CONFIG_FILE", "config");
    if (!config_file.empty()) {
      const auto sections = read_ini(config_file);
      const std::string name = profile == "default" ? std::string("default") : "profile " + profile;
      if (const auto it = sections.find(name); it != sections.end() && it->second.count("region")) c.region = it->second.at("region");
    }
  }
  if (c.region.empty()) c.region = "us-east-1";
  c.endpoint = !get(env, "AWS_ENDPOINT_URL_S3").empty() ? get(env, "AWS_ENDPOINT_URL_S3") : get(env, "AWS_ENDPOINT_URL");
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (!c.endpoint.empty() && c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0)
    throw Error("AWS_ENDPOINT_URL=" + c.endpoint + ": expected http://HOST[:PORT] or https://HOST[:PORT]");
  const std::string style = get(env, "AWS_S3_ADDRESSING_STYLE");
  if (!style.empty() && style != "path" && style != "virtual" && style != "auto")
    throw Error("AWS_S3_ADDRESSING_STYLE=" + style + ": expected path, virtual or auto");
  c.path_style = style == "path" || (style != "virtual" && !c.endpoint.empty());
  return c;
}

S3Address address_of(const S3Config& config, const S3Url& url) {
  S3Address a;
  std::string endpoint = config.endpoint.empty() ? "https://s3." + config.region + ".amazonaws.com" : config.endpoint;
  const auto scheme_end = endpoint.find("://");
  a.scheme = endpoint.substr(0, scheme_end);
  std::string host = endpoint.substr(scheme_end + 3);
  // A bucket with dots cannot be a TLS host name under *.amazonaws.com: path-style for those.
  const bool path_style = config.path_style || (a.scheme == "https" && url.bucket.find('.') != std::string::npos);
  if (path_style) {
    a.host = host;
    a.path = "/" + url.bucket + "/" + url.key;
  } else {
    a.host = url.bucket + "." + host;
    a.path = "/" + url.key;
  }
  return a;
}

}  // namespace roadveil::storage
