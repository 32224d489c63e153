#include "media/photo_metadata.hpp"

#include <fmt/format.h>

extern "C" {
#include <libavutil/crc.h>
}

#include <algorithm>
#include <cstring>

namespace roadveil::media {

namespace {

constexpr std::uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

struct Tiff {
  std::uint8_t* data;
  std::size_t size;
  bool big_endian;
  bool has(std::size_t pos, std::size_t n) const { return pos <= size && n <= size - pos; }
  std::uint32_t u16(std::size_t pos) const {
    return big_endian ? (data[pos] << 8) | data[pos + 1] : data[pos] | (data[pos + 1] << 8);
  }
  std::uint32_t u32(std::size_t pos) const {
    return big_endian ? (std::uint32_t{data[pos]} << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]
                      : data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16) | (std::uint32_t{data[pos + 3]} << 24);
  }
};

void zero(std::uint8_t* data, std::size_t from, std::size_t to) { std::fill(data + from, data + to, std::uint8_t{0}); }

// The end (exclusive) of the JPEG starting at `from` (FF D8): after its first FF D9, or the block's end.
std::size_t jpeg_end(const std::uint8_t* data, std::size_t size, std::size_t from) {
  for (std::size_t i = from + 2; i + 1 < size; ++i)
    if (data[i] == 0xFF && data[i + 1] == 0xD9) return i + 2;
  return size;
}

// The end of the PNG starting at `from`: after its IEND chunk's CRC, or the block's end.
std::size_t png_end(const std::uint8_t* data, std::size_t size, std::size_t from) {
  for (std::size_t i = from + 8; i + 8 <= size; ++i)
    if (std::memcmp(data + i, "IEND", 4) == 0) return std::min(size, i + 8);
  return size;
}

bool is_base64(std::uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

bool starts(const std::uint8_t* data, std::size_t size, std::size_t pos, const char* text) {
  const std::size_t n = std::strlen(text);
  return pos <= size && n <= size - pos && std::memcmp(data + pos, text, n) == 0;
}

}  // namespace

int remove_binary_pictures(std::uint8_t* data, std::size_t size) {
  int removed = 0;
  for (std::size_t i = 0; i + 3 <= size; ++i) {
    std::size_t end = 0;
    if (data[i] == 0xFF && data[i + 1] == 0xD8 && data[i + 2] == 0xFF) end = jpeg_end(data, size, i);
    else if (i + sizeof kPngSignature <= size && std::memcmp(data + i, kPngSignature, sizeof kPngSignature) == 0)
      end = png_end(data, size, i);
    if (end == 0) continue;
    zero(data, i, end);
    ++removed;
    i = end - 1;
  }
  return removed;
}

int remove_exif_pictures(std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  Tiff t{data, size, data[0] == 'M'};
  if (!((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M')) || t.u16(2) != 42) return 0;
  int removed = 0;
  const std::size_t ifd0 = t.u32(4);
  if (t.has(ifd0, 2)) {
    const std::size_t next_at = ifd0 + 2 + 12 * std::size_t{t.u16(ifd0)};
    if (t.has(next_at, 4)) {
      const std::size_t ifd1 = t.u32(next_at);
      if (ifd1 != 0 && t.has(ifd1, 2)) {
        // IFD1 describes the thumbnail: a JPEG (JPEGInterchangeFormat and its length) or one strip of pixels.
        const std::size_t count = t.u16(ifd1);
        std::size_t jpeg_at = 0, jpeg_len = 0, strip_at = 0, strip_len = 0;
        for (std::size_t e = 0; e < count && t.has(ifd1 + 2 + 12 * e, 12); ++e) {
          const std::size_t entry = ifd1 + 2 + 12 * e;
          const std::uint32_t tag = t.u16(entry), type = t.u16(entry + 2), n = t.u32(entry + 4);
          // A one-value SHORT sits in the first two bytes of the value field, a LONG fills it.
          const std::uint32_t value = type == 3 ? t.u16(entry + 8) : t.u32(entry + 8);
          if (n != 1) continue;
          if (tag == 0x0201) jpeg_at = value;
          else if (tag == 0x0202) jpeg_len = value;
          else if (tag == 0x0111) strip_at = value;
          else if (tag == 0x0117) strip_len = value;
        }
        for (const auto& [at, len] : {std::pair{jpeg_at, jpeg_len}, std::pair{strip_at, strip_len}}) {
          if (at == 0 || len == 0 || !t.has(at, len)) continue;
          zero(data, at, at + len);
          ++removed;
        }
        // No thumbnail IFD any more: readers find none rather than a picture of zeros.
        zero(data, next_at, next_at + 4);
      }
    }
  }
  return removed + remove_binary_pictures(data + 8, size - 8);
}

int remove_base64_pictures(std::uint8_t* data, std::size_t size) {
  int removed = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (!starts(data, size, i, "/9j/") && !starts(data, size, i, "iVBORw0KGgo")) continue;
    // Only where a base64 value starts (after a quote, '>' or whitespace), not inside a longer word.
    if (i > 0 && is_base64(data[i - 1])) continue;
    std::size_t end = i;
    while (end < size && data[end] != '"' && data[end] != '\'' && data[end] != '<') ++end;
    for (std::size_t k = i; k < end; ++k) {
      if (data[k] == '&') {  // a character reference (&#xA; line breaks in the value) stays as it is
        while (k < end && data[k] != ';') ++k;
        continue;
      }
      if (is_base64(data[k]) && data[k] != '=') data[k] = 'A';
    }
    ++removed;
    i = end;
  }
  return removed;
}

std::vector<std::string> pictures_in_jpeg_metadata(const std::vector<std::uint8_t>& jpeg) {
  std::vector<std::string> found;
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return found;
  std::size_t pos = 2;
  while (pos + 4 <= jpeg.size()) {
    if (jpeg[pos] != 0xFF) break;
    const std::uint8_t marker = jpeg[pos + 1];
    if (marker == 0xFF) {
      ++pos;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      pos += 2;
      continue;
    }
    const std::size_t len = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
    if (len < 2 || pos + 2 + len > jpeg.size()) break;
    // A copy: the functions below zero what they find, which is how they are counted here.
    std::vector<std::uint8_t> payload(jpeg.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                                      jpeg.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len));
    const std::string where = marker == 0xFE ? "COM" : fmt::format("APP{}", marker - 0xE0);
    if (marker == 0xE1 && starts(payload.data(), payload.size(), 0, "Exif")) {
      if (const int n = payload.size() > 6 ? remove_exif_pictures(payload.data() + 6, payload.size() - 6) : 0; n > 0)
        found.push_back(fmt::format("{} picture(s) in the EXIF block (its thumbnail or a maker note's preview)", n));
    } else if (marker == 0xE1 && starts(payload.data(), payload.size(), 0, "http://ns.adobe.com/xmp/extension/")) {
      found.push_back("extended XMP (where phones keep a portrait photo's original and depth map)");
    } else if (marker >= 0xE1 && marker <= 0xEF && !starts(payload.data(), payload.size(), 0, "ICC_PROFILE")) {
      const int binary = remove_binary_pictures(payload.data(), payload.size());
      const int text = remove_base64_pictures(payload.data(), payload.size());
      if (binary + text > 0) found.push_back(fmt::format("{} picture(s) in {}", binary + text, where));
    }
    pos += 2 + len;
  }
  return found;
}

int exif_orientation(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 1;
  const Tiff t{const_cast<std::uint8_t*>(data), size, data[0] == 'M'};
  if (!((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M')) || t.u16(2) != 42) return 1;
  const std::size_t ifd0 = t.u32(4);
  if (!t.has(ifd0, 2)) return 1;
  for (std::size_t e = 0, n = t.u16(ifd0); e < n && t.has(ifd0 + 2 + 12 * e, 12); ++e) {
    const std::size_t entry = ifd0 + 2 + 12 * e;
    if (t.u16(entry) != 0x0112 || t.u16(entry + 2) != 3) continue;  // Orientation, SHORT
    const int value = static_cast<int>(t.u16(entry + 8));
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

std::vector<PngChunk> png_chunks(const std::vector<std::uint8_t>& png) {
  std::vector<PngChunk> chunks;
  if (png.size() < 8 || std::memcmp(png.data(), kPngSignature, 8) != 0) return chunks;
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::size_t len = (std::size_t{png[pos]} << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
    if (len > png.size() - pos - 12) break;
    chunks.push_back({std::string(png.begin() + static_cast<std::ptrdiff_t>(pos + 4), png.begin() + static_cast<std::ptrdiff_t>(pos + 8)),
                      std::vector<std::uint8_t>(png.begin() + static_cast<std::ptrdiff_t>(pos + 8),
                                                png.begin() + static_cast<std::ptrdiff_t>(pos + 8 + len))});
    if (chunks.back().type == "IEND") break;
    pos += 12 + len;
  }
  return chunks;
}

std::vector<std::uint8_t> png_with_chunks(const std::vector<std::uint8_t>& png, const std::vector<PngChunk>& chunks) {
  // IHDR is first, 13 bytes of data: the chunks go right after it.
  constexpr std::size_t kAfterIhdr = 8 + 12 + 13;
  if (chunks.empty() || png.size() < kAfterIhdr || std::memcmp(png.data() + 12, "IHDR", 4) != 0) return png;
  std::vector<std::uint8_t> out(png.begin(), png.begin() + kAfterIhdr);
  const AVCRC* table = av_crc_get_table(AV_CRC_32_IEEE_LE);
  for (const PngChunk& c : chunks) {
    const auto len = static_cast<std::uint32_t>(c.data.size());
    out.insert(out.end(), {std::uint8_t(len >> 24), std::uint8_t(len >> 16), std::uint8_t(len >> 8), std::uint8_t(len)});
    const std::size_t typed = out.size();
    out.insert(out.end(), c.type.begin(), c.type.end());
    out.insert(out.end(), c.data.begin(), c.data.end());
    const std::uint32_t crc = av_crc(table, 0xFFFFFFFFu, out.data() + typed, out.size() - typed) ^ 0xFFFFFFFFu;
    out.insert(out.end(), {std::uint8_t(crc >> 24), std::uint8_t(crc >> 16), std::uint8_t(crc >> 8), std::uint8_t(crc)});
  }
  out.insert(out.end(), png.begin() + kAfterIhdr, png.end());
  return out;
}

}  // namespace roadveil::media
