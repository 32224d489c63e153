#pragma once
// `roadveil worker`: takes S3 event notifications from a Redis Stream (consumer group), anonymizes each new
// image or video object into the output prefix (service/object_jobs), then acknowledges the message.
//  - at-least-once: a message is acknowledged only when its outputs are written; a worker killed mid-job
//    leaves it pending, and any worker claims it once it has been idle `claim_after` (a running job's
//    heartbeat keeps resetting that, so a slow job is never taken from a live worker). Outputs appear whole
//    and are skipped when already made, so a second run of a job writes nothing twice;
//  - a message that fails `max_attempts` deliveries (or is not an S3 notification at all) goes to the
//    dead-letter stream STREAM:dead with its error, and is acknowledged;
//  - `stop` (SIGTERM, SIGINT) ends the loop after the current job; the worker exits 0;
//  - one JSON line per event on `log`; counters in the metrics file after each job.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>

#include "service/object_jobs.hpp"
#include "service/redis_stream.hpp"

namespace roadveil::service {

struct WorkerOptions {
  QueueUrl queue;
  std::string group = "roadveil";
  std::string consumer;               // default: HOST-PID
  std::string output;                 // s3://bucket/prefix/
  int max_attempts = 3;
  std::chrono::milliseconds claim_after{std::chrono::minutes(5)};
  std::chrono::milliseconds block{std::chrono::seconds(2)};  // wait for a new message this long per poll
  std::filesystem::path metrics;      // JSON counters, rewritten after each job (empty: none)
  bool drain = false;                 // stop when nothing is left to take (batch backfills, tests)
};

struct WorkerCounters {
  std::int64_t done = 0, skipped = 0, failed = 0, dead_lettered = 0, ignored = 0, frames = 0;
  double seconds = 0;
};

// Runs until `stop` or (drain) an empty queue. `context` gives the client, anonymizer, audit and work folder.
WorkerCounters run_worker(const WorkerOptions& options, const RunContext& context, const std::atomic<bool>& stop,
                          std::ostream& log);

// `roadveil enqueue`: one notification per image or video object under `prefix` (a backfill of objects
// uploaded before the notifications were set up), skipping those whose output under `output` (when given)
// was already made from the same input. Returns how many were queued and how many skipped.
struct EnqueueResult {
  std::int64_t queued = 0, skipped = 0;
  // Uploads not queued because their output's name holds another upload's output (cam/a.vob and cam/a.mkv).
  std::vector<std::string> collisions;
};
EnqueueResult enqueue_prefix(storage::S3Client& client, RedisStream& stream, const std::string& prefix,
                             const std::string& output);

}  // namespace roadveil::service
