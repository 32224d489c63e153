#include "media/picture_header.hpp"

#include "media/photo_metadata.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <functional>
#include <string_view>
#include <vector>

namespace roadveil::media {
namespace {

// Bytes of the file at a position: from memory, or read from the file (a TIFF's IFD may lie at its end).
using ReadAt = std::function<bool(std::uint64_t pos, std::size_t n, std::uint8_t* out)>;

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t be32(const std::uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
std::uint32_t le16(const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

std::optional<PictureHeader> made(std::uint64_t width, std::uint64_t height, double bytes_per_pixel) {
  if (width == 0 || height == 0 || width > 1u << 30 || height > 1u << 30) return std::nullopt;
  return PictureHeader{static_cast<int>(width), static_cast<int>(height), bytes_per_pixel};
}

std::optional<PictureHeader> jpeg(std::span<const std::uint8_t> b) {
  const JpegHeader header = jpeg_header(b.data(), b.size());
  for (const JpegSegment& s : header.segments) {
    // Start of frame: C0-CF but DHT (C4), JPG (C8) and DAC (CC).
    if (s.marker < 0xC0 || s.marker > 0xCF || s.marker == 0xC4 || s.marker == 0xC8 || s.marker == 0xCC) continue;
    const std::uint8_t* p = b.data() + s.pos + 4;
    if (s.len < 8 || s.pos + 2 + s.len > b.size()) return std::nullopt;
    const int precision = p[0], components = p[5];
    if (s.len < 8u + 3u * static_cast<std::size_t>(components) || components < 1) return std::nullopt;
    int h_max = 1, v_max = 1;
    for (int c = 0; c < components; ++c) {
      h_max = std::max(h_max, p[7 + 3 * c] >> 4);
      v_max = std::max(v_max, p[7 + 3 * c] & 15);
    }
    // Each component holds (its sampling / the largest) of the pixels: 1.5 for 4:2:0, 3 for 4:4:4, 4 for CMYK.
    double samples = 0;
    for (int c = 0; c < components; ++c)
      samples += static_cast<double>((p[7 + 3 * c] >> 4) * (p[7 + 3 * c] & 15)) / (h_max * v_max);
    return made(be16(p + 3), be16(p + 1), samples * (precision > 8 ? 2 : 1));
  }
  return std::nullopt;
}

std::optional<PictureHeader> png(std::span<const std::uint8_t> b) {
  if (b.size() < 33 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return std::nullopt;
  const int depth = b[24], colour = b[25];
  double samples = 0;
  switch (colour) {
    case 0: samples = 1; break;
    case 2: samples = 3; break;
    case 3: return made(be32(b.data() + 16), be32(b.data() + 20), 5);  // a palette index, unpacked to RGBA
    case 4: samples = 2; break;
    case 6: samples = 4; break;
    default: return std::nullopt;
  }
  return made(be32(b.data() + 16), be32(b.data() + 20), samples * (depth == 16 ? 2 : 1));
}

std::optional<PictureHeader> webp(std::span<const std::uint8_t> b) {
  std::optional<PictureHeader> canvas;
  // The chunks after "RIFF" size "WEBP": VP8X gives the canvas, VP8 (lossy, decoded as 4:2:0, with its alpha
  // plane where an ALPH chunk came before it) or VP8L (lossless, decoded as ARGB) the picture's own.
  bool alpha = false;
  for (std::size_t pos = 12; pos + 8 <= b.size();) {
    const std::string_view fourcc(reinterpret_cast<const char*>(b.data() + pos), 4);
    const std::uint64_t size = le32(b.data() + pos + 4);
    const std::uint8_t* d = b.data() + pos + 8;
    const std::size_t have = b.size() - pos - 8;
    if (fourcc == "VP8X" && have >= 10) {
      alpha = (d[0] & 0x10) != 0;
      // Two 24-bit fields at 4 and 7: ten bytes (a 32-bit read at 7 went one past them).
      const auto u24 = [](const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16); };
      canvas = made(1 + u24(d + 4), 1 + u24(d + 7), 4);
    } else if (fourcc == "ALPH") {
      alpha = true;
    } else if (fourcc == "VP8 " && have >= 10 && d[3] == 0x9D && d[4] == 0x01 && d[5] == 0x2A) {
      const double bytes = alpha ? 2.5 : 1.5;
      if (canvas) return made(canvas->width, canvas->height, bytes);
      return made(le16(d + 6) & 0x3FFF, le16(d + 8) & 0x3FFF, bytes);
    } else if (fourcc == "VP8L" && have >= 5 && d[0] == 0x2F) {
      if (canvas) return made(canvas->width, canvas->height, 4);
      const std::uint32_t bits = le32(d + 1);
      return made(1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), 4);
    }
    pos += 8 + size + (size & 1);
  }
  return canvas;  // an animation's canvas (refused later), or the picture chunk lies beyond what was read
}

// Netpbm PGM (P5) and PPM (P6): "P6 <width> <height> <maxval>", whitespace and # comments between.
std::optional<PictureHeader> pnm(std::span<const std::uint8_t> b) {
  std::size_t pos = 2;
  std::uint64_t values[3] = {0, 0, 0};
  for (std::uint64_t& v : values) {
    for (;;) {
      while (pos < b.size() && std::isspace(b[pos])) ++pos;
      if (pos < b.size() && b[pos] == '#') {
        while (pos < b.size() && b[pos] != '\n') ++pos;
        continue;
      }
      break;
    }
    if (pos >= b.size() || !std::isdigit(b[pos])) return std::nullopt;
    while (pos < b.size() && std::isdigit(b[pos]) && v < (1u << 31)) v = v * 10 + (b[pos++] - '0');
  }
  const double samples = b[1] == '6' ? 3 : 1;
  return made(values[0], values[1], samples * (values[2] > 255 ? 2 : 1));
}

std::optional<PictureHeader> tiff(const ReadAt& read) {
  std::array<std::uint8_t, 8> h{};
  if (!read(0, 8, h.data())) return std::nullopt;
  const bool big = h[0] == 'M';
  auto u16 = [big](const std::uint8_t* p) { return big ? be16(p) : le16(p); };
  auto u32 = [big](const std::uint8_t* p) { return big ? be32(p) : le32(p); };
  if (!((h[0] == 'I' && h[1] == 'I') || (h[0] == 'M' && h[1] == 'M')) || u16(h.data() + 2) != 42) return std::nullopt;
  const std::uint32_t ifd = u32(h.data() + 4);
  std::array<std::uint8_t, 2> count_bytes{};
  if (!read(ifd, 2, count_bytes.data())) return std::nullopt;
  const std::uint32_t count = u16(count_bytes.data());
  std::vector<std::uint8_t> entries(12 * static_cast<std::size_t>(count));
  if (!read(ifd + 2, entries.size(), entries.data())) return std::nullopt;
  std::uint64_t width = 0, height = 0, samples = 1, bits = 8;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t* e = entries.data() + 12 * i;
    const std::uint32_t tag = u16(e), type = u16(e + 2);
    // SHORT (3) or LONG (4); the first value of a list (BitsPerSample has one per sample, all alike in practice).
    const std::uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    const std::uint32_t n = u32(e + 4);
    if (tag == 256) width = value;
    else if (tag == 257) height = value;
    else if (tag == 277) samples = value;
    else if (tag == 258) {
      if (type == 3 && n > 2) {  // the list lies elsewhere
        std::array<std::uint8_t, 2> first{};
        if (!read(u32(e + 8), 2, first.data())) return std::nullopt;
        bits = u16(first.data());
      } else {
        bits = value;
      }
    }
  }
  if (samples == 0 || samples > 16 || bits == 0 || bits > 64) return std::nullopt;
  return made(width, height, static_cast<double>(samples) * std::max<std::uint64_t>(1, bits / 8));
}

std::optional<PictureHeader> header_of(std::span<const std::uint8_t> b, const ReadAt& read) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    std::optional<PictureHeader> h = jpeg(b);
    if (h) h->jpeg = true;
    return h;
  }
  if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) return png(b);
  if (b.size() >= 12 && std::memcmp(b.data(), "RIFF", 4) == 0 && std::memcmp(b.data() + 8, "WEBP", 4) == 0) return webp(b);
  if (b.size() >= 8 && (std::memcmp(b.data(), "II*\0", 4) == 0 || std::memcmp(b.data(), "MM\0*", 4) == 0)) return tiff(read);
  if (b.size() >= 3 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') && std::isspace(b[2])) return pnm(b);
  if (b.size() >= 10 && std::memcmp(b.data(), "GIF8", 4) == 0)
    return made(le16(b.data() + 6), le16(b.data() + 8), 5);  // palette frames, unpacked to RGBA
  if (b.size() >= 30 && b[0] == 'B' && b[1] == 'M') {
    const std::int32_t height = static_cast<std::int32_t>(le32(b.data() + 22));
    const std::uint32_t bits = le16(b.data() + 28);
    return made(le32(b.data() + 18), static_cast<std::uint64_t>(height < 0 ? -static_cast<std::int64_t>(height) : height),
                bits <= 8 ? 5 : std::max(3.0, bits / 8.0));
  }
  return std::nullopt;
}

}  // namespace

std::optional<PictureHeader> picture_header(std::span<const std::uint8_t> bytes) {
  return header_of(bytes, [bytes](std::uint64_t pos, std::size_t n, std::uint8_t* out) {
    if (pos > bytes.size() || n > bytes.size() - pos) return false;
    std::copy_n(bytes.data() + pos, n, out);
    return true;
  });
}

std::optional<PictureHeader> read_picture_header(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  // A JPEG's frame header follows its metadata segments (EXIF, XMP, a phone's extended XMP: up to a few MB).
  std::vector<std::uint8_t> start(std::size_t{8} << 20);
  file.read(reinterpret_cast<char*>(start.data()), static_cast<std::streamsize>(start.size()));
  start.resize(static_cast<std::size_t>(file.gcount()));
  file.clear();
  return header_of(start, [&file](std::uint64_t pos, std::size_t n, std::uint8_t* out) {
    file.clear();
    file.seekg(static_cast<std::streamoff>(pos));
    file.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    return file && static_cast<std::size_t>(file.gcount()) == n;
  });
}

}  // namespace roadveil::media
