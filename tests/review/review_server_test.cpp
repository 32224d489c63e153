// Which requests reach the review's API: only its own page's. A web page elsewhere could otherwise send an
// edit to 127.0.0.1 as a "simple" cross-site POST (text/plain: no preflight), or, resolving its own name to
// 127.0.0.1 (DNS rebinding), read the unredacted frames. The end-to-end check with curl-like requests against
// the running server is in tests/browser/review.test.mjs.
#include <gtest/gtest.h>

#include "review/review_server.hpp"

namespace roadveil::review {
namespace {

TEST(ReviewServerRequests, OnlyThePagesOwnRequestsGetThrough) {
  const auto page_read = [](std::string host) { return RequestOrigin{std::move(host), "", "", false}; };
  const auto page_edit = [](std::string host, std::string origin, std::string type = "application/json") {
    return RequestOrigin{std::move(host), std::move(origin), std::move(type), true};
  };
  // The page, however the loopback address is named, at the bound port.
  EXPECT_FALSE(refused_request(page_read("127.0.0.1:8080"), "127.0.0.1"));
  EXPECT_FALSE(refused_request(page_read("localhost:8080"), "127.0.0.1"));
  EXPECT_FALSE(refused_request(page_read("LocalHost:8080"), "127.0.0.1"));
  EXPECT_FALSE(refused_request(page_read("[::1]:8080"), "::1"));
  EXPECT_FALSE(refused_request(page_edit("127.0.0.1:8080", "http://127.0.0.1:8080"), "127.0.0.1"));
  EXPECT_FALSE(refused_request(page_edit("127.0.0.1:8080", "", "application/json; charset=utf-8"), "127.0.0.1"))
      << "a client that sends no Origin (curl, a script) may edit";
  // DNS rebinding: another name, or no Host.
  EXPECT_TRUE(refused_request(page_read("evil.example:8080"), "127.0.0.1"));
  EXPECT_TRUE(refused_request(page_read("127.0.0.1.evil.example:8080"), "127.0.0.1"));
  // The port is the browser's: a tunnel (ssh -L 9000:localhost:8080) or a published container port changes it.
  EXPECT_FALSE(refused_request(page_read("localhost:9000"), "127.0.0.1"));
  EXPECT_FALSE(refused_request(page_read("127.0.0.1"), "127.0.0.1"));
  EXPECT_TRUE(refused_request(page_read(""), "127.0.0.1"));
  // A cross-site edit: another origin, or a body that is not JSON (what a form or a no-cors fetch can send).
  EXPECT_TRUE(refused_request(page_edit("127.0.0.1:8080", "http://evil.example"), "127.0.0.1"));
  EXPECT_TRUE(refused_request(page_edit("127.0.0.1:8080", "null"), "127.0.0.1"));
  EXPECT_TRUE(refused_request(page_edit("127.0.0.1:8080", "http://127.0.0.1:8080", "text/plain"), "127.0.0.1"));
  EXPECT_TRUE(refused_request(page_edit("127.0.0.1:8080", "", "application/x-www-form-urlencoded"), "127.0.0.1"));
  // Bound to a named address: that name; bound to every address (a review from another machine): any name,
  // but edits still only from the page itself.
  EXPECT_FALSE(refused_request(page_read("192.168.1.5:8080"), "192.168.1.5"));
  EXPECT_TRUE(refused_request(page_read("evil.example:8080"), "192.168.1.5"));
  EXPECT_FALSE(refused_request(page_read("reviewbox:8080"), "0.0.0.0"));
  EXPECT_FALSE(refused_request(page_edit("reviewbox:8080", "http://reviewbox:8080"), "0.0.0.0"));
  EXPECT_TRUE(refused_request(page_edit("reviewbox:8080", "http://evil.example:8080"), "0.0.0.0"));
}

}  // namespace
}  // namespace roadveil::review
