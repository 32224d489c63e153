#include "media/photo_metadata.hpp"

#include <fmt/format.h>

extern "C" {
#include <libavutil/crc.h>
}
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

namespace roadveil::media {

namespace {

constexpr std::uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

struct Tiff {
  std::uint8_t* data;
  std::size_t size;
  bool big_endian;
  // "II*\0" or "MM\0*": a TIFF header (an EXIF block's start), in either byte order.
  static std::optional<Tiff> of(std::uint8_t* data, std::size_t size) {
    if (size < 8 || !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M'))) return std::nullopt;
    const Tiff t{data, size, data[0] == 'M'};
    return t.u16(2) == 42 ? std::optional<Tiff>(t) : std::nullopt;
  }
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

// Where a picture found inside a block ends.
struct Extent {
  enum Kind { NotPicture, Ends, RunsPastEnd } kind = NotPicture;
  std::size_t end = 0;  // exclusive; the block's size where it runs past it
};

bool is_header_marker(std::uint8_t m) {
  return (m >= 0xE0 && m <= 0xEF) || (m >= 0xC0 && m <= 0xCF) || m == 0xDB || m == 0xDD || m == 0xFE;
}

// The JPEG starting at `from` (FF D8), walked as a decoder walks it: its segments by their lengths to the scan,
// the scan to the next marker (FF D9 inside a header, a thumbnail's own thumbnail, does not end it). Bytes
// that stop being a JPEG before the scan are no picture (a chance FF D8 FF in EXIF values); a picture cut by
// the block's end (split over two segments) runs past it.
Extent jpeg_extent(const std::uint8_t* data, std::size_t size, std::size_t from) {
  if (from + 4 > size || !is_header_marker(data[from + 3])) return {};
  std::size_t pos = from + 2;
  for (;;) {
    if (pos >= size) return {Extent::RunsPastEnd, size};
    if (data[pos] != 0xFF) return {};
    if (pos + 1 >= size) return {Extent::RunsPastEnd, size};
    const std::uint8_t m = data[pos + 1];
    if (m == 0xFF) {
      ++pos;
      continue;
    }
    if (m == 0xD9) return {Extent::Ends, pos + 2};
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (m == 0x00 || m == 0xD8) return {};
    if (pos + 4 > size) return {Extent::RunsPastEnd, size};
    const std::size_t len = (std::size_t{data[pos + 2]} << 8) | data[pos + 3];
    if (len < 2) return {};
    if (len > size - pos - 2) return {Extent::RunsPastEnd, size};
    pos += 2 + len;
    if (m != 0xDA) continue;
    // Entropy-coded data: FF is followed by 00 (a stuffed byte), a restart marker or fill; anything else is
    // the next marker.
    while (pos + 1 < size && !(data[pos] == 0xFF && data[pos + 1] != 0x00 && data[pos + 1] != 0xFF &&
                               !(data[pos + 1] >= 0xD0 && data[pos + 1] <= 0xD7)))
      ++pos;
    if (pos + 1 >= size) return {Extent::RunsPastEnd, size};
  }
}

// The PNG starting at `from` (its signature, then IHDR), to the end of its IEND chunk.
Extent png_extent(const std::uint8_t* data, std::size_t size, std::size_t from) {
  if (from + 16 > size || std::memcmp(data + from + 12, "IHDR", 4) != 0) return {};
  for (std::size_t i = from + 16; i + 4 <= size; ++i)
    if (std::memcmp(data + i, "IEND", 4) == 0) return i + 8 <= size ? Extent{Extent::Ends, i + 8} : Extent{Extent::RunsPastEnd, size};
  return {Extent::RunsPastEnd, size};
}

// The WebP starting at `from` ("RIFF", its size, "WEBP", then a VP8/VP8L/VP8X chunk), to the end its RIFF
// size gives (padded to even).
Extent webp_extent(const std::uint8_t* data, std::size_t size, std::size_t from) {
  if (from + 16 > size || std::memcmp(data + from + 8, "WEBPVP8", 7) != 0) return {};
  const char kind = static_cast<char>(data[from + 15]);
  if (kind != ' ' && kind != 'L' && kind != 'X') return {};
  auto u32 = [&](std::size_t at) {
    return std::uint64_t{data[at]} | (std::uint64_t{data[at + 1]} << 8) | (std::uint64_t{data[at + 2]} << 16) | (std::uint64_t{data[at + 3]} << 24);
  };
  // The RIFF size, but never less than the first chunk it holds: a size written too small left the VP8
  // bitstream after it whole. In 64 bits: a size near 2^32 wrapped on a 32-bit size_t.
  const std::uint64_t riff = u32(from + 4), chunk = from + 20 <= size ? u32(from + 16) : 0;
  const std::uint64_t length = std::max(8 + riff + (riff & 1), 20 + chunk + (chunk & 1));
  return length <= size - from ? Extent{Extent::Ends, from + static_cast<std::size_t>(length)} : Extent{Extent::RunsPastEnd, size};
}

bool is_base64(std::uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

bool starts(const std::uint8_t* data, std::size_t size, std::size_t pos, const char* text) {
  const std::size_t n = std::strlen(text);
  return pos <= size && n <= size - pos && std::memcmp(data + pos, text, n) == 0;
}

// A zlib stream's bytes, at most `limit` of them (a small chunk may inflate a thousandfold); nullopt where
// the stream is damaged or inflates to more.
std::optional<std::vector<std::uint8_t>> inflated(const std::uint8_t* data, std::size_t size, std::size_t limit) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return std::nullopt;
  std::vector<std::uint8_t> out;
  std::uint8_t buffer[16384];
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(size, std::numeric_limits<uInt>::max()));
  int status = Z_OK;
  while (status == Z_OK) {
    z.next_out = buffer;
    z.avail_out = sizeof buffer;
    status = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), buffer, buffer + (sizeof buffer - z.avail_out));
    if (out.size() > limit || (status == Z_BUF_ERROR && z.avail_in == 0)) status = Z_DATA_ERROR;
  }
  inflateEnd(&z);
  return status == Z_STREAM_END ? std::optional(std::move(out)) : std::nullopt;
}

// The keyword and text of a PNG text chunk (tEXt; zTXt and iTXt inflated where compressed); nullopt where it
// is no text chunk or its compressed text cannot be read.
struct PngText {
  std::string keyword;
  std::vector<std::uint8_t> text;
};
std::optional<PngText> png_text(const PngChunk& c) {
  const auto nul = std::find(c.data.begin(), c.data.end(), std::uint8_t{0});
  if (nul == c.data.end()) return std::nullopt;
  PngText t{std::string(c.data.begin(), nul), {}};
  const std::size_t after = static_cast<std::size_t>(nul - c.data.begin()) + 1;
  constexpr std::size_t kLimit = 64 << 20;
  if (c.type == "tEXt") {
    t.text.assign(c.data.begin() + static_cast<std::ptrdiff_t>(after), c.data.end());
  } else if (c.type == "zTXt") {  // compression method (0: zlib), then the stream
    if (after >= c.data.size()) return std::nullopt;
    auto text = inflated(c.data.data() + after + 1, c.data.size() - after - 1, kLimit);
    if (!text) return std::nullopt;
    t.text = std::move(*text);
  } else if (c.type == "iTXt") {  // compression flag and method, language tag, translated keyword, text
    if (after + 2 > c.data.size()) return std::nullopt;
    const bool compressed = c.data[after] != 0;
    auto pos = c.data.begin() + static_cast<std::ptrdiff_t>(after + 2);
    for (int field = 0; field < 2; ++field) {
      pos = std::find(pos, c.data.end(), std::uint8_t{0});
      if (pos == c.data.end()) return std::nullopt;
      ++pos;
    }
    if (!compressed) {
      t.text.assign(pos, c.data.end());
    } else {
      if (pos == c.data.end()) return std::nullopt;
      auto text = inflated(&*pos, static_cast<std::size_t>(c.data.end() - pos), kLimit);
      if (!text) return std::nullopt;
      t.text = std::move(*text);
    }
  } else {
    return std::nullopt;
  }
  return t;
}

// ImageMagick and exiftool keep a profile PNG has no chunk for (EXIF before eXIf existed, APP1, IPTC) as text
// keyed "Raw profile type NAME": a line with NAME, one with the byte count, then the bytes as hex digits
// (lines of 72). Its bytes; nullopt where the text is not of that form.
std::optional<std::vector<std::uint8_t>> raw_profile_bytes(const std::vector<std::uint8_t>& text) {
  std::size_t pos = 0;
  auto skip_space = [&] {
    while (pos < text.size() && std::isspace(text[pos])) ++pos;
  };
  skip_space();
  while (pos < text.size() && !std::isspace(text[pos])) ++pos;  // NAME
  skip_space();
  std::size_t count = 0;
  for (; pos < text.size() && std::isdigit(text[pos]); ++pos) {
    count = count * 10 + (text[pos] - '0');
    if (count > text.size()) return std::nullopt;  // two hex digits a byte: cannot be there
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(count);
  int high = -1;
  for (; pos < text.size() && bytes.size() < count; ++pos) {
    const int c = text[pos];
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) return std::nullopt;
    const int v = std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      bytes.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (bytes.empty()) return std::nullopt;
  return bytes;
}

}  // namespace

JpegHeader jpeg_header(const std::uint8_t* data, std::size_t size, std::size_t from) {
  JpegHeader h;
  std::size_t pos = from;
  for (;;) {
    h.stop_pos = pos;
    if (pos + 2 > size) {
      h.stop = JpegHeader::Stop::Truncated;
      return h;
    }
    if (data[pos] != 0xFF) return h;  // Unknown
    const std::uint8_t marker = data[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) {
      h.stop = marker == 0xDA ? JpegHeader::Stop::Scan : JpegHeader::Stop::EndOfImage;
      return h;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length field
      pos += 2;
      continue;
    }
    if (marker == 0x00) return h;  // Unknown: a stuffed byte belongs in a scan
    const std::size_t len = pos + 4 <= size ? (std::size_t{data[pos + 2]} << 8) | data[pos + 3] : 0;
    if (pos + 4 > size || len > size - pos - 2) {
      h.stop = JpegHeader::Stop::Truncated;
      return h;
    }
    if (len < 2) return h;  // Unknown
    h.segments.push_back({marker, pos, len});
    pos += 2 + len;
  }
}

int remove_binary_pictures(std::uint8_t* data, std::size_t size, bool* runs_past_end) {
  int removed = 0;
  for (std::size_t i = 0; i + 3 <= size; ++i) {
    Extent e;
    if (data[i] == 0xFF && data[i + 1] == 0xD8 && data[i + 2] == 0xFF) e = jpeg_extent(data, size, i);
    else if (i + sizeof kPngSignature <= size && std::memcmp(data + i, kPngSignature, sizeof kPngSignature) == 0)
      e = png_extent(data, size, i);
    else if (data[i] == 'R' && i + 4 <= size && std::memcmp(data + i, "RIFF", 4) == 0)
      e = webp_extent(data, size, i);
    if (e.kind == Extent::NotPicture) continue;
    zero(data, i, e.end);
    ++removed;
    if (e.kind == Extent::RunsPastEnd && runs_past_end) *runs_past_end = true;
    i = e.end - 1;
  }
  return removed;
}

int remove_exif_pictures(std::uint8_t* data, std::size_t size) {
  const std::optional<Tiff> tiff = Tiff::of(data, size);
  // Not a TIFF header: no thumbnail IFD to follow, but pictures inside are still pictures.
  if (!tiff) return remove_binary_pictures(data, size);
  const Tiff& t = *tiff;
  int removed = 0;
  // The picture an IFD describes: a JPEG (JPEGInterchangeFormat and its length) or strips or tiles of pixels
  // (StripOffsets and StripByteCounts, TileOffsets and TileByteCounts; one value each per strip).
  auto zero_pictures_of = [&](std::size_t ifd) {
    std::vector<std::size_t> offsets, lengths;
    const std::size_t count = t.u16(ifd);
    for (std::size_t e = 0; e < count && t.has(ifd + 2 + 12 * e, 12); ++e) {
      const std::size_t entry = ifd + 2 + 12 * e;
      const std::uint32_t tag = t.u16(entry), type = t.u16(entry + 2), n = t.u32(entry + 4);
      if ((type != 3 && type != 4) || n == 0 || n > 4096) continue;
      const std::size_t width = type == 3 ? 2 : 4;
      // Values that fit in the entry's four bytes are there, the others at the offset it holds.
      const std::size_t at = n * width <= 4 ? entry + 8 : t.u32(entry + 8);
      if (!t.has(at, n * width)) continue;
      std::vector<std::size_t> values;
      for (std::size_t k = 0; k < n; ++k) values.push_back(width == 2 ? t.u16(at + 2 * k) : t.u32(at + 4 * k));
      if (tag == 0x0201 || tag == 0x0111 || tag == 0x0144) offsets.insert(offsets.end(), values.begin(), values.end());
      else if (tag == 0x0202 || tag == 0x0117 || tag == 0x0145) lengths.insert(lengths.end(), values.begin(), values.end());
    }
    for (std::size_t k = 0; k < std::min(offsets.size(), lengths.size()); ++k) {
      if (offsets[k] == 0 || lengths[k] == 0 || !t.has(offsets[k], lengths[k])) continue;
      zero(data, offsets[k], offsets[k] + lengths[k]);
      ++removed;
    }
  };
  const std::size_t ifd0 = t.u32(4);
  if (t.has(ifd0, 2)) {
    const std::size_t next_at = ifd0 + 2 + 12 * std::size_t{t.u16(ifd0)};
    if (t.has(next_at, 4)) {
      // IFD1 describes the thumbnail; IFDs chained after it (IFD2, ...: a larger preview, raw strips) hold
      // pictures too: every IFD after IFD0 is emptied (only IFD1's pictures were, and a raw-strip preview in
      // IFD2 went out whole). The chain is followed at most 16 links, never back to where it was.
      std::vector<std::size_t> seen{ifd0};
      for (std::size_t ifd = t.u32(next_at); ifd != 0 && t.has(ifd, 2) && seen.size() <= 16 &&
                                             std::find(seen.begin(), seen.end(), ifd) == seen.end();) {
        seen.push_back(ifd);
        zero_pictures_of(ifd);
        const std::size_t link = ifd + 2 + 12 * std::size_t{t.u16(ifd)};
        ifd = t.has(link, 4) ? t.u32(link) : 0;
      }
      // No thumbnail IFD any more: readers find none rather than a picture of zeros.
      if (seen.size() > 1) zero(data, next_at, next_at + 4);
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

int remove_base64_data(std::uint8_t* data, std::size_t size, std::size_t min_run) {
  int removed = remove_base64_pictures(data, size);
  // A data URI's payload, whatever it holds ("data:image/bmp;base64,...", "data:video/mp4;base64,...").
  for (std::size_t i = 0; i + 5 <= size; ++i) {
    if (!starts(data, size, i, "data:")) continue;
    std::size_t comma = i + 5;
    while (comma < size && data[comma] != ',' && data[comma] != '"' && data[comma] != '\'' && data[comma] != '<' && comma - i < 256) ++comma;
    if (comma >= size || data[comma] != ',') continue;
    const std::string_view header(reinterpret_cast<const char*>(data + i), comma - i);
    if (header.find(";base64") == std::string_view::npos) continue;
    std::size_t k = comma + 1;
    bool changed = false;  // a payload zeroed before (an output checked by verify) is no finding
    for (; k < size && (is_base64(data[k]) || data[k] == '\n' || data[k] == '\r' || data[k] == ' '); ++k)
      if (is_base64(data[k]) && data[k] != '=' && data[k] != 'A') {
        data[k] = 'A';
        changed = true;
      }
    removed += changed;
    i = k;
  }
  // Any other long run of base64 (line breaks allowed): words of text are short, encoded files are not.
  for (std::size_t i = 0; i < size;) {
    if (!is_base64(data[i])) {
      ++i;
      continue;
    }
    std::size_t end = i, letters = 0;
    bool changed = false;
    while (end < size && (is_base64(data[end]) || data[end] == '\n' || data[end] == '\r')) {
      letters += is_base64(data[end]);
      changed = changed || (is_base64(data[end]) && data[end] != 'A' && data[end] != '=');
      ++end;
    }
    if (letters >= min_run && changed) {
      for (std::size_t k = i; k < end; ++k)
        if (is_base64(data[k]) && data[k] != '=') data[k] = 'A';
      ++removed;
    }
    i = end;
  }
  return removed;
}

std::vector<std::string> pictures_in_photo_metadata(const std::vector<std::uint8_t>& file) {
  std::vector<std::string> found;
  // PNG: its eXIf chunk and its text, compressed or not, and the profiles kept as hex text (an EXIF block
  // with its thumbnail, as ImageMagick writes it).
  if (file.size() >= 8 && std::memcmp(file.data(), kPngSignature, 8) == 0) {
    for (PngChunk& c : png_chunks(file)) {
      int n = 0;
      std::string where = fmt::format("the {} chunk", c.type);
      if (c.type == "eXIf") {
        n = remove_exif_pictures(c.data.data(), c.data.size());
      } else if (std::optional<PngText> t = png_text(c)) {
        where = fmt::format("the {} chunk \"{}\"", c.type, t->keyword);
        n = remove_binary_pictures(t->text.data(), t->text.size()) + remove_base64_data(t->text.data(), t->text.size());
        if (t->keyword.starts_with("Raw profile type "))
          if (std::optional<std::vector<std::uint8_t>> bytes = raw_profile_bytes(t->text)) {
            // An EXIF profile starts as the APP1 segment's payload does ("Exif" and two zeros) or at its TIFF header.
            const std::size_t skip = starts(bytes->data(), bytes->size(), 0, "Exif") && bytes->size() > 6 ? 6 : 0;
            n += remove_exif_pictures(bytes->data() + skip, bytes->size() - skip) +
                 remove_base64_pictures(bytes->data(), bytes->size());
          }
      }
      if (n > 0) found.push_back(fmt::format("{} picture(s) in {}", n, where));
    }
    return found;
  }
  if (file.size() < 4 || file[0] != 0xFF || file[1] != 0xD8) return found;
  for (const auto& [marker, pos, len] : jpeg_header(file.data(), file.size()).segments) {
    // A copy: the functions below zero what they find, which is how they are counted here.
    std::vector<std::uint8_t> payload(file.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                                      file.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len));
    const std::string where = marker == 0xFE ? "a comment (COM)" : fmt::format("APP{}", marker - 0xE0);
    if (marker == 0xE0) {
      // JFIF's own thumbnail (its width and height bytes) and the JFXX extension, which holds one.
      const bool jfif_thumbnail = starts(payload.data(), payload.size(), 0, "JFIF") && payload.size() >= 14 &&
                                  payload[12] > 0 && payload[13] > 0;
      if (jfif_thumbnail || starts(payload.data(), payload.size(), 0, "JFXX")) found.push_back("a JFIF thumbnail (APP0)");
    } else if (marker == 0xE1 && starts(payload.data(), payload.size(), 0, "Exif")) {
      if (const int n = payload.size() > 6 ? remove_exif_pictures(payload.data() + 6, payload.size() - 6) : 0; n > 0)
        found.push_back(fmt::format("{} picture(s) in the EXIF block (its thumbnail or a maker note's preview)", n));
    } else if (marker == 0xE1 && starts(payload.data(), payload.size(), 0, "http://ns.adobe.com/xmp/extension/")) {
      found.push_back("extended XMP (where phones keep a portrait photo's original and depth map)");
    } else if (((marker >= 0xE1 && marker <= 0xEF) || marker == 0xFE) && !starts(payload.data(), payload.size(), 0, "ICC_PROFILE")) {
      const bool known = marker == 0xFE || (marker == 0xED && starts(payload.data(), payload.size(), 0, "Photoshop 3.0")) ||
                         (marker == 0xE1 && starts(payload.data(), payload.size(), 0, "http://ns.adobe.com/xap/1.0/"));
      const int binary = remove_binary_pictures(payload.data(), payload.size());
      const int text = remove_base64_data(payload.data(), payload.size());
      if (binary + text > 0) found.push_back(fmt::format("{} picture(s) or encoded data in {}", binary + text, where));
      // A segment of unknown content may hold a picture no search finds (a WebP, raw pixels): anonymize drops
      // such segments; here they are named when large enough to hold one.
      else if (!known && payload.size() >= 1024)
        found.push_back(fmt::format("{} of {} bytes whose content roadveil cannot check for pictures", where, payload.size()));
    }
  }
  // After the picture's end: a second picture (a multi-picture file's, a phone's depth map or preview).
  if (const Extent main = jpeg_extent(file.data(), file.size(), 0); main.kind == Extent::Ends) {
    for (std::size_t i = main.end; i + 3 <= file.size(); ++i)
      if (file[i] == 0xFF && file[i + 1] == 0xD8 && file[i + 2] == 0xFF &&
          jpeg_extent(file.data(), file.size(), i).kind != Extent::NotPicture) {
        found.push_back("a second picture after the end of the first (a multi-picture file, a phone's preview or depth map)");
        break;
      }
  }
  return found;
}

int exif_orientation(const std::uint8_t* data, std::size_t size) {
  const std::optional<Tiff> tiff = Tiff::of(const_cast<std::uint8_t*>(data), size);  // only read here
  if (!tiff) return 1;
  const Tiff& t = *tiff;
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

int tiff_pages(const std::uint8_t* data, std::size_t size) {
  const std::optional<Tiff> tiff = Tiff::of(const_cast<std::uint8_t*>(data), size);  // only read here
  if (!tiff) return 0;
  const Tiff& t = *tiff;
  int pages = 0;
  std::set<std::size_t> seen;
  for (std::size_t ifd = t.u32(4); ifd >= 8 && t.has(ifd, 2) && seen.insert(ifd).second;) {
    const std::size_t count = t.u16(ifd);
    if (!t.has(ifd + 2, 12 * count + 4)) break;
    std::uint32_t subfile_type = 0;  // NewSubfileType (254), LONG or SHORT
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t entry = ifd + 2 + 12 * k;
      if (t.u16(entry) == 254) subfile_type = t.u16(entry + 2) == 3 ? t.u16(entry + 8) : t.u32(entry + 8);
    }
    if (!(subfile_type & 1)) ++pages;
    ifd = t.u32(ifd + 2 + 12 * count);
  }
  return pages;
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
