#pragma once
// Each subcommand registers its options on the app and sets the action main() runs after parsing.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace roadveil::cli {

using Action = std::function<int()>;  // returns the process exit code

void add_anonymize_command(CLI::App& app, Action& action);
void add_render_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_flicker_command(CLI::App& app, Action& action);
void add_compare_command(CLI::App& app, Action& action);
void add_dataset_command(CLI::App& app, Action& action);
void add_verify_command(CLI::App& app, Action& action);
void add_review_queue_command(CLI::App& app, Action& action);
void add_review_command(CLI::App& app, Action& action);
void add_audit_command(CLI::App& app, Action& action);
void add_worker_command(CLI::App& app, Action& action);
void add_enqueue_command(CLI::App& app, Action& action);
void add_models_command(CLI::App& app, Action& action);

// The message for an input that is neither a regular file nor a folder: missing, or a FIFO, socket or device
// (which roadveil cannot read: it opens inputs more than once and seeks in them).
std::string unusable_input_message(const std::string& path);

// `--json FILE`: the report to FILE, or to standard output for "-". Throws Error when it cannot be written.
void write_json_report(const nlohmann::json& j, const std::string& path);
// Throws Error when the report file (an existing file, not "-") is one of the inputs (the same file by any
// name): `verify out.jpg --json out.jpg` replaced the finished photo with its report.
void refuse_report_over_inputs(const std::string& report, const std::vector<std::string>& inputs,
                               const std::string& option = "--json");

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // the command failed (one clear message printed)
inline constexpr int kExitUsage = 2;          // wrong options
inline constexpr int kExitPartialFailure = 3; // a folder run where some files failed and others succeeded
inline constexpr int kExitFound = 4;          // verify: something exposed or readable was found; audit: a check failed

}  // namespace roadveil::cli
