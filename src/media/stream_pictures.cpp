#include "media/stream_pictures.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <strings.h>

#include "core/utf8.hpp"
#include "media/photo_metadata.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace roadveil::media {

int remove_stream_pictures(std::uint8_t* data, std::size_t size) {
  return data && size ? remove_binary_pictures(data, size) + remove_base64_data(data, size) : 0;
}

namespace {
// A section header of an ASS/SSA script. Only these end [Graphics]: its uuencoded lines are characters 33-96,
// '[' among them, so one line in 64 starts like a header (a 10 KB picture ended the section early nine times
// in ten, the rest of it kept).
bool is_ass_section_header(std::string_view line) {
  static constexpr std::string_view kSections[] = {"[Script Info]", "[V4+ Styles]", "[V4 Styles]", "[V4++ Styles]",
                                                   "[Events]", "[Fonts]", "[Graphics]"};
  for (const std::string_view h : kSections)
    if (line.size() == h.size() && ::strncasecmp(line.data(), h.data(), h.size()) == 0) return true;
  return line.size() > 9 && ::strncasecmp(line.data(), "[Aegisub ", 9) == 0 && line.back() == ']';
}
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

int remove_ass_graphics(std::vector<std::uint8_t>& script) {
  std::vector<std::uint8_t> kept;
  kept.reserve(script.size());
  bool in_graphics = false, held = false;
  int pictures = 0;
  for (std::size_t pos = 0; pos < script.size();) {
    // A line ends at LF, CR LF or a lone CR (old Mac files), its end kept with it.
    std::size_t end = pos;
    while (end < script.size() && script[end] != '\n' && script[end] != '\r') ++end;
    if (end < script.size() && script[end] == '\r') ++end;
    if (end < script.size() && script[end] == '\n') ++end;
    std::string_view line(reinterpret_cast<const char*>(script.data()) + pos, end - pos);
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
    if (is_ass_section_header(line)) in_graphics = ::strncasecmp(line.data(), "[Graphics]", line.size()) == 0;
    if (in_graphics) {
      held = held || !line.empty();
      if (line.size() >= 9 && ::strncasecmp(line.data(), "filename:", 9) == 0) ++pictures;
    } else {
      kept.insert(kept.end(), script.begin() + static_cast<std::ptrdiff_t>(pos), script.begin() + static_cast<std::ptrdiff_t>(end));
    }
    pos = end;
  }
  if (kept.size() != script.size()) script.swap(kept);
  // A section with content but no "filename:" line still held something: counted, so that it is replaced.
  return held ? std::max(pictures, 1) : 0;
}

bool is_plain_text(std::string_view text) {
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  for (const unsigned char c : text)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
  return is_valid_utf8(text);
}

AttachmentKind attachment_kind(const AVCodecParameters& par) {
  const auto* d = par.extradata;
  const auto n = par.extradata_size > 0 ? static_cast<std::size_t>(par.extradata_size) : 0u;
  if (n >= 4) {
    // TrueType, OpenType (CFF), Apple TrueType, a TrueType collection, WOFF and WOFF2.
    for (const char* magic : {"\x00\x01\x00\x00", "OTTO", "true", "typ1", "ttcf", "wOFF", "wOF2"})
      if (std::memcmp(d, magic, 4) == 0) return AttachmentKind::Font;
  }
  return is_plain_text({reinterpret_cast<const char*>(d), n}) ? AttachmentKind::Text : AttachmentKind::Other;
}

bool may_carry_pictures(const AVCodecParameters& par) {
  return par.codec_type == AVMEDIA_TYPE_DATA || par.codec_type == AVMEDIA_TYPE_SUBTITLE;
}

bool is_bitmap_subtitle(const AVCodecParameters& par) {
  const AVCodecDescriptor* desc = avcodec_descriptor_get(par.codec_id);
  return par.codec_type == AVMEDIA_TYPE_SUBTITLE && desc && (desc->props & AV_CODEC_PROP_BITMAP_SUB);
}

}  // namespace roadveil::media
