// The text helpers and the XML reader the formats are built on.
#include <gtest/gtest.h>

#include "dataset/text.hpp"
#include "dataset/xml.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

TEST(Text, CsvFieldsWithAndWithoutQuotes) {
  std::vector<std::string_view> f;
  std::string scratch;
  text::split_csv("a,,b", f, scratch);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1], "");
  EXPECT_EQ(f[2], "b");
  text::split_csv(R"(/m/x,"Name, with comma","say ""hi""",)", f, scratch);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "Name, with comma");
  EXPECT_EQ(f[2], R"(say "hi")");
  EXPECT_EQ(f[3], "");
}

TEST(Text, NumbersMustBeWholeAndFinite) {
  EXPECT_EQ(text::parse_double(" 0.25 "), 0.25);
  EXPECT_EQ(text::parse_double("+3"), 3.0);
  EXPECT_FALSE(text::parse_double("0.2x"));
  EXPECT_FALSE(text::parse_double(""));
  EXPECT_FALSE(text::parse_double("nan"));
  EXPECT_FALSE(text::parse_double("inf"));
  EXPECT_EQ(text::parse_int("-1"), -1);
  EXPECT_FALSE(text::parse_int("1.5"));
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(text::is_valid_utf8("Straße \xE2\x82\xAC \xF0\x9F\x9A\x97"));
  EXPECT_FALSE(text::is_valid_utf8("caf\xE9"));          // Latin-1
  EXPECT_FALSE(text::is_valid_utf8("\xC0\xAF"));         // overlong '/'
  EXPECT_FALSE(text::is_valid_utf8("\xED\xA0\x80"));     // UTF-16 surrogate
  EXPECT_FALSE(text::is_valid_utf8("\xE2\x82"));         // truncated
}

TEST(Text, NumbersPrintShortAndWithoutExponent) {
  EXPECT_EQ(text::number(363), "363");
  // Shortest text that reads back as the same float (the float nearest 113.10026892 is 113.1002655...).
  EXPECT_EQ(text::number(113.10026892047637), "113.100266");
  EXPECT_EQ(static_cast<float>(*text::parse_double(text::number(113.10026892047637))), 113.10026892047637f);
  EXPECT_EQ(text::number(123456), "123456");
  EXPECT_EQ(text::number(0.5), "0.5");
}

TEST(Text, JsonEscaping) {
  std::string s;
  text::append_json_string(s, "a\"b\\c\n\x01");
  EXPECT_EQ(s, R"("a\"b\\c\n\u0001")");
}

TEST(Text, LineReaderAcrossBufferBoundaries) {
  TempDir dir;
  // Lines long enough that several straddle the 1 MiB read buffer; CRLF endings and a BOM at the start.
  std::string content = "\xEF\xBB\xBF";
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    std::string line = std::to_string(i) + std::string(700 + i % 13, 'x');
    expected.push_back(line);
    content += line + (i % 2 ? "\r\n" : "\n");
  }
  content += "last-without-newline";
  expected.push_back("last-without-newline");
  write_text(dir / "lines.txt", content);
  text::LineReader reader(dir / "lines.txt");
  std::string_view line;
  std::size_t n = 0;
  while (reader.next(line)) {
    ASSERT_LT(n, expected.size());
    ASSERT_EQ(line, expected[n]) << "line " << n + 1;
    ++n;
    EXPECT_EQ(reader.line_number(), n);
  }
  EXPECT_EQ(n, expected.size());
}

TEST(Text, SeenSetFindsRepeatsAmongManyKeys) {
  text::SeenSet seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert("img" + std::to_string(i)));
  EXPECT_FALSE(seen.insert("img0"));
  EXPECT_FALSE(seen.insert("img99999"));
  EXPECT_TRUE(seen.insert("img100000"));
  EXPECT_EQ(seen.size(), 100001u);
}

TEST(Xml, ElementsTextEntitiesAndLines) {
  const auto root = xml::parse(
      "<?xml version=\"1.0\"?>\n<!-- c -->\n<annotation verified=\"yes\">\n  <filename>a&amp;b &#x41;&#66;.jpg</filename>\n"
      "  <object><name><![CDATA[x<y]]></name></object>\n  <empty/>\n</annotation>\n");
  EXPECT_EQ(root.name, "annotation");
  ASSERT_EQ(root.attributes.size(), 1u);
  EXPECT_EQ(root.attributes[0].second, "yes");
  EXPECT_EQ(root.child_text("filename"), "a&b AB.jpg");
  ASSERT_NE(root.child("object"), nullptr);
  EXPECT_EQ(root.child("object")->child_text("name"), "x<y");
  EXPECT_EQ(root.child("object")->line, 5u);
  EXPECT_NE(root.child("empty"), nullptr);
}

TEST(Xml, ErrorsCarryTheLine) {
  try {
    xml::parse("<a>\n<b>\n</c>\n</a>");
    FAIL() << "mismatched tags accepted";
  } catch (const xml::ParseError& e) {
    EXPECT_EQ(e.line, 3u);
    EXPECT_NE(e.message.find("</c>"), std::string::npos);
  }
  EXPECT_THROW(xml::parse("<a>"), xml::ParseError);
  EXPECT_THROW(xml::parse("<a></a><b/>"), xml::ParseError);
  EXPECT_THROW(xml::parse(""), xml::ParseError);
}

// The safety the hand-written reader had stays with pugixml: declared entities are not expanded (no
// "billion laughs", no external entity read), and nesting is limited.
TEST(Xml, DeclaredEntitiesStayUnexpandedAndDeepNestingIsRefused) {
  const auto root = xml::parse(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">"
      "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<a><b>&lol2;</b><c>&xxe;</c></a>");
  EXPECT_EQ(root.child_text("b"), "&lol2;");
  EXPECT_EQ(root.child_text("c"), "&xxe;");
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<d>";
  for (int i = 0; i < 300; ++i) deep += "</d>";
  try {
    xml::parse(deep);
    FAIL() << "300 levels accepted";
  } catch (const xml::ParseError& e) {
    EXPECT_NE(e.message.find("256"), std::string::npos) << e.message;
  }
  std::string ok;
  for (int i = 0; i < 200; ++i) ok += "<d>";
  for (int i = 0; i < 200; ++i) ok += "</d>";
  EXPECT_EQ(xml::parse(ok).name, "d");
}

TEST(Xml, EscapingRoundTrips) {
  std::string s = "<n>";
  xml::append_escaped(s, "a<b>&\"c'");
  s += "</n>";
  EXPECT_EQ(xml::parse(s).text, "a<b>&\"c'");
}

}  // namespace
}  // namespace roadveil::dataset
