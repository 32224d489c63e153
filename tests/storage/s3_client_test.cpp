// The S3 client against a real S3-compatible server (s3rver: it knows one access key id, S3RVER, and does not
// verify SigV4 signatures, which tests/storage/aws_sigv4_test.cpp checks against AWS's examples and botocore) and against a cpp-httplib server that answers with the failures real stores give (503 SlowDown,
// a 400, silence), each started by the test on 127.0.0.1 and stopped at its end.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "server_process.hpp"
#include "storage/s3_byte_source.hpp"
#include "storage/s3_client.hpp"
#include "test_util.hpp"

using namespace roadveil::storage;
using namespace roadveil::testing;

namespace {

S3Config config_for(const std::string& endpoint, const std::string& key_id = "S3RVER") {
  S3Config c;
  c.credentials = {key_id, "secret-value-never-shown", "token-never-shown"};
  c.region = "us-east-1";
  c.endpoint = endpoint;
  c.path_style = true;
  c.credentials_from = "the test";
  return c;
}

RetryPolicy quick_retries(int attempts = 4) { return {attempts, std::chrono::milliseconds(1), std::chrono::milliseconds(5)}; }

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A cpp-httplib server on a free port whose handlers the test sets; stopped on destruction.
class FakeStore {
 public:
  FakeStore() : port_(free_port()) {}
  httplib::Server& server() { return server_; }
  void start() {
    if (!server_.bind_to_port("127.0.0.1", port_)) throw std::runtime_error("cannot listen on a free port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeStore() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_;
  std::thread thread_;
};

}  // namespace

TEST(S3Client, WritesReadsListsAndDeletesOnARealServer) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint()), quick_retries());
  TempDir dir;
  const std::string bytes = random_bytes(300000, 1);
  write_file(dir / "a.mp4", bytes);
  const S3Url object = parse_s3_url("s3://clips/drive 1/a b+c.mp4");  // spaces and '+' must survive encoding
  client.upload(dir / "a.mp4", object, {{"roadveil-version", "1.2"}, {"source-etag", "abc"}}, "video/mp4");

  const auto info = client.head(object);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, 300000);
  EXPECT_FALSE(info->etag.empty());
  EXPECT_EQ(info->metadata.at("roadveil-version"), "1.2");
  EXPECT_EQ(info->metadata.at("source-etag"), "abc");

  client.download(object, dir / "back.mp4");
  EXPECT_EQ(read_text(dir / "back.mp4"), bytes);
  EXPECT_EQ(client.read_range(object, 1000, 24), bytes.substr(1000, 24));
  EXPECT_EQ(client.read_range(object, 299990, 100), bytes.substr(299990));  // the end is shorter
  EXPECT_EQ(client.read_range(object, 300000, 10), "");

  EXPECT_FALSE(client.head(parse_s3_url("s3://clips/drive 1/none.mp4")).has_value());
  client.remove(object);
  EXPECT_FALSE(client.head(object).has_value());
  client.remove(object);  // deleting what is not there is no error
}

TEST(S3Client, ListsEveryPageOfAPrefixInKeyOrder) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint()), quick_retries());
  client.list_page_size = 2;
  TempDir dir;
  write_file(dir / "x", "x");
  for (const char* key : {"in/c.mp4", "in/a.jpg", "in/sub/b.mov", "in/d.mkv", "in/e.png", "other/f.mp4"})
    client.upload(dir / "x", parse_s3_url(std::string("s3://clips/") + key));
  const auto objects = client.list(parse_s3_url("s3://clips/in/"));
  std::vector<std::string> keys;
  for (const auto& o : objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"in/a.jpg", "in/c.mp4", "in/d.mkv", "in/e.png", "in/sub/b.mov"}));
  EXPECT_EQ(objects[0].size, 1);
  EXPECT_EQ(client.list(parse_s3_url("s3://clips/")).size(), 6u);
}

// Larger than a part: a multipart upload, completed last. Memory holds one part.
TEST(S3Client, LargeFilesGoUpInPartsAndComeBackWhole) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint()), quick_retries());
  client.part_size = 5 << 20;  // S3's minimum
  TempDir dir;
  const std::string bytes = random_bytes((11 << 20) + 12345, 2);
  write_file(dir / "big.mp4", bytes);
  const S3Url object = parse_s3_url("s3://clips/big.mp4");
  client.upload(dir / "big.mp4", object, {{"k", "v"}});
  const auto info = client.head(object);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, static_cast<std::int64_t>(bytes.size()));
  EXPECT_EQ(info->metadata.at("k"), "v");
  client.download(object, dir / "back.mp4");
  EXPECT_TRUE(read_text(dir / "back.mp4") == bytes);
}

// An access key the store does not know is refused; the error names the object and the key's source, never
// the secret or the session token.
TEST(S3Client, AccessDeniedNamesTheObjectAndNeverTheSecret) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint(), "AKIAUNKNOWN"), quick_retries());
  TempDir dir;
  write_file(dir / "x", "x");
  try {
    client.upload(dir / "x", parse_s3_url("s3://clips/a.mp4"));
    FAIL() << "an unknown access key was accepted";
  } catch (const S3Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.status, 403);
    EXPECT_NE(m.find("s3://clips/a.mp4: writing failed: access denied (HTTP 403 InvalidAccessKeyId"), std::string::npos) << m;
    EXPECT_NE(m.find("with the credentials from the test"), std::string::npos) << m;
    for (const char* secret : {"secret-value-never-shown", "token-never-shown", "Signature="})
      EXPECT_EQ(m.find(secret), std::string::npos) << m;
  }
}

TEST(S3Client, MissingBucketAndObjectAreNamed) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint()), quick_retries());
  TempDir dir;
  try {
    client.download(parse_s3_url("s3://clips/nope.mp4"), dir / "x");
    FAIL();
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status, 404);
    EXPECT_NE(std::string(e.what()).find("s3://clips/nope.mp4: reading failed: no such object"), std::string::npos) << e.what();
  }
  try {
    client.list(parse_s3_url("s3://nobucket/in/"));
    FAIL();
  } catch (const S3Error& e) {
    EXPECT_NE(std::string(e.what()).find("there is no bucket 'nobucket' at " + store.endpoint()), std::string::npos) << e.what();
  }
}

// Throttling and server errors are retried until they pass; a client error is not retried.
TEST(S3Client, RetriesThrottlingAndServerErrorsOnly) {
  FakeStore fake;
  std::atomic<int> puts{0}, gets{0}, deletes{0};
  fake.server().Put("/clips/a.mp4", [&](const httplib::Request&, httplib::Response& res) {
    if (++puts <= 2) {
      res.status = 503;
      res.set_content("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", "application/xml");
      return;
    }
    res.set_header("ETag", "\"e1\"");
  });
  fake.server().Get("/clips/a.mp4", [&](const httplib::Request&, httplib::Response& res) {
    ++gets;
    res.status = 400;
    res.set_content("<Error><Code>InvalidArgument</Code><Message>bad range</Message></Error>", "application/xml");
  });
  fake.server().Delete("/clips/a.mp4", [&](const httplib::Request&, httplib::Response& res) {
    ++deletes;
    res.status = 500;
    res.set_content("<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>", "application/xml");
  });
  fake.start();
  S3Client client(config_for(fake.endpoint()), quick_retries(4));
  TempDir dir;
  write_file(dir / "x", "x");
  client.upload(dir / "x", parse_s3_url("s3://clips/a.mp4"));
  EXPECT_EQ(puts.load(), 3);

  EXPECT_THROW(client.download(parse_s3_url("s3://clips/a.mp4"), dir / "y"), S3Error);
  EXPECT_EQ(gets.load(), 1);

  try {
    client.remove(parse_s3_url("s3://clips/a.mp4"));
    FAIL();
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status, 500);
    EXPECT_NE(std::string(e.what()).find("s3://clips/a.mp4: deleting failed: HTTP 500 InternalError"), std::string::npos) << e.what();
  }
  EXPECT_EQ(deletes.load(), 4);
}

// A multipart upload that fails part-way is aborted: the object never appears half-written.
TEST(S3Client, AFailedMultipartUploadIsAbortedAndNothingAppears) {
  FakeStore fake;
  std::atomic<int> parts{0}, aborts{0}, completes{0};
  fake.server().Post("/clips/big.mp4", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("uploads")) {
      res.set_content("<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>", "application/xml");
    } else {
      ++completes;
    }
  });
  fake.server().Put("/clips/big.mp4", [&](const httplib::Request& req, httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("uploadId"), "U1");
    if (++parts >= 2) {
      res.status = 403;
      res.set_content("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", "application/xml");
      return;
    }
    res.set_header("ETag", "\"p1\"");
  });
  fake.server().Delete("/clips/big.mp4", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("uploadId") == "U1") ++aborts;
    res.status = 204;
  });
  fake.start();
  S3Client client(config_for(fake.endpoint()), quick_retries());
  client.part_size = 1 << 20;
  TempDir dir;
  write_file(dir / "big", random_bytes(3 << 20, 3));
  EXPECT_THROW(client.upload(dir / "big", parse_s3_url("s3://clips/big.mp4")), S3Error);
  EXPECT_EQ(parts.load(), 2);
  EXPECT_EQ(completes.load(), 0);
  EXPECT_EQ(aborts.load(), 1);
}

TEST(S3Client, NoServerIsAClearErrorAfterTheRetries) {
  const int port = free_port();
  S3Client client(config_for("http://127.0.0.1:" + std::to_string(port)), quick_retries(2));
  try {
    client.head(parse_s3_url("s3://clips/a.mp4"));
    FAIL();
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status, 0);
    EXPECT_NE(std::string(e.what()).find("s3://clips/a.mp4: reading failed: no answer from http://127.0.0.1:" + std::to_string(port)),
              std::string::npos) << e.what();
  }
}

// Regression (review of storage): an endpoint that takes connections and never answers (a port of something
// else) was tried six times for a minute each: every request took six minutes to fail. Twice silent, it fails.
TEST(S3Client, AnEndpointThatNeverAnswersFailsAfterTwoSilences) {
  const int port = free_port();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);  // the kernel takes the connections; nobody reads or answers
  RetryPolicy retry = quick_retries(6);
  retry.stall_seconds = 1;
  S3Client client(config_for("http://127.0.0.1:" + std::to_string(port)), retry);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.head(parse_s3_url("s3://clips/a.mp4"));
    FAIL();
  } catch (const S3Error& e) {
    EXPECT_NE(std::string(e.what()).find("twice, not a byte back: is this an S3 endpoint?"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "two tries of 1 s, not six";
  ::close(listener);
}

// A video decoded twice reads its object through a second source of its own (another thread, another
// client), pinned to the version the first reads: the same bytes, or a clear error where the object was
// replaced in between (never the other version's frames).
TEST(S3ByteSource, ReopensTheSameVersionOrSaysTheObjectChanged) {
  S3rver store({"clips"});
  S3Client client(config_for(store.endpoint()), quick_retries());
  TempDir dir;
  const std::string bytes = random_bytes(200000, 2);
  write_file(dir / "a.mp4", bytes);
  const S3Url object = parse_s3_url("s3://clips/a.mp4");
  client.upload(dir / "a.mp4", object);
  S3ByteSource first(config_for(store.endpoint()), object);
  const auto second = first.reopen();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->size(), 200000);
  EXPECT_EQ(second->name(), "s3://clips/a.mp4");
  EXPECT_EQ(second->read(5000, 100), bytes.substr(5000, 100));
  EXPECT_EQ(dynamic_cast<const S3ByteSource&>(*second).etag(), first.etag());
  write_file(dir / "a.mp4", random_bytes(200000, 3));
  client.upload(dir / "a.mp4", object);
  try {
    first.reopen();
    ADD_FAILURE() << "reopened a replaced object";
  } catch (const S3Error& e) {
    EXPECT_NE(std::string(e.what()).find("s3://clips/a.mp4: the object changed while it was read (ETag " + first.etag()),
              std::string::npos) << e.what();
  }
}

// The second reader's ranged reads are pinned too (If-Match: s3rver ignores it, so a store that honours it,
// as S3 does, is played by the test): once the object is replaced, its next read fails with 412 instead of
// reading the other version.
TEST(S3ByteSource, TheSecondReadersRangedReadsArePinnedToTheFirstsVersion) {
  FakeStore store;
  std::atomic<bool> replaced{false};
  store.server().Get("/clips/a.mp4", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string etag = replaced ? "\"v2\"" : "\"v1\"";
    res.set_header("ETag", etag);
    if (req.has_header("If-Match") && req.get_header_value("If-Match") != etag) {
      res.status = 412;
      res.set_content("<Error><Code>PreconditionFailed</Code></Error>", "application/xml");
      return;
    }
    res.set_content(std::string(1000, replaced ? 'b' : 'a'), "video/mp4");
  });
  store.start();
  S3ByteSource first(config_for(store.endpoint()), parse_s3_url("s3://clips/a.mp4"));
  const auto second = first.reopen();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->read(0, 4).size(), 4u);
  replaced = true;
  try {
    second->read(0, 4);
    ADD_FAILURE() << "read the other version";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status, 412) << e.what();
  }
}

// A store that gives no ETag cannot pin a version: no second reader (the video is decoded once, with a
// warning) rather than detection on one version and rendering on another.
TEST(S3ByteSource, AStoreWithoutETagsGivesNoSecondReader) {
  FakeStore store;
  // cpp-httplib answers HEAD with a GET handler's headers, without its body.
  store.server().Get("/clips/a.mp4", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(1000, 'x'), "video/mp4");
  });
  store.start();
  S3ByteSource source(config_for(store.endpoint()), parse_s3_url("s3://clips/a.mp4"));
  EXPECT_TRUE(source.etag().empty());
  EXPECT_EQ(source.reopen(), nullptr);
}
