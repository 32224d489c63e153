#include "media/mp4_boxes.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <string_view>

#include <fmt/format.h>

namespace roadveil::media {
namespace {

// Top-level boxes of ISO BMFF and QuickTime that the demuxer reads, or that hold only structure, padding or
// an index the muxer writes anew.
constexpr std::array<std::string_view, 16> kStructuralTop = {"ftyp", "moov", "mdat", "free", "skip", "wide", "pdin", "moof",
                                                             "mfra", "sidx", "ssix", "styp", "emsg", "prft", "meta", "pnot"};
// Children of moov the demuxer reads (tracks, headers, metadata, fragments, protection) or that are padding.
constexpr std::array<std::string_view, 13> kStructuralMoov = {"mvhd", "trak", "udta", "meta", "iods", "mvex", "pssh",
                                                              "cmov", "rmra", "free", "skip", "wide", "prfl"};

bool listed(std::string_view type, std::span<const std::string_view> list) {
  for (std::string_view t : list)
    if (t == type) return true;
  return false;
}

std::uint64_t big_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (const char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

struct Header {
  std::string type;
  std::int64_t size = 0, header = 0;
};

// The box header at `offset` within [offset, end), or a size of 0 when it does not fit.
Header read_header(ByteSource& source, std::int64_t offset, std::int64_t end) {
  Header h;
  if (end - offset < 8) return h;
  const std::string bytes = source.read(offset, std::min<std::int64_t>(16, end - offset));
  if (bytes.size() < 8) return h;
  h.type = bytes.substr(4, 4);
  std::uint64_t size = big_endian(std::string_view(bytes).substr(0, 4));
  h.header = 8;
  if (size == 1) {  // a 64-bit size follows the type
    if (bytes.size() < 16) return {};
    size = big_endian(std::string_view(bytes).substr(8, 8));
    h.header = 16;
  } else if (size == 0) {  // to the end of its container
    size = static_cast<std::uint64_t>(end - offset);
  }
  if (size < static_cast<std::uint64_t>(h.header) || size > static_cast<std::uint64_t>(end - offset)) return {};
  h.size = static_cast<std::int64_t>(size);
  return h;
}

}  // namespace

std::vector<Mp4Box> foreign_mp4_boxes(ByteSource& source, int max_boxes) {
  std::vector<Mp4Box> found;
  const std::int64_t end = source.size();
  int boxes = 0;
  for (std::int64_t offset = 0; offset < end && boxes++ < max_boxes;) {
    const Header h = read_header(source, offset, end);
    if (h.size == 0) break;
    if (h.type == "moov") {
      const std::int64_t moov_end = offset + h.size;
      for (std::int64_t child = offset + h.header; child < moov_end;) {
        const Header c = read_header(source, child, moov_end);
        if (c.size == 0) break;
        if (!listed(c.type, kStructuralMoov)) found.push_back({c.type, "moov", child, c.size, c.header});
        child += c.size;
      }
    } else if (!listed(h.type, kStructuralTop)) {
      found.push_back({h.type, "", offset, h.size, h.header});
    }
    offset += h.size;
  }
  return found;
}

std::string box_type_text(const std::string& type) {
  std::string text;
  for (const char c : type) {
    const auto u = static_cast<unsigned char>(c);
    text += u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  return text;
}

}  // namespace roadveil::media
