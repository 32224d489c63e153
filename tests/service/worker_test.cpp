// `roadveil worker` and `roadveil enqueue` against real servers the tests start on 127.0.0.1: s3rver (npm) for
// the objects and Debian's redis-server for the stream. Upload -> event -> worker -> output with metadata and
// audit record; two workers take each job once; a worker killed with SIGKILL mid-job leaves its message to
// another, which completes it; a corrupt upload ends in the dead-letter stream; a backfill skips what is done.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <signal.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "server_process.hpp"
#include "service_test_util.hpp"
#include "service/object_jobs.hpp"
#include "service/redis_stream.hpp"
#include "service/s3_event.hpp"
#include "storage/s3_client.hpp"
#include "test_util.hpp"

using namespace roadveil::storage;
using namespace roadveil::testing;

namespace {

// The command line of a worker on `queue` writing to s3://out/anon/, with its metrics file.
std::string worker_command(const S3rver& store, const RedisServer& redis, const std::filesystem::path& metrics,
                           const std::string& extra = "") {
  return store.environment() + std::string(ROADVEIL_CLI) + " worker --queue " + redis.url("uploads") +
         " -o s3://out/anon/ --drain --metrics " + quote(metrics) + " --models " + quote(models_dir()) + " " + extra;
}

nlohmann::json metrics_of(const std::filesystem::path& p) { return nlohmann::json::parse(read_text(p)); }

// An event as AWS sends it: the key URL-encoded with '+' for spaces.
void publish(const RedisServer& redis, const std::string& bucket, const std::string& key) {
  const std::string event = roadveil::service::make_s3_event(bucket, key, 1, "");
  const std::string id = redis.cli("XADD uploads '*' event " + quote(event));
  ASSERT_NE(id.find('-'), std::string::npos) << id;  // "1733140000000-0"
}

}  // namespace

TEST(Worker, AnUploadEventBecomesAnAnonymizedObjectWithItsAuditRecord) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  client.upload(face_photo(), parse_s3_url("s3://uploads/cam 1/face.jpg"));
  publish(redis, "uploads", "cam 1/face.jpg");
  publish(redis, "uploads", "cam 1/notes.txt");  // not media: acknowledged, ignored
  // Hidden (an editor's temporary copy): ignored, as a prefix run of anonymize leaves it (review of storage).
  client.upload(face_photo(), parse_s3_url("s3://uploads/cam 1/.face.jpg"));
  publish(redis, "uploads", "cam 1/.face.jpg");
  const auto r = run_command(worker_command(store, redis, dir / "metrics.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"msg\":\"job done\""), std::string::npos) << r.output;

  const auto made = client.head(parse_s3_url("s3://out/anon/cam 1/face.jpg"));
  ASSERT_TRUE(made.has_value()) << r.output;
  EXPECT_EQ(made->metadata.at("roadveil-source"), "s3://uploads/cam%201/face.jpg");
  EXPECT_EQ(made->metadata.at("roadveil-source-etag"), client.head(parse_s3_url("s3://uploads/cam 1/face.jpg"))->etag);
  EXPECT_TRUE(client.head(parse_s3_url("s3://out/anon/cam 1/face.jpg.audit.json")).has_value());
  EXPECT_TRUE(client.head(parse_s3_url("s3://out/anon/cam 1/face.jpg.regions.json")).has_value());
  const auto m = metrics_of(dir / "metrics.json");
  EXPECT_EQ(m["jobs_done"], 1);
  EXPECT_EQ(m["events_ignored"], 2);
  EXPECT_FALSE(client.head(parse_s3_url("s3://out/anon/cam 1/.face.jpg")).has_value());
  EXPECT_NE(r.output.find("\"msg\":\"event ignored\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not an image or video"), std::string::npos) << r.output;
  EXPECT_EQ(m["jobs_failed"], 0);
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");  // everything acknowledged
}

TEST(Worker, TwoWorkersTakeEachJobOnceAndABackfillSkipsWhatIsDone) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  for (int i = 0; i < 6; ++i) client.upload(face_photo(), parse_s3_url("s3://uploads/day/" + std::to_string(i) + ".jpg"));
  auto enqueue = [&] {
    return run_command(store.environment() + std::string(ROADVEIL_CLI) + " enqueue s3://uploads/day/ --queue " +
                       redis.url("uploads") + " -o s3://out/anon/");
  };
  auto r = enqueue();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("6 queued, 0 already anonymized"), std::string::npos) << r.output;
  auto a = std::async(std::launch::async, [&] { return run_command(worker_command(store, redis, dir / "a.json", "--consumer a")); });
  auto b = std::async(std::launch::async, [&] { return run_command(worker_command(store, redis, dir / "b.json", "--consumer b")); });
  const auto ra = a.get(), rb = b.get();
  ASSERT_EQ(ra.exit_code, 0) << ra.output;
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  const auto ma = metrics_of(dir / "a.json"), mb = metrics_of(dir / "b.json");
  EXPECT_EQ(ma["jobs_done"].get<int>() + mb["jobs_done"].get<int>(), 6) << ra.output << rb.output;
  EXPECT_EQ(ma["jobs_skipped"].get<int>() + mb["jobs_skipped"].get<int>(), 0);
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(client.head(parse_s3_url("s3://out/anon/day/" + std::to_string(i) + ".jpg")).has_value()) << i;
  r = enqueue();
  EXPECT_NE(r.output.find("0 queued, 6 already anonymized"), std::string::npos) << r.output;
  // An output that does not say it is whole (made before roadveil-status existed) is made again by its job
  // (run_object_job): the backfill queued it as done, so it was never made again.
  const auto made = client.head(parse_s3_url("s3://out/anon/day/0.jpg"));
  ASSERT_TRUE(made.has_value());
  auto without_status = made->metadata;
  without_status.erase("roadveil-status");
  client.upload(face_photo(), parse_s3_url("s3://out/anon/day/0.jpg"), without_status);
  r = enqueue();
  EXPECT_NE(r.output.find("1 queued, 5 already anonymized"), std::string::npos) << r.output;
}

// SIGKILL mid-job: the message stays pending with the dead worker, no output appears, and a second worker takes
// it over once it has been idle (no heartbeat) for --claim-after, and completes it once.
TEST(Worker, AJobOfAKilledWorkerIsCompletedByAnotherExactlyOnce) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  make_long_street_clip(dir / "long.mp4");
  const std::string frames_in =
      ffprobe("-count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 " + quote(dir / "long.mp4"));
  client.upload(dir / "long.mp4", parse_s3_url("s3://uploads/long.mp4"));
  publish(redis, "uploads", "long.mp4");
  // The worker is killed once it holds the message (the job has started: a full run takes seconds), whatever
  // the machine's speed; its work folder goes under the test's own TMPDIR.
  std::filesystem::create_directories(dir / "tmp");
  BackgroundCommand doomed("env TMPDIR=" + quote(dir / "tmp") + " " +
                               worker_command(store, redis, dir / "killed.json", "--consumer doomed --claim-after 1"),
                           dir / "doomed.log");
  ASSERT_TRUE(eventually([&] { return redis.cli("XPENDING uploads roadveil - + 10").find("doomed") != std::string::npos; }))
      << read_text(dir / "doomed.log");
  doomed.signal(SIGKILL);
  EXPECT_EQ(doomed.wait(), 128 + SIGKILL);
  EXPECT_EQ(read_text(dir / "doomed.log").find("job done"), std::string::npos) << "the job ended before the kill";
  EXPECT_FALSE(client.head(parse_s3_url("s3://out/anon/long.mp4")).has_value()) << "a half-written output appeared";
  EXPECT_NE(redis.cli("XPENDING uploads roadveil - + 10").find("doomed"), std::string::npos);

  const auto r = run_command(worker_command(store, redis, dir / "rescuer.json", "--consumer rescuer --claim-after 1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto m = metrics_of(dir / "rescuer.json");
  EXPECT_EQ(m["jobs_done"], 1) << r.output;
  const auto made = client.head(parse_s3_url("s3://out/anon/long.mp4"));
  ASSERT_TRUE(made.has_value());
  client.download(parse_s3_url("s3://out/anon/long.mp4"), dir / "out.mp4");
  EXPECT_EQ(ffprobe("-count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 " + quote(dir / "out.mp4")), frames_in);
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");
}

// A corrupt upload fails every delivery; after --max-attempts it goes to the dead-letter stream with its error,
// is acknowledged, and no output appears. A message that is not an S3 notification goes there at once.
TEST(Worker, ACorruptUploadEndsInTheDeadLetterStream) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  std::ofstream(dir / "broken.mp4") << "this is no video at all";
  client.upload(dir / "broken.mp4", parse_s3_url("s3://uploads/broken.mp4"));
  publish(redis, "uploads", "broken.mp4");
  ASSERT_EQ(run_command("redis-cli -p " + std::to_string(redis.port()) + " XADD uploads '*' event 'not json'").exit_code, 0);
  const auto r = run_command(worker_command(store, redis, dir / "m.json", "--max-attempts 2 --claim-after 0.3"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("message left pending for a retry"), std::string::npos) << r.output;
  EXPECT_EQ(redis.cli("XLEN uploads:dead"), "2\n") << r.output;
  const std::string dead = redis.cli("XRANGE uploads:dead - +");
  EXPECT_NE(dead.find("broken.mp4"), std::string::npos) << dead;
  EXPECT_NE(dead.find("not an S3 event notification"), std::string::npos) << dead;
  EXPECT_FALSE(client.head(parse_s3_url("s3://out/anon/broken.mp4")).has_value());
  EXPECT_EQ(metrics_of(dir / "m.json")["jobs_dead_lettered"], 2);
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");

  // Regression (review of storage): an upload deleted between its event and its job failed, was retried and
  // was dead-lettered (one deleted during its job was acknowledged). Acknowledged now, as superseded.
  client.upload(face_photo(), parse_s3_url("s3://uploads/gone.jpg"));
  const std::string etag = client.head(parse_s3_url("s3://uploads/gone.jpg"))->etag;
  ASSERT_NE(redis.cli("XADD uploads '*' event " + quote(roadveil::service::make_s3_event("uploads", "gone.jpg", 1, etag))).find('-'),
            std::string::npos);
  client.remove(parse_s3_url("s3://uploads/gone.jpg"));
  const auto gone = run_command(worker_command(store, redis, dir / "m2.json", "--max-attempts 2 --claim-after 0.3"));
  ASSERT_EQ(gone.exit_code, 0) << gone.output;
  EXPECT_NE(gone.output.find("was deleted before it was anonymized"), std::string::npos) << gone.output;
  EXPECT_EQ(gone.output.find("job failed"), std::string::npos) << gone.output;
  EXPECT_EQ(redis.cli("XLEN uploads:dead"), "2\n") << gone.output;
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");
}

// A job that kills its worker (out of memory on a huge video, a crash in a decoder) never reaches the failure
// path: each worker that took the message over ran it again, for ever. Every delivery counts, the ones that
// died included: past --max-attempts the message is dead-lettered without running (before: "job done" here,
// after three deliveries that died).
TEST(Worker, AMessageWhoseWorkersKeepDyingIsDeadLetteredWithoutRunningAgain) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  client.upload(face_photo(), parse_s3_url("s3://uploads/face.jpg"));
  publish(redis, "uploads", "face.jpg");
  // Taken by a worker that died, three times over (its delivery count as three crashed workers left it).
  redis.cli("XGROUP CREATE uploads roadveil 0");
  redis.cli("XREADGROUP GROUP roadveil doomed COUNT 1 STREAMS uploads '>'");
  const std::string pending = redis.cli("XPENDING uploads roadveil - + 1");
  const std::string id = pending.substr(0, pending.find('\n'));
  ASSERT_FALSE(id.empty()) << pending;
  redis.cli("XCLAIM uploads roadveil doomed 0 " + id + " RETRYCOUNT 3");
  const auto r = run_command(worker_command(store, redis, dir / "m.json", "--max-attempts 3 --claim-after 0.2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("job done"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("job failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stopped without finishing"), std::string::npos) << r.output;
  EXPECT_FALSE(client.head(parse_s3_url("s3://out/anon/face.jpg")).has_value());
  EXPECT_EQ(redis.cli("XLEN uploads:dead"), "1\n") << r.output;
  EXPECT_NE(redis.cli("XRANGE uploads:dead - +").find("face.jpg"), std::string::npos);
  EXPECT_EQ(metrics_of(dir / "m.json")["jobs_dead_lettered"], 1);
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");
}

// A video in a container roadveil cannot write (.vob, .ogv, ...) is written as Matroska under the same name,
// by the worker and by a prefix run, as by a folder run: its output key kept the input's extension, and every
// attempt failed ("the svcd container cannot hold h264") until the message was dead-lettered.
TEST(Worker, AVideoInAContainerRoadveilCannotWriteBecomesMatroska) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25 -t 1 -c:v mpeg2video -f vob " + quote(dir / "cam.vob"));
  client.upload(dir / "cam.vob", parse_s3_url("s3://uploads/day 1/cam.vob"));
  publish(redis, "uploads", "day 1/cam.vob");
  const auto r = run_command(worker_command(store, redis, dir / "m.json", "--no-faces --no-plates"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(metrics_of(dir / "m.json")["jobs_done"], 1) << r.output;
  ASSERT_TRUE(client.head(parse_s3_url("s3://out/anon/day 1/cam.mkv")).has_value()) << r.output;
  EXPECT_TRUE(client.head(parse_s3_url("s3://out/anon/day 1/cam.mkv.audit.json")).has_value());
  client.download(parse_s3_url("s3://out/anon/day 1/cam.mkv"), dir / "out.mkv");
  EXPECT_EQ(ffprobe("-select_streams v -show_entries stream=codec_name -of csv=p=0 " + quote(dir / "out.mkv")), "h264\n");
  // A prefix run names it so too.
  const auto prefix = run_command(store.environment() + std::string(ROADVEIL_CLI) + " anonymize -q --no-faces --no-plates "
                                  "s3://uploads/ -o s3://out/prefix/ --models " + quote(models_dir()));
  ASSERT_EQ(prefix.exit_code, 0) << prefix.output;
  EXPECT_TRUE(client.head(parse_s3_url("s3://out/prefix/day 1/cam.mkv")).has_value()) << prefix.output;
  EXPECT_EQ(roadveil::service::writable_output_name("a.b/clip.OGV"), "a.b/clip.mkv");
  EXPECT_EQ(roadveil::service::writable_output_name("a.vob/clip.mp4"), "a.vob/clip.mp4");

  // Regression (review of storage): an upload day 1/cam.mkv beside day 1/cam.vob has the same output name. The
  // worker's two jobs replaced each other's output, and every backfill queued the other again. The first output
  // stays; the other job fails saying why, and the backfill does not queue it.
  const std::string made = client.head(parse_s3_url("s3://out/anon/day 1/cam.mkv"))->etag;
  ffmpeg_make("-f lavfi -i testsrc=size=320x240:rate=25 -t 1 -c:v libx264 " + quote(dir / "cam.mkv"));
  client.upload(dir / "cam.mkv", parse_s3_url("s3://uploads/day 1/cam.mkv"));
  publish(redis, "uploads", "day 1/cam.mkv");
  const auto second = run_command(worker_command(store, redis, dir / "m2.json", "--no-faces --no-plates --max-attempts 1"));
  EXPECT_NE(second.output.find("is the anonymized output of s3://uploads/day%201/cam.vob; the output of s3://uploads/day 1/cam.mkv would replace it"),
            std::string::npos) << second.output;
  EXPECT_EQ(client.head(parse_s3_url("s3://out/anon/day 1/cam.mkv"))->etag, made);
  const auto backfill = run_command(store.environment() + std::string(ROADVEIL_CLI) + " enqueue s3://uploads/ --queue " +
                                    redis.url("uploads") + " -o s3://out/anon/");
  EXPECT_EQ(backfill.exit_code, 1) << backfill.output;
  EXPECT_NE(backfill.output.find("0 queued, 1 already anonymized, 1 not queued (output names taken)"), std::string::npos) << backfill.output;
  // Once cam.vob is deleted its output is no one's: cam.mkv's job replaces it (review of the day's diff: it failed
  // for good).
  client.remove(parse_s3_url("s3://uploads/day 1/cam.vob"));
  redis.cli("DEL uploads");
  const auto after = run_command(store.environment() + std::string(ROADVEIL_CLI) + " enqueue s3://uploads/ --queue " +
                                 redis.url("uploads") + " -o s3://out/anon/");
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_NE(after.output.find("1 queued"), std::string::npos) << after.output;
  const auto third = run_command(worker_command(store, redis, dir / "m3.json", "--no-faces --no-plates --max-attempts 1"));
  EXPECT_EQ(third.exit_code, 0) << third.output;
  EXPECT_EQ(client.head(parse_s3_url("s3://out/anon/day 1/cam.mkv"))->metadata.at("roadveil-source"), "s3://uploads/day%201/cam.mkv");
}

// A queue behind a password (redis://:PASSWORD@HOST:PORT/STREAM, or REDISCLI_AUTH): the password was taken as
// part of the host name, never sent, and printed in the error. And Redis restarting under a running worker
// ended the worker (exit 1, "XREADGROUP failed (Server closed the connection)"): it now connects again and
// serves what comes after.
TEST(Worker, AQueueBehindAPasswordIsServedAcrossARestartOfRedis) {
  S3rver store({"uploads", "out"});
  RedisServer redis("s3cret pass");
  S3Client client(config_for(store));
  TempDir dir;
  const std::string queue = "redis://:s3cret%20pass@127.0.0.1:" + std::to_string(redis.port()) + "/uploads";
  // A wrong password: one clear message, without the password.
  const auto wrong = run_command(store.environment() + std::string(ROADVEIL_CLI) + " worker --queue redis://:n0tit@127.0.0.1:" +
                                 std::to_string(redis.port()) + "/uploads -o s3://out/anon/ --drain --models " + quote(models_dir()));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("redis://127.0.0.1:" + std::to_string(redis.port()) + "/uploads: authentication failed"),
            std::string::npos) << wrong.output;
  EXPECT_EQ(wrong.output.find("n0tit"), std::string::npos) << wrong.output;

  client.upload(face_photo(), parse_s3_url("s3://uploads/a.jpg"));
  client.upload(face_photo(), parse_s3_url("s3://uploads/b.jpg"));
  BackgroundCommand worker("env " + store.environment() + std::string(ROADVEIL_CLI) + " worker --queue " + quote(queue) +
                               " -o s3://out/anon/ --metrics " + quote(dir / "m.json") + " --models " + quote(models_dir()),
                           dir / "worker.log");
  publish(redis, "uploads", "a.jpg");
  ASSERT_TRUE(eventually([&] { return client.head(parse_s3_url("s3://out/anon/a.jpg")).has_value(); }, std::chrono::seconds(60)))
      << read_text(dir / "worker.log");
  redis.restart();
  publish(redis, "uploads", "b.jpg");
  ASSERT_TRUE(eventually([&] { return client.head(parse_s3_url("s3://out/anon/b.jpg")).has_value(); }, std::chrono::seconds(60)))
      << read_text(dir / "worker.log");
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(), 0) << read_text(dir / "worker.log");
  const std::string log = read_text(dir / "worker.log");
  EXPECT_NE(log.find("queue unreachable: connecting again"), std::string::npos) << log;
  EXPECT_NE(log.find("queue reachable again"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
  EXPECT_EQ(read_text(dir / "m.json").find("s3cret"), std::string::npos);
  EXPECT_EQ(metrics_of(dir / "m.json")["jobs_done"], 2);
}

TEST(QueueUrl, PasswordsPortsAndHostsAreReadAndNeverShown) {
  using roadveil::service::parse_queue_url;
  auto u = parse_queue_url("redis://127.0.0.1:6380/uploads");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.stream, "uploads");
  EXPECT_EQ(u.username, "");
  u = parse_queue_url("redis://:p%40ss:word@queue.internal/jobs");
  EXPECT_EQ(u.host, "queue.internal");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.password, "p@ss:word");
  EXPECT_EQ(u.text(), "redis://queue.internal:6379/jobs");
  u = parse_queue_url("redis://worker:pw@[::1]:7000/s");
  EXPECT_EQ(u.username, "worker");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.text(), "redis://[::1]:7000/s");
  for (const char* bad : {"redis://:hunter2@host:99999/s", "redis://:hunter2@host", "rediss://:hunter2@host/s", "http://:hunter2@host/s"}) {
    try {
      parse_queue_url(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const roadveil::Error& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("***@host"), std::string::npos) << e.what();
    }
  }
}

TEST(S3Event, ParsesAwsRecordsAndRoundTripsKeys) {
  const auto events = roadveil::service::parse_s3_event(
      R"({"Records":[{"eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"uploads"},)"
      R"("object":{"key":"cam+1/caf%C3%A9+%2B1.mp4","size":42,"eTag":"\"abc\""}}}]})");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bucket, "uploads");
  EXPECT_EQ(events[0].key, "cam 1/caf\xC3\xA9 +1.mp4");
  EXPECT_EQ(events[0].size, 42);
  EXPECT_EQ(events[0].etag, "abc");
  EXPECT_TRUE(events[0].created());
  const auto back = roadveil::service::parse_s3_event(roadveil::service::make_s3_event("b", events[0].key, 1, "e"));
  EXPECT_EQ(back[0].key, events[0].key);
  EXPECT_THROW(roadveil::service::parse_s3_event("{\"Records\":[{\"s3\":{}}]}"), roadveil::Error);
  EXPECT_THROW(roadveil::service::parse_s3_event("[]"), roadveil::Error);
}

// SIGTERM (Kubernetes, systemd, Slurm) mid-job: the worker takes no more work, finishes and acknowledges the
// job it has, and exits 0; the second message stays queued for the next worker.
TEST(Worker, SigtermFinishesTheCurrentJobAndExitsZero) {
  S3rver store({"uploads", "out"});
  RedisServer redis;
  S3Client client(config_for(store));
  TempDir dir;
  make_long_street_clip(dir / "long.mp4");
  client.upload(dir / "long.mp4", parse_s3_url("s3://uploads/long.mp4"));
  client.upload(face_photo(), parse_s3_url("s3://uploads/later.jpg"));
  publish(redis, "uploads", "long.mp4");
  publish(redis, "uploads", "later.jpg");
  // Without --drain the worker would wait for more forever; SIGTERM once it holds long.mp4 (a job of seconds).
  std::string command = worker_command(store, redis, dir / "m.json", "--consumer busy");
  command.replace(command.find(" --drain"), 8, "");
  BackgroundCommand worker("env " + command, dir / "worker.log");
  ASSERT_TRUE(eventually([&] { return redis.cli("XPENDING uploads roadveil - + 10").find("busy") != std::string::npos; }))
      << read_text(dir / "worker.log");
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(), 0) << read_text(dir / "worker.log");
  const std::string log = read_text(dir / "worker.log");
  EXPECT_NE(log.find("\"msg\":\"job done\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"worker stopped\""), std::string::npos) << log;
  EXPECT_TRUE(client.head(parse_s3_url("s3://out/anon/long.mp4")).has_value());
  EXPECT_FALSE(client.head(parse_s3_url("s3://out/anon/later.jpg")).has_value());
  EXPECT_EQ(redis.cli("XPENDING uploads roadveil").substr(0, 2), "0\n");
  EXPECT_EQ(metrics_of(dir / "m.json")["jobs_done"], 1);
}
