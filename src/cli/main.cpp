#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "pipeline/audit_record.hpp"

int main(int argc, char** argv) {
  using namespace roadveil;
  CLI::App app{"roadveil: hide faces and licence plates in dashcam and street video and photos"};
  app.set_version_flag("--version", std::string("roadveil ") + pipeline::kRoadveilVersion);
  app.require_subcommand(1);
  cli::Action action;
  cli::add_anonymize_command(app, action);
  cli::add_render_command(app, action);
  cli::add_eval_command(app, action);
  cli::add_flicker_command(app, action);
  cli::add_compare_command(app, action);
  cli::add_dataset_command(app, action);
  cli::add_verify_command(app, action);
  cli::add_review_queue_command(app, action);
  cli::add_review_command(app, action);
  cli::add_audit_command(app, action);
  cli::add_worker_command(app, action);
  cli::add_enqueue_command(app, action);
  cli::add_models_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // CLI11 checks required arguments before unknown ones: `anonymize --bogus` said "inputs is required",
    // not what was wrong. The unknown arguments it set aside are the better message.
    if (const auto unknown = app.remaining(true); !unknown.empty()) {
      // Named as typed: ExtrasError joins its list last first (CLI11's rjoin), so it gets them last first.
      std::vector<std::string> last_first;
      for (int i = argc - 1; i >= 1; --i)
        if (std::find(unknown.begin(), unknown.end(), argv[i]) != unknown.end()) last_first.emplace_back(argv[i]);
      return app.exit(CLI::ExtrasError(last_first)) == 0 ? cli::kExitOk : cli::kExitUsage;
    }
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  }
  try {
    return action ? action() : cli::kExitUsage;
  } catch (const Error& e) {
    std::cerr << "roadveil: error: " << e.what() << "\n";
    return cli::kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "roadveil: internal error: " << e.what() << "\n";
    return cli::kExitFailure;
  }
}
