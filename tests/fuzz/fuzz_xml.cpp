// The XML layer of the annotation readers (Pascal VOC, CVAT for video).
#include "dataset/xml.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto root = roadveil::dataset::xml::parse(roadveil::fuzz::as_view(data, size));
    (void)root.child_text("filename");
  } catch (const roadveil::dataset::xml::ParseError&) {
  }
  return 0;
}
