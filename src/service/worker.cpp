#include "service/worker.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/utc_time.hpp"
#include "media/image_file.hpp"
#include "service/s3_event.hpp"

namespace roadveil::service {

using json = nlohmann::json;
using storage::S3Url;

namespace {

std::string default_consumer() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}-{}", host[0] ? host : "worker", ::getpid());
}

void log_line(std::ostream& log, const std::string& level, const std::string& message, json fields = json::object()) {
  fields["time"] = utc_time_text(std::chrono::system_clock::now());
  fields["level"] = level;
  fields["msg"] = message;
  log << fields.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
}

// While a job runs, resets its message's idle time every `period` on a connection of its own, so that no
// other worker claims a message whose job is alive.
class Heartbeat {
 public:
  Heartbeat(const QueueUrl& url, const std::string& group, const std::string& consumer, const std::string& id,
            std::chrono::milliseconds period)
      : thread_([=, this] {
          // A connection lost (Redis restarted, failed over) is made again at the next beat: a heartbeat that
          // stopped for good let another worker take over a long job that was still running.
          std::optional<RedisStream> stream;
          std::unique_lock lock(mutex_);
          while (!cv_.wait_for(lock, period, [this] { return done_; })) {
            try {
              if (!stream) stream.emplace(url, group);
              if (!stream->keep_claimed(consumer, id)) break;  // taken over: our result will not be acknowledged
            } catch (const QueueUnavailable&) {
              stream.reset();  // connects again at the next beat
            } catch (...) {
              break;  // Redis refuses (the stream deleted?): another worker may run this job again, identically
            }
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

void write_metrics(const WorkerOptions& o, const std::string& consumer, const WorkerCounters& c, int in_flight,
                   std::chrono::system_clock::time_point started) noexcept {
  if (o.metrics.empty()) return;
  try {
  const json j = {{"consumer", consumer},
                  {"queue", o.queue.text()},
                  {"jobs_done", c.done},
                  {"jobs_skipped", c.skipped},
                  {"jobs_failed", c.failed},
                  {"jobs_dead_lettered", c.dead_lettered},
                  {"events_ignored", c.ignored},
                  {"in_flight", in_flight},
                  {"frames", c.frames},
                  {"seconds", c.seconds},
                  {"fps", c.seconds > 0 ? c.frames / c.seconds : 0.0},
                  {"started", utc_time_text(started)},
                  {"updated", utc_time_text(std::chrono::system_clock::now())}};
  write_file_atomically(o.metrics, [&](std::ostream& out) { out << j.dump(2) << "\n"; }, "metrics");
  } catch (const std::exception& e) {
    // A full disk must not fail the jobs themselves (and dead-letter good uploads): the counters wait.
    std::cerr << "roadveil: warning: " << o.metrics.string() << ": cannot write the metrics: " << e.what() << "\n";
  }
}

// The jobs of one message's events: each upload anonymized (or skipped), logged and counted; what went wrong
// goes to `errors`. Returns how many jobs ran.
int run_event_jobs(const std::vector<ObjectEvent>& events, const std::string& message_id, const S3Url& output,
                   const RunContext& context, WorkerCounters& counters, std::ostream& log, std::vector<std::string>& errors) {
  int jobs = 0;
  for (const ObjectEvent& e : events) {
    const S3Url input{e.bucket, e.key};
    // Our own outputs (and their audit records) notify too when they land in a watched bucket.
    if (!e.created() || !is_media_name(e.key) || (input.bucket == output.bucket && e.key.starts_with(output.key))) {
      ++counters.ignored;
      // Said, not only counted: an output prefix that takes in the uploads (s3://bucket/ in the uploads'
      // own bucket) ignores every event, and the log is where that shows.
      const char* why = !e.created()              ? "not an upload (the object was removed or restored)"
                        : !is_media_name(e.key)   ? "not an image or video, or hidden (its name starts with '.')"
                                                 : "under the output prefix (the worker's own output, or an upload there)";
      log_line(log, "info", "event ignored", {{"message_id", message_id}, {"input", input.to_string()}, {"reason", why}});
      continue;
    }
    ObjectJob job{input, S3Url{output.bucket, output.key + writable_output_name(e.key)}, e.etag};
    if (job.input_etag.empty()) {  // some bridges drop it: the skip check and the metadata need it
      const auto info = context.client->head(input);
      if (!info) {
        ++counters.skipped;
        log_line(log, "info", "job superseded: the upload was deleted before it was anonymized",
                 {{"message_id", message_id}, {"input", input.to_string()}});
        continue;
      }
      job.input_etag = info->etag;
    }
    ++jobs;
    const JobOutcome r = run_object_job(context, job);
    json fields = {{"message_id", message_id}, {"input", input.to_string()}, {"output", to_string(job.output)}};
    if (r.result == JobResult::Failed) {
      errors.push_back(r.error);
      fields["error"] = r.error;
      log_line(log, "error", "job failed", fields);
    } else if (r.result == JobResult::Superseded) {
      // The newer version's own event makes the output (or has made it): nothing to retry.
      ++counters.skipped;
      fields["reason"] = r.error;
      log_line(log, "info", "job superseded: the input was replaced or deleted; a newer version's own event makes its output", fields);
    } else if (r.result == JobResult::Skipped) {
      ++counters.skipped;
      log_line(log, "info", "job skipped: output already made from this input with these settings", fields);
    } else {
      ++counters.done;
      counters.frames += r.report.frames;
      counters.seconds += r.report.seconds;
      fields["frames"] = r.report.frames;
      fields["seconds"] = r.report.seconds;
      fields["damaged"] = r.report.damaged;
      log_line(log, "info", "job done", fields);
    }
  }
  return jobs;
}

}  // namespace

WorkerCounters run_worker(const WorkerOptions& options, const RunContext& context, const std::atomic<bool>& stop,
                          std::ostream& log) {
  const std::string consumer = options.consumer.empty() ? default_consumer() : options.consumer;
  const S3Url output = storage::parse_s3_url(options.output);
  if (!output.is_prefix()) throw Error(options.output + ": the worker's output is a prefix ending in '/'");
  RedisStream stream(options.queue, options.group);
  stream.ensure_group();
  WorkerCounters counters;
  const auto started = std::chrono::system_clock::now();
  const auto heartbeat_period = std::max(std::chrono::milliseconds(50), options.claim_after / 4);
  log_line(log, "info", "worker started", {{"consumer", consumer}, {"stream", options.queue.stream}, {"group", options.group}});
  write_metrics(options, consumer, counters, 0, started);

  const auto dead_letter = [&](const StreamMessage& message, const std::string& text, const std::string& error,
                               std::int64_t deliveries) {
    stream.add({{"event", text}, {"error", error}, {"message_id", message.id}, {"deliveries", std::to_string(deliveries)},
                {"consumer", consumer}},
               stream.dead_letter_stream());
    stream.ack(message.id);
    ++counters.dead_lettered;
    log_line(log, "error", "message dead-lettered",
             {{"message_id", message.id}, {"deliveries", deliveries}, {"error", error}, {"stream", stream.dead_letter_stream()}});
  };

  // Redis restarted, failed over or cut off: the worker waits and connects again (0.5 s, doubling to 30 s),
  // as long as it takes, instead of exiting (which left its in-flight heartbeat to lapse and the queue unserved
  // until something restarted it). A message it held stays pending: taken again, and skipped if its output is made.
  std::chrono::milliseconds retry_after{500};
  while (!stop.load()) {
    try {
      std::optional<StreamMessage> message = stream.claim_stale(consumer, options.claim_after);
      const bool claimed = message.has_value();
      if (!message) message = stream.read_new(consumer, options.block);
      if (!message) {
        if (options.drain && stream.pending() == 0) break;
        continue;
      }
      const std::string text = message->field("event").empty() && !message->fields.empty() ? message->fields[0].second
                                                                                            : message->field("event");
      if (claimed) {
        // A message whose job ends the worker itself (killed for memory on a huge video, a crash in a decoder)
        // never reaches the failure path below: each worker that takes it over dies the same way, for ever.
        // Every delivery counts, the one that died included: past the attempts allowed, it is dead-lettered
        // without running again.
        const std::int64_t deliveries = stream.delivery_count(message->id);
        if (deliveries > options.max_attempts) {
          ++counters.failed;
          dead_letter(*message, text,
                      "delivered " + std::to_string(deliveries) + " times: the workers that took it stopped without finishing "
                      "(killed for memory? a crash?)",
                      deliveries);
          write_metrics(options, consumer, counters, 0, started);
          continue;
        }
      }
      std::vector<std::string> errors;
      int jobs = 0;
      try {
        const std::vector<ObjectEvent> events = parse_s3_event(text);
        Heartbeat heartbeat(options.queue, options.group, consumer, message->id, heartbeat_period);
        write_metrics(options, consumer, counters, 1, started);
        jobs = run_event_jobs(events, message->id, output, context, counters, log, errors);
      } catch (const std::exception& e) {
        errors.push_back(e.what());
      }
      if (errors.empty()) {
        stream.ack(message->id);
      } else {
        ++counters.failed;
        const std::int64_t deliveries = stream.delivery_count(message->id);
        const bool malformed = jobs == 0 && errors.size() == 1 && errors[0].starts_with("not an S3 event");
        if (malformed || deliveries >= options.max_attempts) {
          std::string all;
          for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
          dead_letter(*message, text, all, deliveries);
        } else {
          log_line(log, "warning", "message left pending for a retry",
                   {{"message_id", message->id}, {"deliveries", deliveries}, {"retry_after_seconds", options.claim_after.count() / 1000.0}});
        }
      }
      write_metrics(options, consumer, counters, 0, started);
    } catch (const QueueUnavailable& e) {
      log_line(log, "warning", "queue unreachable: connecting again", {{"error", e.what()}, {"retry_after_seconds", retry_after.count() / 1000.0}});
      for (auto waited = std::chrono::milliseconds(0); waited < retry_after && !stop.load(); waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      retry_after = std::min(retry_after * 2, std::chrono::milliseconds(30000));
      try {
        stream.reconnect();
        stream.ensure_group();  // a Redis restarted without its data has lost the group
        log_line(log, "info", "queue reachable again", {{"queue", options.queue.text()}});
        retry_after = std::chrono::milliseconds(500);
      } catch (const QueueUnavailable&) {
        // Still unreachable (the log says why at the next command), and the wait doubles.
      }
      // Anything else (a password Redis refuses since its restart) is no outage: it ends the worker, named.
    }
  }
  log_line(log, "info", "worker stopped",
           {{"consumer", consumer}, {"jobs_done", counters.done}, {"jobs_failed", counters.failed}, {"jobs_skipped", counters.skipped}});
  write_metrics(options, consumer, counters, 0, started);
  return counters;
}

EnqueueResult enqueue_prefix(storage::S3Client& client, RedisStream& stream, const std::string& prefix,
                             const std::string& output) {
  const S3Url in = storage::parse_s3_url(prefix);
  std::optional<S3Url> out;
  if (!output.empty()) {
    out = storage::parse_s3_url(output);
    if (!out->is_prefix()) throw Error(output + ": the output is a prefix ending in '/'");
  }
  EnqueueResult result;
  std::vector<storage::ObjectInfo> objects;
  if (in.is_prefix()) {
    objects = client.list(in);
  } else if (auto info = client.head(in)) {
    info->key = in.key;
    objects.push_back(*info);
  } else {
    throw Error(prefix + ": no such object");
  }
  for (const storage::ObjectInfo& o : objects) {
    if (!is_media_name(o.key) || (out && out->bucket == in.bucket && o.key.starts_with(out->key))) continue;
    if (out) {
      const auto made = client.head(S3Url{out->bucket, out->key + writable_output_name(o.key)});
      if (made) {
        if (const auto other = output_of_another_input(*made, S3Url{in.bucket, o.key}); other && source_exists(client, *other)) {
          // Queued, its job would fail (see run_object_job): said here, once, instead.
          result.collisions.push_back(S3Url{in.bucket, o.key}.to_string() + ": its output " + out->bucket + "/" + out->key +
                                      writable_output_name(o.key) + " is the anonymized output of " + *other);
          continue;
        }
        // Done: made from this version of the upload, and whole (a damaged output's job makes it again, so a
        // backfill queues it; so is one without a status, made before outputs said theirs, which run_object_job
        // does not take as done either). The settings are the workers' own, which a backfill does not know: an
        // output made with other settings is made again by its job when an event for it comes, not queued here.
        if (metadata_holds(made->metadata, {{"roadveil-source-etag", o.etag}, {"roadveil-status", "ok"}})) {
          ++result.skipped;
          continue;
        }
      }
    }
    stream.add({{"event", make_s3_event(in.bucket, o.key, o.size, o.etag)}});
    ++result.queued;
  }
  return result;
}

}  // namespace roadveil::service
