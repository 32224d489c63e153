#pragma once
// TIFF bytes made by the media tests (EXIF blocks, TIFF files): values in either byte order, and IFD entries
// of one SHORT or LONG value.
#include <cstdint>
#include <vector>

namespace roadveil::testing {

struct TiffWriter {
  bool big;
  std::vector<std::uint8_t> bytes;
  // A TIFF header in this byte order ("II*\0" or "MM\0*"), its first IFD right after it (at offset 8).
  static TiffWriter with_header(bool big) {
    TiffWriter w{big, big ? std::vector<std::uint8_t>{'M', 'M', 0, 42} : std::vector<std::uint8_t>{'I', 'I', 42, 0}};
    w.u32(8);
    return w;
  }
  void u16(std::uint32_t v) {
    if (big) bytes.insert(bytes.end(), {std::uint8_t(v >> 8), std::uint8_t(v)});
    else bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8)});
  }
  void u32(std::uint32_t v) {
    if (big) bytes.insert(bytes.end(), {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)});
    else bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8), std::uint8_t(v >> 16), std::uint8_t(v >> 24)});
  }
  // One IFD entry: tag, type (3 SHORT, 4 LONG), count 1, the value.
  void entry(std::uint32_t tag, std::uint32_t type, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == 3) {
      u16(value);
      u16(0);
    } else {
      u32(value);
    }
  }
};

}  // namespace roadveil::testing
