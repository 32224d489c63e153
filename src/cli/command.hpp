#pragma once
// Each subcommand registers its options on the app and sets the action main() runs after parsing.
#include <CLI/CLI.hpp>
#include <functional>

namespace roadveil::cli {

using Action = std::function<int()>;  // returns the process exit code

void add_anonymize_command(CLI::App& app, Action& action);
void add_render_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_flicker_command(CLI::App& app, Action& action);
void add_compare_command(CLI::App& app, Action& action);
void add_dataset_command(CLI::App& app, Action& action);

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // the command failed (one clear message printed)
inline constexpr int kExitUsage = 2;          // wrong options
inline constexpr int kExitPartialFailure = 3; // a folder run where some files failed and others succeeded

}  // namespace roadveil::cli
