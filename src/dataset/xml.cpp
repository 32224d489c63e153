#include "dataset/xml.hpp"

#include <pugixml.hpp>

#include <algorithm>

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

std::string_view Element::attribute(std::string_view attribute_name) const {
  for (const auto& [key, value] : attributes)
    if (key == attribute_name) return value;
  return {};
}

namespace {

// Deeper documents are refused: no annotation format nests more than a few levels, and the conversion
// below recurses once per level.
constexpr int kMaxDepth = 256;

// Line numbers (from 1) of byte offsets into the document.
class Lines {
 public:
  explicit Lines(std::string_view doc) {
    for (std::size_t i = 0; i < doc.size(); ++i)
      if (doc[i] == '\n') newlines_.push_back(i);
  }
  std::size_t at(std::ptrdiff_t offset) const {
    if (offset < 0) return 1;
    return 1 + static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), static_cast<std::size_t>(offset)) -
                                        newlines_.begin());
  }

 private:
  std::vector<std::size_t> newlines_;
};

Element convert(const pugi::xml_node& node, const Lines& lines, int depth) {
  if (depth > kMaxDepth) throw ParseError{lines.at(node.offset_debug()), "elements nested more than 256 deep"};
  Element e;
  e.name = node.name();
  e.line = lines.at(node.offset_debug());
  for (const pugi::xml_attribute& a : node.attributes()) e.attributes.emplace_back(a.name(), a.value());
  for (const pugi::xml_node& c : node.children()) {
    switch (c.type()) {
      case pugi::node_element: e.children.push_back(convert(c, lines, depth + 1)); break;
      case pugi::node_pcdata:
      case pugi::node_cdata: e.text += c.value(); break;
      default: break;  // comments, processing instructions
    }
  }
  return e;
}

}  // namespace

Element parse(std::string_view document) {
  // pugixml decodes the five named entities and character references; it never expands entities a DTD
  // declares (they stay as written), reads no external entity, and parses without recursion.
  pugi::xml_document doc;
  const unsigned options = pugi::parse_default | pugi::parse_doctype;
  const pugi::xml_parse_result result = doc.load_buffer(document.data(), document.size(), options, pugi::encoding_utf8);
  const Lines lines(document);
  if (!result) {
    std::string message = result.description();
    if (result.offset >= 0 && static_cast<std::size_t>(result.offset) < document.size()) {
      // What the parser stopped at, from the start of its tag where there is one.
      std::size_t from = static_cast<std::size_t>(result.offset);
      const std::size_t tag = document.rfind('<', from);
      if (tag != std::string_view::npos && from - tag < 64) from = tag;
      std::string_view near = document.substr(from, 40);
      near = near.substr(0, near.find('\n'));
      message += " at '" + std::string(near) + "'";
    }
    throw ParseError{lines.at(result.offset), message};
  }
  const pugi::xml_node root = doc.document_element();
  if (!root) throw ParseError{lines.at(static_cast<std::ptrdiff_t>(document.size())), "expected the root element"};
  for (pugi::xml_node n = root.next_sibling(); n; n = n.next_sibling())
    if (n.type() == pugi::node_element || n.type() == pugi::node_pcdata)
      throw ParseError{lines.at(n.offset_debug()), "content after the root element"};
  return convert(root, lines, 0);
}

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
