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

namespace roadveil::review {

struct ReviewServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  std::string reviewer;          // the name the page starts with (each tab may change it)
  std::int64_t start_frame = -1; // -1: the top of the review queue
  int queue_length = 500;        // frames of the review queue sent to the page
};

// What decides whether a request may reach the review's API: its Host, Origin and Content-Type headers and
// whether it changes anything (not GET or HEAD).
struct RequestOrigin {
  std::string host, origin, content_type;
  bool state_changing = false;
};
// Why a request to the server bound at `bound_host` is refused, or nothing when it may go on: a Host naming
// other than a loopback name or the bound address (any, when bound to every address: DNS rebinding; the port
// is the browser's, which a tunnel may change); for an edit, an Origin other than the server's own or a body
// that is not application/json (another web page's cross-site POST).
std::optional<std::string> refused_request(const RequestOrigin& request, std::string_view bound_host);

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
