#pragma once
// A Redis Stream read by a consumer group (hiredis): the queue between storage notifications and workers.
// Redis keeps, per group, which messages each consumer has been given and not acknowledged (the pending
// list), so a worker that dies mid-job leaves its message there for another to claim (XAUTOCLAIM) once it
// has been idle longer than a job's heartbeat allows: at-least-once delivery, made exactly-once in effect by
// outputs that are written whole and skipped when already made.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

struct redisContext;

namespace roadveil::service {

// The connection to Redis is lost (Redis restarted, a failover, a network cut): every command fails until
// RedisStream::reconnect() succeeds. Errors Redis answers (a wrong type, no such group) are plain Error.
class QueueUnavailable : public Error {
 public:
  using Error::Error;
};

// "redis://[[USER]:PASSWORD@]HOST[:PORT]/STREAM" (PORT defaults to 6379). Without a password in the address,
// the one in REDISCLI_AUTH (as redis-cli reads it), if any: an address on a command line is seen by every user
// of the machine (ps).
struct QueueUrl {
  std::string host;
  int port = 6379;
  std::string stream;
  std::string username, password;  // AUTH [USER] PASSWORD after connecting, when a password is given
  // "redis://HOST:PORT/STREAM": how messages, logs and metrics name the queue, never with its password.
  std::string text() const;
};
QueueUrl parse_queue_url(const std::string& text);  // throws Error naming the text (its password masked)

struct StreamMessage {
  std::string id;                                            // "1733140000000-0"
  std::vector<std::pair<std::string, std::string>> fields;   // field -> value, in order
  std::string field(const std::string& name) const;
};

class RedisStream {
 public:
  RedisStream(const QueueUrl& url, std::string group);  // connects; throws Error naming host:port
  // Connects again (after Redis restarted, a failover, a network cut: every command then throws), as the
  // constructor does; throws Error when it cannot yet.
  void reconnect();
  ~RedisStream();
  RedisStream(const RedisStream&) = delete;
  RedisStream& operator=(const RedisStream&) = delete;

  // Creates the group (from the stream's first message, so that events queued before any worker ran are
  // read) and the stream if missing; an existing group is kept.
  void ensure_group();
  // A message never delivered to the group, waiting up to `block` for one.
  std::optional<StreamMessage> read_new(const std::string& consumer, std::chrono::milliseconds block);
  // A message another consumer was given and has not acknowledged for `min_idle` (it died or hangs), now ours.
  std::optional<StreamMessage> claim_stale(const std::string& consumer, std::chrono::milliseconds min_idle);
  // Resets a message's idle time while we work on it (the job's heartbeat), so nobody claims it; false when it
  // is no longer ours (another worker took it over), and then it is left alone.
  bool keep_claimed(const std::string& consumer, const std::string& id);
  // The consumer a pending message was last given to ("" when it is not pending).
  std::string owner_of(const std::string& id);
  // How many times the message has been delivered (1 the first time).
  std::int64_t delivery_count(const std::string& id);
  void ack(const std::string& id);
  // Appends to `stream` (this one when empty); returns the new id.
  std::string add(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& stream = "");
  // Messages in `stream` (this one when empty), and the group's pending count (given, not acknowledged).
  std::int64_t length(const std::string& stream = "");
  std::int64_t pending();

  const std::string& stream() const { return url_.stream; }
  std::string dead_letter_stream() const { return url_.stream + ":dead"; }

 private:
  void connect();
  void* command(const std::vector<std::string>& argv);  // redisReply*, freed by the caller; throws on error
  struct PendingEntry {
    std::string consumer;         // "" when the message is not pending
    std::int64_t deliveries = 0;
  };
  PendingEntry pending_entry(const std::string& id);
  QueueUrl url_;
  std::string group_;
  std::string claim_cursor_ = "0-0";
  redisContext* context_ = nullptr;
};

}  // namespace roadveil::service
