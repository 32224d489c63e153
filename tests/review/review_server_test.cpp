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
  // Bound to a named address: that name. Bound to every address (a review from another machine): an IP address,
  // the machine's name or a name allowed with --allow-host, and edits only from the page itself.
  EXPECT_FALSE(refused_request(page_read("192.168.1.5:8080"), "192.168.1.5"));
  EXPECT_TRUE(refused_request(page_read("evil.example:8080"), "192.168.1.5"));
  EXPECT_FALSE(refused_request(page_read("reviewbox:8080"), "0.0.0.0", {}, "reviewbox"));
  EXPECT_FALSE(refused_request(page_edit("reviewbox:8080", "http://reviewbox:8080"), "0.0.0.0", {}, "ReviewBox"));
  EXPECT_TRUE(refused_request(page_edit("reviewbox:8080", "http://evil.example:8080"), "0.0.0.0", {}, "reviewbox"));
  EXPECT_FALSE(refused_request(page_read("10.1.2.3:8080"), "0.0.0.0"));
  EXPECT_FALSE(refused_request(page_edit("[fe80::1]:8080", "http://[fe80::1]:8080"), "::"));
  EXPECT_FALSE(refused_request(page_read("review.lab.example:8080"), "0.0.0.0", {"review.lab.example"}));
  EXPECT_FALSE(refused_request(page_read("reviewbox.:8080"), "0.0.0.0", {}, "reviewbox"));  // fully qualified
  // Regression (review of the review loop): bound to every address, any name was served, so a web page whose
  // own name resolves to this machine (DNS rebinding) read the frames and, sending its own name as Origin and
  // Host, deleted a face track.
  EXPECT_TRUE(refused_request(page_read("attacker.example:8080"), "0.0.0.0", {"review.lab.example"}, "reviewbox"));
  EXPECT_TRUE(refused_request(page_edit("attacker.example:8080", "http://attacker.example:8080"), "0.0.0.0", {}, "reviewbox"));
  EXPECT_TRUE(refused_request(page_read("reviewbox.attacker.example:8080"), "0.0.0.0", {}, "reviewbox"));
  EXPECT_TRUE(refused_request(page_read("10.1.2.3.attacker.example:8080"), "0.0.0.0"));
}

// Regression (review of the review loop): an edit nested 200,000 deep parsed, then overran the stack when it was
// copied (the server crashed, exit 139). Bodies nesting deeper than an edit are refused before parsing.
TEST(ReviewServerRequests, NestingIsMeasuredOutsideStrings) {
  EXPECT_EQ(json_nesting(R"({"reviewer":"x","edit":{"op":"add","box":[1,2,3,4]}})"), 3);
  EXPECT_EQ(json_nesting(R"({"reviewer":"[[[[{{{{\"[[[", "b": []})"), 2);
  EXPECT_EQ(json_nesting(std::string(200000, '[') + std::string(200000, ']')), 200000);
  EXPECT_EQ(json_nesting("not json"), 0);
}

}  // namespace
}  // namespace roadveil::review
