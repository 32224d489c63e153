#pragma once
// `roadveil review INPUT --regions FILE`: a local web app in which a person checks the frames the review
// queue points at (or any frame) and corrects the regions file: the page (src/review/web) draws the
// input's frame with its regions, and every change goes to EditSession, which saves the file at once.
// Served by cpp-httplib from the binary itself; binds 127.0.0.1 unless told otherwise, since the frames it
// serves are the unredacted input.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace roadveil::review {

struct ReviewServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  std::string reviewer;          // the name the page starts with (each tab may change it)
  std::int64_t start_frame = -1; // -1: the top of the review queue
  int queue_length = 500;        // frames of the review queue sent to the page
};

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
