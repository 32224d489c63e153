#pragma once
// What a photo's header says about its picture, read without decoding it: its size and the bytes each pixel
// takes once decoded. A photo's memory grows with its pixels (a 183-megapixel JPEG took 1.6 GB), and the run
// must know that before it spends it: FFmpeg's own probe decodes a PNG whole to learn its pixel format.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

namespace roadveil::media {

struct PictureHeader {
  int width = 0;
  int height = 0;
  // Bytes a pixel of the picture takes as FFmpeg 5.1 decodes it (and as roadveil then holds it: palette
  // pictures unpacked to RGBA beside the palette frame): 1.5 for a 4:2:0 JPEG, 6 for a 16-bit RGB PNG.
  double decoded_bytes_per_pixel = 0;
  bool jpeg = false;  // a JPEG file (its coded size says how much of a JPEG encoder's buffers it fills)
  std::uint64_t pixels() const { return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height); }
};

// JPEG (its frame header), PNG (IHDR), WebP (VP8, VP8L, VP8X), TIFF (the first IFD, wherever it lies), GIF,
// BMP, and PGM/PPM. None for other files or a header this does not know how to read.
std::optional<PictureHeader> read_picture_header(const std::filesystem::path& path);

// The same from a file's first bytes (a TIFF's first IFD must lie within them).
std::optional<PictureHeader> picture_header(std::span<const std::uint8_t> bytes);

}  // namespace roadveil::media
