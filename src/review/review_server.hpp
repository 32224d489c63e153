#pragma once
// `roadveil review INPUT --regions FILE`: a local web app in which a person checks the frames the review
// queue points at (or any frame) and corrects the regions file: the page (src/review/web) draws the
// input's frame with its regions, and every change goes to EditSession, which saves the file at once.
// Served by cpp-httplib from the binary itself; binds 127.0.0.1 unless told otherwise, since the frames it
// serves are the unredacted input.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roadveil::review {

struct ReviewServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  std::string reviewer;          // the name the page starts with (each tab may change it)
  std::int64_t start_frame = -1; // -1: the top of the review queue
  int queue_length = 500;        // frames of the review queue sent to the page
  // Names the page may be opened by when bound to every address (--allow-host), besides IP addresses, loopback
  // names and this machine's host name.
  std::vector<std::string> allowed_hosts;
  // `verify --json` reports whose findings on this input rank the queue (--verify), as review-queue's.
  std::vector<std::filesystem::path> verify_reports;
};
// The largest request body the server reads (an edit is a few hundred bytes; a body is read whole, so without
// a bound one request could take all the memory).
constexpr std::size_t kMaxRequestBytes = std::size_t{1} << 20;
// How deeply a request's JSON may nest: an edit nests 4 deep, and copying a value nested 200,000 deep overran
// the stack (the server crashed).
constexpr int kMaxRequestNesting = 32;

// What decides whether a request may reach the review's API: its Host, Origin and Content-Type headers and
// whether it changes anything (not GET or HEAD).
struct RequestOrigin {
  std::string host, origin, content_type;
  bool state_changing = false;
};
// Why a request to the server bound at `bound_host` is refused, or nothing when it may go on: a Host naming
// other than a loopback name or the bound address (DNS rebinding; the port is the browser's, which a tunnel may
// change); bound to every address, other than an IP address, this machine's name (`machine_name`) or one of
// `allowed_hosts`: a web page whose own name resolves to this machine sends that name; for an edit, an Origin
// other than the server's own or a body that is not application/json (another web page's cross-site POST).
std::optional<std::string> refused_request(const RequestOrigin& request, std::string_view bound_host,
                                           const std::vector<std::string>& allowed_hosts = {},
                                           std::string_view machine_name = {});
// How deeply a JSON text nests its arrays and objects (brackets in strings not counted).
int json_nesting(std::string_view text);
// Whether a --host binds every address ("0.0.0.0", "::").
bool is_wildcard_address(std::string_view host);

class ReviewServer {
 public:
  // Opens the input and its regions file and checks that they belong together. Throws Error naming the file.
  ReviewServer(const std::filesystem::path& input, const std::filesystem::path& regions, ReviewServerOptions options);
  ~ReviewServer();
  // Binds the port; returns it. Throws Error when it is in use or cannot be bound.
  int bind();
  std::string url() const;
  // Serves until stop() (or the process ends).
  void run();
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace roadveil::review
