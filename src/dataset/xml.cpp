#include "dataset/xml.hpp"

#include <charconv>

#include "dataset/text.hpp"

namespace roadveil::dataset::xml {

const Element* Element::child(std::string_view child_name) const {
  for (const Element& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string_view Element::child_text(std::string_view child_name) const {
  const Element* c = child(child_name);
  return c ? text::trim(c->text) : std::string_view{};
}

namespace {

constexpr int kMaxDepth = 256;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view doc) : s_(doc) {}

  Element document() {
    skip_prolog();
    if (at_end() || peek() != '<') fail("expected the root element");
    Element root = element(0);
    skip_misc();
    if (!at_end()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& message) { throw ParseError{line_, message}; }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  bool starts(std::string_view token) const { return s_.substr(pos_, token.size()) == token; }
  void advance(std::size_t n = 1) {
    for (std::size_t i = 0; i < n && pos_ < s_.size(); ++i) {
      if (s_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }
  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n')) advance();
  }
  void skip_past(std::string_view terminator, const char* what) {
    const std::size_t end = s_.find(terminator, pos_);
    if (end == std::string_view::npos) fail(std::string("unterminated ") + what);
    advance(end + terminator.size() - pos_);
  }
  void skip_misc() {
    while (true) {
      skip_space();
      if (starts("<!--")) {
        skip_past("-->", "comment");
      } else if (starts("<?")) {
        skip_past("?>", "processing instruction");
      } else {
        return;
      }
    }
  }
  void skip_prolog() {
    if (starts("\xEF\xBB\xBF")) advance(3);
    while (true) {
      skip_misc();
      if (starts("<!DOCTYPE")) {
        // An internal subset ([...]) may contain '>' inside brackets.
        int depth = 0;
        while (!at_end()) {
          const char c = peek();
          advance();
          if (c == '[') ++depth;
          if (c == ']') --depth;
          if (c == '>' && depth <= 0) break;
        }
      } else {
        return;
      }
    }
  }

  std::string name() {
    const std::size_t start = pos_;
    while (!at_end() && is_name_char(peek())) advance();
    if (pos_ == start) fail("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }

  void decode_entity(std::string& out) {
    const std::size_t semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) fail("unterminated entity reference");
    const std::string_view ent = s_.substr(pos_ + 1, semi - pos_ - 1);
    if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "amp") out.push_back('&');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      std::uint32_t cp = 0;
      const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      const std::string_view digits = ent.substr(hex ? 2 : 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || cp == 0 || cp > 0x10FFFF ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        fail("bad character reference &" + std::string(ent) + ";");
      }
      append_utf8(out, cp);
    } else {
      fail("unknown entity &" + std::string(ent) + ";");
    }
    advance(semi + 1 - pos_);
  }

  Element element(int depth) {
    if (depth > kMaxDepth) fail("elements nested too deeply");
    Element e;
    e.line = line_;
    advance();  // '<'
    e.name = name();
    while (true) {
      skip_space();
      if (at_end()) fail("unterminated start tag <" + e.name + ">");
      if (starts("/>")) {
        advance(2);
        return e;
      }
      if (peek() == '>') {
        advance();
        break;
      }
      std::string key = name();
      skip_space();
      if (at_end() || peek() != '=') fail("expected '=' after attribute " + key);
      advance();
      skip_space();
      if (at_end() || (peek() != '"' && peek() != '\'')) fail("expected a quoted value for attribute " + key);
      const char quote = peek();
      advance();
      std::string value;
      while (!at_end() && peek() != quote) {
        if (peek() == '&') decode_entity(value);
        else {
          value.push_back(peek());
          advance();
        }
      }
      if (at_end()) fail("unterminated value of attribute " + key);
      advance();
      e.attributes.emplace_back(std::move(key), std::move(value));
    }
    // Content.
    while (true) {
      if (at_end()) fail("<" + e.name + "> (line " + std::to_string(e.line) + ") is never closed");
      const char c = peek();
      if (c == '<') {
        if (starts("</")) {
          advance(2);
          const std::size_t close_line = line_;
          const std::string closing = name();
          skip_space();
          if (at_end() || peek() != '>') fail("expected '>' to end </" + closing + ">");
          advance();
          if (closing != e.name) {
            line_ = close_line;
            fail("</" + closing + "> closes <" + e.name + "> opened on line " + std::to_string(e.line));
          }
          return e;
        }
        if (starts("<!--")) {
          skip_past("-->", "comment");
        } else if (starts("<![CDATA[")) {
          advance(9);
          const std::size_t end = s_.find("]]>", pos_);
          if (end == std::string_view::npos) fail("unterminated CDATA section");
          e.text.append(s_.substr(pos_, end - pos_));
          advance(end + 3 - pos_);
        } else if (starts("<?")) {
          skip_past("?>", "processing instruction");
        } else {
          e.children.push_back(element(depth + 1));
        }
      } else if (c == '&') {
        decode_entity(e.text);
      } else {
        e.text.push_back(c);
        advance();
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

Element parse(std::string_view document) { return Parser(document).document(); }

void append_escaped(std::string& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
}

}  // namespace roadveil::dataset::xml
