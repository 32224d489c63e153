#include "dataset/image_size.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace roadveil::dataset {
namespace {

std::optional<ImageSize> png_size(std::ifstream& in) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4) + bit depth (1) + colour type (1).
  std::array<unsigned char, 26> h{};
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(h.data()), h.size())) return std::nullopt;
  if (std::memcmp(h.data() + 12, "IHDR", 4) != 0) return std::nullopt;
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t{h[at]} << 24) | (std::uint32_t{h[at + 1]} << 16) | (std::uint32_t{h[at + 2]} << 8) |
           std::uint32_t{h[at + 3]};
  };
  const std::uint32_t w = be32(16), ht = be32(20);
  if (w == 0 || ht == 0 || w > 0x7fffffff || ht > 0x7fffffff) return std::nullopt;
  int depth = 0;
  switch (h[25]) {
    case 0: depth = 1; break;  // greyscale
    case 2: depth = 3; break;  // RGB
    case 3: depth = 3; break;  // palette, shown as RGB
    case 4: depth = 2; break;  // grey + alpha
    case 6: depth = 4; break;  // RGBA
    default: return std::nullopt;
  }
  return ImageSize{static_cast<int>(w), static_cast<int>(ht), depth};
}

std::optional<ImageSize> jpeg_size(std::ifstream& in) {
  in.seekg(2);  // after SOI
  auto byte = [&]() -> int {
    const int c = in.get();
    return in ? c : -1;
  };
  while (true) {
    int c = byte();
    if (c < 0) return std::nullopt;
    if (c != 0xFF) return std::nullopt;  // every segment starts with a marker
    int marker = byte();
    while (marker == 0xFF) marker = byte();  // fill bytes
    if (marker < 0) return std::nullopt;
    // Markers without a length: TEM and RSTn; SOI again would be a broken file; EOI ends it.
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD8 || marker == 0xD9 || marker == 0xDA) return std::nullopt;  // no frame header before the scan
    const int hi = byte(), lo = byte();
    if (hi < 0 || lo < 0) return std::nullopt;
    const int length = (hi << 8) | lo;
    if (length < 2) return std::nullopt;
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range but not
    // the layout.
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      std::array<unsigned char, 6> f{};
      if (length < 8 || !in.read(reinterpret_cast<char*>(f.data()), f.size())) return std::nullopt;
      const int height = (f[1] << 8) | f[2];
      const int width = (f[3] << 8) | f[4];
      const int components = f[5];
      // Height 0 means "defined later by a DNL marker", which only a decoder can find.
      if (width == 0 || height == 0 || components == 0) return std::nullopt;
      return ImageSize{width, height, components};
    }
    in.seekg(length - 2, std::ios::cur);
    if (!in) return std::nullopt;
  }
}

}  // namespace

std::optional<ImageSize> read_image_size(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::array<unsigned char, 8> magic{};
  if (!in.read(reinterpret_cast<char*>(magic.data()), magic.size())) return std::nullopt;
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (std::memcmp(magic.data(), kPng, 8) == 0) return png_size(in);
  if (magic[0] == 0xFF && magic[1] == 0xD8) return jpeg_size(in);
  return std::nullopt;
}

std::filesystem::path find_image(const std::filesystem::path& dir, const std::string& stem) {
  static constexpr const char* kExtensions[] = {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"};
  std::error_code ec;
  for (const char* ext : kExtensions) {
    std::filesystem::path p = dir / (stem + ext);
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  return {};
}

}  // namespace roadveil::dataset
