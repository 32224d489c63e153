// `roadveil worker` and `roadveil enqueue`: upload-triggered anonymization on S3-compatible storage with a
// Redis Stream as the queue (service/worker.hpp, docs/storage.md).
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <iostream>

#include "cli/anonymize_options.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "service/worker.hpp"
#include "storage/s3_location.hpp"

namespace roadveil::cli {

namespace {

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested.store(true); }

// SIGTERM (Kubernetes, systemd, Slurm) and SIGINT end the loop after the current job, which is finished and
// acknowledged; installed before anything else so that the cleanup handler of temporary files (which would
// end the process at once) is not the one that runs.
void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

}  // namespace

void add_worker_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("worker", "Anonymize each image or video an S3 event notification on a Redis Stream names");
  struct State {
    SharedOptions shared;
    std::string queue, output;
    service::WorkerOptions worker;
    double claim_after_seconds = 300;
    bool no_audit = false;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("--queue", state->queue, "redis://HOST:PORT/STREAM carrying S3 event notifications (field \"event\")")->required();
  cmd->add_option("-o,--output", state->output, "s3://bucket/prefix/ for the outputs (each input key is kept under it)")->required();
  cmd->add_option("--group", state->worker.group, "Consumer group shared by the workers")->capture_default_str();
  cmd->add_option("--consumer", state->worker.consumer, "This worker's name in the group (default: HOST-PID)");
  cmd->add_option("--max-attempts", state->worker.max_attempts, "Deliveries of a failing message before it goes to STREAM:dead")
      ->check(CLI::Range(1, 100))->capture_default_str();
  cmd->add_option("--claim-after", state->claim_after_seconds,
                  "Seconds a message may go without a heartbeat before another worker takes it over (its worker died)")
      ->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  cmd->add_option("--metrics", state->worker.metrics, "JSON file with the worker's counters, rewritten after each job");
  cmd->add_flag("--drain", state->worker.drain, "Stop when no message is left to take (instead of waiting for more)");
  cmd->add_flag("--no-audit", state->no_audit, "Upload no audit record beside each output");
  state->shared.add_detection(*cmd);
  state->shared.add_rendering(*cmd);
  cmd->callback([state, &action] {
    action = [state] {
      stop_on_signals();
      state->shared.finalize();
      state->shared.require_something_found();
      state->worker.queue = service::parse_queue_url(state->queue);
      state->worker.output = state->output;
      state->worker.claim_after = std::chrono::milliseconds(static_cast<std::int64_t>(state->claim_after_seconds * 1000));
      if (!storage::is_s3_url(state->output)) throw Error(state->output + ": the worker's output is an s3:// prefix");
      storage::S3Client client(storage::resolve_s3_config(storage::process_environment()));
      WorkFolder work;
      pipeline::Anonymizer anonymizer(state->shared.anonymize);
      const pipeline::AuditContext audit{"anonymize", state->shared.quality, &state->shared.anonymize, "", false};
      const service::RunContext context{&client, &anonymizer, state->no_audit ? nullptr : &audit,
                                        service::settings_digest(state->shared.anonymize, state->shared.quality, !state->no_audit),
                                        work.path(), state->shared.anonymize.mask, true, true, 4 << 20, {}};
      service::run_worker(state->worker, context, stop_requested, std::cout);
      return kExitOk;
    };
  });
}

void add_enqueue_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("enqueue", "Queue an S3 event notification for each image or video already under a prefix (backfill)");
  struct State {
    std::string prefix, queue, output;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("prefix", state->prefix, "s3://bucket/prefix/ (or one object)")->required();
  cmd->add_option("--queue", state->queue, "redis://HOST:PORT/STREAM the workers read")->required();
  cmd->add_option("-o,--output", state->output, "The workers' output prefix: objects already anonymized there are not queued");
  cmd->callback([state, &action] {
    action = [state] {
      storage::S3Client client(storage::resolve_s3_config(storage::process_environment()));
      service::RedisStream stream(service::parse_queue_url(state->queue), "roadveil");
      const auto r = service::enqueue_prefix(client, stream, state->prefix, state->output);
      for (const std::string& c : r.collisions) std::cerr << "roadveil: error: " << c << ": not queued; rename one of them\n";
      std::cerr << fmt::format("roadveil: {} queued, {} already anonymized{}\n", r.queued, r.skipped,
                               r.collisions.empty() ? "" : fmt::format(", {} not queued (output names taken)", r.collisions.size()));
      return r.collisions.empty() ? kExitOk : kExitFailure;
    };
  });
}

}  // namespace roadveil::cli
