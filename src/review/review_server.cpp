#include "review/review_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.hpp"
#include "media/frame_seeker.hpp"
#include "media/image_file.hpp"
#include "redact/redact_plan.hpp"
#include "review/edit_session.hpp"
#include "review/queue.hpp"
#include "review/web_assets.hpp"

namespace roadveil::review {

using nlohmann::json;

struct ReviewServer::State {
  std::filesystem::path input, regions;
  ReviewServerOptions options;
  std::optional<media::FrameSeeker> video;  // absent for a photo
  media::FramePtr photo;
  std::unique_ptr<EditSession> session;
  std::mutex decode_mutex, edit_mutex;  // one decoder; edits applied one at a time
  redact::Redactor redactor;            // under decode_mutex
  httplib::Server server;
  int port = 0;
  std::vector<ExposedFinding> verified;  // from options.verify_reports
  std::string machine_name;              // gethostname()
};

namespace {

void send_json(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::string reviewer_of(const json& body, const httplib::Request& req) {
  if (body.is_object() && body.contains("reviewer") && body["reviewer"].is_string()) return body["reviewer"].get<std::string>();
  return req.get_header_value("X-Reviewer");
}

// A frame number from the path (digits only); one too large for any video is past the end, not an error.
std::int64_t frame_number(const std::string& digits) {
  return digits.size() > 18 ? std::numeric_limits<std::int64_t>::max() : std::stoll(digits);
}

bool is_loopback_name(std::string_view name) {
  if (name == "localhost" || name == "[::1]") return true;
  if (!name.starts_with("127.")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// An IP address as a Host names it ("192.168.1.20", "[fe80::1]"): no DNS name, so nothing to rebind.
bool is_ip_literal(std::string_view name) {
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    const std::string inner(name.substr(1, name.size() - 2));
    in6_addr a6{};
    return inet_pton(AF_INET6, inner.c_str(), &a6) == 1;
  }
  const std::string text(name);
  in_addr a4{};
  return inet_pton(AF_INET, text.c_str(), &a4) == 1;
}

// The name in a Host header ("localhost:8080" -> "localhost", "[::1]:8080" -> "[::1]").
std::string host_name(std::string_view authority) {
  const std::size_t colon = authority.rfind(':');
  const std::size_t bracket = authority.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) return std::string(authority);
  return std::string(authority.substr(0, colon));
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

bool is_wildcard_address(std::string_view host) { return host == "0.0.0.0" || host == "::" || host == "[::]"; }

int json_nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

std::optional<std::string> refused_request(const RequestOrigin& request, std::string_view bound_host,
                                           const std::vector<std::string>& allowed_hosts, std::string_view machine_name) {
  // The page shows the unredacted input and its edits change what `render` hides, so only the page itself
  // may use the API. A web page elsewhere can send a form-like POST to 127.0.0.1 without asking first
  // (text/plain is a "simple" request), and through DNS rebinding (its own name resolving to 127.0.0.1) read
  // the frames as well: the browser then sends that name as the Host.
  // The name decides, not the port: a page that rebinds its own name reaches this port under that name, while
  // the port in Host is the one the browser used (a tunnel, `ssh -L 9000:localhost:8080`, a container's
  // published port) and may be any.
  std::string name = host_name(lower(request.host));
  if (name.size() > 1 && name.back() == '.') name.pop_back();  // "reviewbox." is the fully qualified "reviewbox"
  const std::string bound = lower(std::string(bound_host));
  const std::string bound_name = bound.find(':') != std::string::npos && !bound.starts_with("[") ? "[" + bound + "]" : bound;
  // Bound to every address, the page is opened by this machine's address or name from elsewhere: any IP address
  // (no name to rebind), the machine's host name, and names the user allowed. A name that is only a web page's
  // own, resolving here, is none of them (any name was served, and that page could read frames and edit).
  const auto allowed = [&] {
    if (!is_wildcard_address(bound)) return false;
    if (is_ip_literal(name) || (!machine_name.empty() && name == lower(std::string(machine_name)))) return true;
    return std::any_of(allowed_hosts.begin(), allowed_hosts.end(), [&](const std::string& h) { return lower(h) == name; });
  };
  const bool known_name = is_loopback_name(name) || name == bound_name || allowed();
  if (request.host.empty() || !known_name)
    return "the review serves only its own page: Host '" + request.host + "' is not this server (open the address `roadveil review` printed" +
           (is_wildcard_address(bound) ? ", an IP address of this machine or its name; another name: --allow-host NAME)" : ")");
  if (!request.state_changing) return std::nullopt;
  if (!request.origin.empty() && lower(request.origin) != "http://" + lower(request.host))
    return "edits come only from the review's own page, not from " + request.origin;
  const std::string type = lower(request.content_type.substr(0, request.content_type.find(';')));
  if (type != "application/json") return "an edit is sent as application/json";
  return std::nullopt;
}

ReviewServer::ReviewServer(const std::filesystem::path& input, const std::filesystem::path& regions, ReviewServerOptions options)
    : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.input = input;
  s.regions = regions;
  s.options = std::move(options);
  std::vector<std::int64_t> timestamps;
  int width = 0, height = 0;
  if (media::is_image_path(input)) {
    s.photo = media::decode_image(input);
    timestamps = {0};
    width = s.photo->width;
    height = s.photo->height;
  } else {
    s.video.emplace(input);
    timestamps = s.video->timestamps();
    width = s.video->video().width;
    height = s.video->video().height;
  }
  s.session = std::make_unique<EditSession>(regions, input, std::move(timestamps), width, height);
  if (s.options.start_frame >= s.session->frame_count())
    throw Error(input.string() + ": --frame " + std::to_string(s.options.start_frame) + " is outside the video (frames 0-" +
                std::to_string(s.session->frame_count() - 1) + ")");

  for (const auto& report : s.options.verify_reports) {
    const auto found = read_verify_report(report);
    s.verified.insert(s.verified.end(), found.begin(), found.end());
  }
  {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) == 0) s.machine_name = name;
  }
  s.server.set_payload_max_length(kMaxRequestBytes);
  s.server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const auto refused = refused_request({req.get_header_value("Host"), req.get_header_value("Origin"),
                                          req.get_header_value("Content-Type"), req.method != "GET" && req.method != "HEAD"},
                                         state_->options.host, state_->options.allowed_hosts, state_->machine_name);
    if (!refused) return httplib::Server::HandlerResponse::Unhandled;
    spdlog::warn("refused {} {}: {}", req.method, req.path, *refused);
    send_json(res, {{"error", *refused}}, 403);
    return httplib::Server::HandlerResponse::Handled;
  });

  for (const WebAsset& asset : web_assets()) {
    const std::string path(asset.path);
    auto serve = [asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(asset.body), std::string(asset.mime).c_str());
      res.set_header("Cache-Control", "no-cache");
    };
    s.server.Get(path, serve);
    if (path == "/index.html") s.server.Get("/", serve);
  }

  // What a new box may be: face, plate, and the classes of one's own models in the regions file.
  auto class_names = [] {
    json names = json::array();
    for (const ObjectClass c : object_classes()) names.push_back(to_string(c));
    return names;
  };
  s.server.Get("/api/session", [this, class_names](const httplib::Request&, httplib::Response& res) {
    auto& s = *state_;
    std::lock_guard lock(s.edit_mutex);
    const auto& info = s.session->info();
    send_json(res, {{"input", s.input.string()},
                    {"regions", s.regions.string()},
                    {"type", info.video ? "video" : "image"},
                    {"width", info.width},
                    {"height", info.height},
                    {"frame_rate", info.frame_rate},
                    {"frame_count", s.session->frame_count()},
                    {"reviewer", s.options.reviewer},
                    {"start_frame", s.options.start_frame},
                    {"revision", s.session->revision()},
                    {"classes", class_names()}});
  });
  s.server.Get("/api/overview", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(state_->edit_mutex);
    send_json(res, state_->session->overview());
  });
  s.server.Get("/api/queue", [this](const httplib::Request&, httplib::Response& res) {
    auto& s = *state_;
    std::lock_guard lock(s.edit_mutex);
    const std::vector<pipeline::RegionsEntry> entries{s.session->entry()};
    const auto ranked = rank_frames(entries, s.verified);
    json list = json::array();
    for (std::size_t i = 0; i < ranked.size() && i < static_cast<std::size_t>(s.options.queue_length); ++i)
      list.push_back(to_json(ranked[i], entries.front()));
    send_json(res, {{"queue", list}, {"revision", s.session->revision()}});
  });
  s.server.Get(R"(/api/frames/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(state_->edit_mutex);
    try {
      send_json(res, state_->session->frame(frame_number(req.matches[1].str())));
    } catch (const BadEdit& e) {
      send_json(res, {{"error", e.what()}}, 404);
    }
  });
  // The input's pixels of one frame as JPEG; ?hidden=1 renders its regions as `render` does by default.
  s.server.Get(R"(/api/frames/(\d+)/image)", [this](const httplib::Request& req, httplib::Response& res) {
    auto& s = *state_;
    const std::int64_t index = frame_number(req.matches[1].str());
    if (index >= s.session->frame_count()) {
      send_json(res, {{"error", "frame " + std::to_string(index) + " is outside the video"}}, 404);
      return;
    }
    Regions hidden;
    const bool preview = req.get_param_value("hidden") == "1";
    if (preview) {
      std::lock_guard lock(s.edit_mutex);
      const auto entry = s.session->entry();
      if (const auto it = entry.frames.find(index); it != entry.frames.end()) hidden = it->second;
    }
    try {
      std::lock_guard lock(s.decode_mutex);
      media::FramePtr frame;
      if (s.video) {
        frame = s.video->frame(index);
      } else {
        frame = media::make_frame();
        av_frame_ref(frame.get(), s.photo.get());
      }
      if (preview && !hidden.empty()) {
        av_frame_make_writable(frame.get());
        redact::ClassStyles styles;
        styles[static_cast<int>(ObjectClass::Face)].shape = redact::Shape::Ellipse;
        redact::redact_regions(s.redactor, *frame, hidden, styles);
      }
      const auto bytes = media::encode_picture(*frame, AV_CODEC_ID_MJPEG, {.jpeg_qscale = 3}, s.input.string());
      res.set_content(std::string(bytes.begin(), bytes.end()), "image/jpeg");
      if (!preview) res.set_header("Cache-Control", "max-age=3600");  // the input's pixels never change
    } catch (const Error& e) {
      send_json(res, {{"error", e.what()}}, 500);
    }
  });
  auto edit_route = [this](bool undo) {
    return [this, undo](const httplib::Request& req, httplib::Response& res) {
      json body;
      if (json_nesting(req.body) > kMaxRequestNesting) {
        send_json(res, {{"error", "the request body nests deeper than an edit does"}}, 400);
        return;
      }
      try {
        body = json::parse(req.body);
      } catch (const json::exception&) {
        send_json(res, {{"error", "the request body is not JSON"}}, 400);
        return;
      }
      const std::string reviewer = reviewer_of(body, req);
      std::lock_guard lock(state_->edit_mutex);
      try {
        json result = undo ? state_->session->undo(reviewer) : state_->session->apply(body.value("edit", json()), reviewer);
        spdlog::info("{} by {}: revision {}", undo ? "undo" : body["edit"].value("op", "edit"), reviewer, result["revision"].get<std::int64_t>());
        send_json(res, result);
      } catch (const BadEdit& e) {
        send_json(res, {{"error", e.what()}, {"revision", state_->session->revision()}}, 400);
      } catch (const EditConflict& e) {
        send_json(res, {{"error", e.what()}, {"revision", state_->session->revision()}}, 409);
      } catch (const json::exception& e) {
        // An edit: {"op": 5}, a body that is not an object, the request's fault. An undo reads only the
        // journal in the regions file: the file's.
        send_json(res, {{"error", std::string(undo ? "the review journal of the regions file is malformed: " : "malformed edit: ") + e.what()},
                        {"revision", state_->session->revision()}}, undo ? 500 : 400);
      } catch (const Error& e) {
        send_json(res, {{"error", e.what()}, {"revision", state_->session->revision()}}, 500);
      }
    };
  };
  s.server.Post("/api/edit", edit_route(false));
  s.server.Post("/api/undo", edit_route(true));
}

ReviewServer::~ReviewServer() = default;

int ReviewServer::bind() {
  auto& s = *state_;
  // cpp-httplib's default sets SO_REUSEPORT, with which a second review on the same port would bind too and
  // share the connections of the first: take the port alone (SO_REUSEADDR only, for quick restarts).
  s.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (s.options.port == 0) {
    s.port = s.server.bind_to_any_port(s.options.host);
    if (s.port < 0) throw Error("cannot listen on " + s.options.host + " (no free port?)");
  } else {
    if (!s.server.bind_to_port(s.options.host, s.options.port))
      throw Error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                  ": the port is in use (another review?) or not allowed; choose another with --port, or --port 0 for any free one");
    s.port = s.options.port;
  }
  return s.port;
}

std::string ReviewServer::url() const {
  const auto& s = *state_;
  const std::string host = s.options.host.find(':') != std::string::npos ? "[" + s.options.host + "]" : s.options.host;
  std::string url = "http://" + host + ":" + std::to_string(s.port) + "/";
  if (s.options.start_frame >= 0) url += "#frame=" + std::to_string(s.options.start_frame);
  return url;
}

void ReviewServer::run() { state_->server.listen_after_bind(); }

void ReviewServer::stop() { state_->server.stop(); }

}  // namespace roadveil::review
