#pragma once
// XML of annotation files (Pascal VOC, CVAT for video) as a plain tree, read by pugixml: elements, text
// (CDATA included), attributes; the five named entities and character references decoded. No DTD processing:
// entities a DOCTYPE declares are left as written, nothing external is ever fetched, and nesting is limited.
// Every element keeps the line it starts on so that messages can point at it.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roadveil::dataset::xml {

struct Element {
  std::string name;
  std::string text;  // the element's own character data, concatenated, entities decoded
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<Element> children;
  std::size_t line = 0;

  const Element* child(std::string_view child_name) const;  // first child with that name, or null
  // Text of the first child with that name, trimmed; empty when there is none.
  std::string_view child_text(std::string_view child_name) const;
  // Value of the attribute with that name; empty when there is none.
  std::string_view attribute(std::string_view attribute_name) const;
};

// Throws ParseError with the line of the problem.
struct ParseError {
  std::size_t line;
  std::string message;
};
Element parse(std::string_view document);

// Escapes &, <, >, " and ' for text and attribute values.
void append_escaped(std::string& out, std::string_view s);

}  // namespace roadveil::dataset::xml
