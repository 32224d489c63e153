#include "service/redis_stream.hpp"

#include <cerrno>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "core/error.hpp"
#include "storage/aws_sigv4.hpp"

namespace roadveil::service {

namespace {

constexpr int kReplySeconds = 60;  // the longest any reply may take, besides a read's own blocking time

struct ReplyDeleter {
  void operator()(void* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string text_of(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
             ? std::string(r->str, r->len)
             : std::string();
}

// One stream entry: [id, [field, value, field, value...]].
std::optional<StreamMessage> entry_of(const redisReply* e) {
  if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[1]->type != REDIS_REPLY_ARRAY) return std::nullopt;
  StreamMessage m;
  m.id = text_of(e->element[0]);
  const redisReply* f = e->element[1];
  for (std::size_t i = 0; i + 1 < f->elements; i += 2) m.fields.emplace_back(text_of(f->element[i]), text_of(f->element[i + 1]));
  return m;
}

}  // namespace

std::string StreamMessage::field(const std::string& name) const {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return "";
}

std::string QueueUrl::text() const {
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("redis://{}:{}/{}", shown_host, port, stream);
}


QueueUrl parse_queue_url(const std::string& text) {
  const std::string prefix = "redis://";
  // Errors name the address as given, but never its password.
  std::string shown = text;
  const std::size_t scheme_end = text.find("://");
  const std::size_t authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::size_t authority_end = std::min(text.find('/', authority_start), text.size());
  if (const std::size_t at = text.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
      at != std::string::npos && at >= authority_start && at < authority_end)
    shown = text.substr(0, authority_start) + "***@" + text.substr(at + 1);
  if (text.starts_with("rediss://"))
    throw Error(shown + ": TLS (rediss://) is not supported: reach Redis on a private network or through a TLS tunnel "
                        "(stunnel, spiped) as redis://");
  if (!text.starts_with(prefix)) throw Error(shown + ": a queue is redis://HOST:PORT/STREAM");
  const std::string rest = text.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 >= rest.size()) throw Error(shown + ": no stream name (redis://HOST:PORT/STREAM)");
  QueueUrl url;
  std::string host_port = rest.substr(0, slash);
  url.stream = rest.substr(slash + 1);
  if (const auto at = host_port.rfind('@'); at != std::string::npos) {
    const std::string user_info = host_port.substr(0, at);
    host_port = host_port.substr(at + 1);
    const auto colon = user_info.find(':');
    url.username = storage::uri_decode(user_info.substr(0, colon), false);  // '@' and ':' written %40, %3A
    if (colon != std::string::npos) url.password = storage::uri_decode(user_info.substr(colon + 1), false);
  }
  if (url.password.empty())
    if (const char* from_environment = std::getenv("REDISCLI_AUTH")) url.password = from_environment;
  if (host_port.starts_with("[")) {  // an IPv6 address: [::1]:6379
    const auto close = host_port.find(']');
    if (close == std::string::npos) throw Error(shown + ": an IPv6 host is written in brackets: redis://[::1]:6379/STREAM");
    const std::string after = host_port.substr(close + 1);
    url.host = host_port.substr(1, close - 1);
    host_port = after.empty() ? "" : "x" + after;  // only the port is left to read
  }
  if (const auto colon = host_port.rfind(':'); colon != std::string::npos) {
    try {
      std::size_t used = 0;
      url.port = std::stoi(host_port.substr(colon + 1), &used);
      if (used != host_port.size() - colon - 1 || url.port <= 0 || url.port > 65535) throw Error("");
    } catch (...) {
      throw Error(shown + ": the port is not a number from 1 to 65535");
    }
    host_port.resize(colon);
  }
  if (url.host.empty()) url.host = host_port;
  if (url.host.empty()) throw Error(shown + ": no host (redis://HOST:PORT/STREAM)");
  return url;
}

RedisStream::RedisStream(const QueueUrl& url, std::string group) : url_(url), group_(std::move(group)) { connect(); }

void RedisStream::connect() {
  if (context_) redisFree(context_);
  const timeval timeout{5, 0};
  context_ = redisConnectWithTimeout(url_.host.c_str(), url_.port, timeout);
  if (!context_ || context_->err) {
    const std::string why = context_ ? context_->errstr : "out of memory";
    if (context_) redisFree(context_);
    context_ = nullptr;
    throw QueueUnavailable(fmt::format("{}: cannot connect ({})", url_.text(), why));
  }
  // A Redis that vanishes without closing the connection (a host that died, a network cut, a failover) would
  // leave a blocked read waiting for ever while the worker looks alive: TCP keepalive finds a dead peer, and
  // no reply may take longer than a read's own blocking time plus this (read_new sets it per call).
  redisEnableKeepAlive(context_);
  const timeval reply_limit{kReplySeconds, 0};
  redisSetTimeout(context_, reply_limit);
  if (!url_.password.empty()) {
    std::vector<const char*> args = {"AUTH"};
    std::vector<size_t> lengths = {4};
    if (!url_.username.empty()) {
      args.push_back(url_.username.data());
      lengths.push_back(url_.username.size());
    }
    args.push_back(url_.password.data());
    lengths.push_back(url_.password.size());
    Reply r(static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data())));
    if (!r || r->type == REDIS_REPLY_ERROR) {
      // Redis's answer ("WRONGPASS invalid username-password pair") never holds the password.
      const std::string why = r ? text_of(r.get()) : (context_->err ? context_->errstr : "no reply");
      redisFree(context_);
      context_ = nullptr;
      throw Error(fmt::format("{}: authentication failed ({})", url_.text(), why));
    }
  }
}

void RedisStream::reconnect() { connect(); }

RedisStream::~RedisStream() {
  if (context_) redisFree(context_);
}

void* RedisStream::command(const std::vector<std::string>& argv) {
  if (!context_) throw QueueUnavailable(fmt::format("{}: {} failed (not connected)", url_.text(), argv[0]));
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data()));
  if (!reply) {
    // hiredis's context is unusable after an I/O error, an end of file or a timeout: connect again. A timeout
    // shows as EAGAIN's text ("Resource temporarily unavailable"), which says nothing of what happened.
    std::string why = context_->err ? context_->errstr : "no reply";
    if (context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || why == "Resource temporarily unavailable"))
      why = "no reply in time: is it a Redis server?";
    throw QueueUnavailable(fmt::format("{}: {} failed ({})", url_.text(), argv[0], why));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string why = text_of(reply);
    freeReplyObject(reply);
    // A Redis loading its data after a restart, a replica during a failover, a cluster moving slots: the queue
    // is there again shortly, as after a lost connection.
    for (const char* passing : {"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "BUSY "})
      if (why.starts_with(passing)) throw QueueUnavailable(fmt::format("{}: {}: {}", url_.text(), argv[0], why));
    throw Error(fmt::format("{}: {}: {}", url_.text(), argv[0], why));
  }
  return reply;
}

void RedisStream::ensure_group() {
  try {
    Reply r(static_cast<redisReply*>(command({"XGROUP", "CREATE", url_.stream, group_, "0", "MKSTREAM"})));
  } catch (const Error& e) {
    if (std::string(e.what()).find("BUSYGROUP") == std::string::npos) throw;
  }
}

std::optional<StreamMessage> RedisStream::read_new(const std::string& consumer, std::chrono::milliseconds block) {
  const timeval reply_limit{static_cast<time_t>(kReplySeconds + block.count() / 1000), 0};
  if (context_) redisSetTimeout(context_, reply_limit);
  Reply r(static_cast<redisReply*>(command({"XREADGROUP", "GROUP", group_, consumer, "COUNT", "1", "BLOCK",
                                            std::to_string(block.count()), "STREAMS", url_.stream, ">"})));
  // [[stream, [entry...]]] or nil on timeout
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) return std::nullopt;
  const redisReply* s = r->element[0];
  if (s->type != REDIS_REPLY_ARRAY || s->elements < 2 || s->element[1]->elements == 0) return std::nullopt;
  return entry_of(s->element[1]->element[0]);
}

std::optional<StreamMessage> RedisStream::claim_stale(const std::string& consumer, std::chrono::milliseconds min_idle) {
  // The scan goes on from where the last one stopped (Redis looks at a limited number of pending entries per
  // call: always starting at 0-0, old entries of live workers could hide a dead worker's message behind them).
  Reply r(static_cast<redisReply*>(command(
      {"XAUTOCLAIM", url_.stream, group_, consumer, std::to_string(min_idle.count()), claim_cursor_, "COUNT", "1"})));
  // [next-start, [entry...], (Redis 7) [deleted ids]]
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return std::nullopt;
  claim_cursor_ = text_of(r->element[0]);
  if (claim_cursor_.empty()) claim_cursor_ = "0-0";
  const redisReply* entries = r->element[1];
  for (std::size_t i = 0; i < entries->elements; ++i)
    if (auto m = entry_of(entries->element[i])) return m;  // entries deleted from the stream come back as nil
  return std::nullopt;
}

bool RedisStream::keep_claimed(const std::string& consumer, const std::string& id) {
  // Only while it is still ours: if another worker took it over (this one stalled past the claim time),
  // claiming it back would have both run the job, trading the message between them.
  if (owner_of(id) != consumer) return false;
  Reply r(static_cast<redisReply*>(command({"XCLAIM", url_.stream, group_, consumer, "0", id, "JUSTID"})));
  return r->type == REDIS_REPLY_ARRAY && r->elements > 0;
}

RedisStream::PendingEntry RedisStream::pending_entry(const std::string& id) {
  Reply r(static_cast<redisReply*>(command({"XPENDING", url_.stream, group_, id, id, "1"})));
  // [[id, consumer, idle ms, deliveries]]; empty when the message is not pending
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->element[0]->type != REDIS_REPLY_ARRAY ||
      r->element[0]->elements < 4)
    return {};
  return {text_of(r->element[0]->element[1]), r->element[0]->element[3]->integer};
}

std::string RedisStream::owner_of(const std::string& id) { return pending_entry(id).consumer; }

std::int64_t RedisStream::delivery_count(const std::string& id) { return pending_entry(id).deliveries; }

void RedisStream::ack(const std::string& id) {
  Reply r(static_cast<redisReply*>(command({"XACK", url_.stream, group_, id})));
}

std::string RedisStream::add(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& stream) {
  std::vector<std::string> argv = {"XADD", stream.empty() ? url_.stream : stream, "*"};
  for (const auto& [k, v] : fields) {
    argv.push_back(k);
    argv.push_back(v);
  }
  Reply r(static_cast<redisReply*>(command(argv)));
  return text_of(r.get());
}

std::int64_t RedisStream::length(const std::string& stream) {
  Reply r(static_cast<redisReply*>(command({"XLEN", stream.empty() ? url_.stream : stream})));
  return r->integer;
}

std::int64_t RedisStream::pending() {
  Reply r(static_cast<redisReply*>(command({"XPENDING", url_.stream, group_})));
  return r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? r->element[0]->integer : 0;
}

}  // namespace roadveil::service
