// `roadveil review INPUT --regions FILE [--port N] [--host H] [--frame N] [--reviewer NAME] [--verify REPORT]`: the browser
// editor for a regions file (review/review_server.hpp, docs/review.md).
#include <cstdlib>
#include <iostream>

#include "cli/command.hpp"
#include "review/review_server.hpp"

namespace roadveil::cli {

void add_review_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("review", "Check and correct the regions of a video or photo in the browser; every change is saved to the regions file at once, for render");
  struct State {
    std::string input, regions;
    review::ReviewServerOptions options;
  };
  auto state = std::make_shared<State>();
  if (const char* user = std::getenv("USER")) state->options.reviewer = user;
  cmd->add_option("input", state->input, "The original (unredacted) video or photo")->required();
  cmd->add_option("--regions", state->regions, "The regions file written by anonymize --detections (edited in place)")->required();
  cmd->add_option("--port", state->options.port, "Port to listen on (0: any free port)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--host", state->options.host, "Address to listen on: the page shows unredacted frames, keep it local")->capture_default_str();
  cmd->add_option("--frame", state->options.start_frame, "Open at this frame (default: the top of the review queue)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--reviewer", state->options.reviewer, "Your name, recorded with every change (default: $USER)");
  cmd->add_option("--verify", state->options.verify_reports,
                  "A verify --json report of the rendered file: its findings go to the top of the queue, as with review-queue --verify (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--allow-host", state->options.allowed_hosts,
                  "Bound to every address (--host 0.0.0.0): a name the page may be opened by besides IP addresses and this machine's name (repeatable)");
  cmd->callback([state, &action] {
    action = [state] {
      if (!state->options.allowed_hosts.empty() && !review::is_wildcard_address(state->options.host))
        std::cerr << "roadveil: warning: --allow-host applies only when bound to every address (--host 0.0.0.0); bound to "
                  << state->options.host << ", the page is served under that address and loopback names\n";
      review::ReviewServer server(state->input, state->regions, state->options);
      server.bind();
      std::cout << "roadveil review: open " << server.url() << " (Ctrl+C stops; every change is saved to "
                << state->regions << " at once)" << std::endl;
      server.run();
      return kExitOk;
    };
  });
}

}  // namespace roadveil::cli
