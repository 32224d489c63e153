#pragma once
// Image dimensions from the file header alone: the JPEG SOFn segment or the PNG IHDR chunk. Reads a few
// hundred bytes at most (JPEG: the marker segments before the frame header, skipped by their lengths), never
// decodes pixels, so sizing a million Open Images files costs one small read each.
#include <filesystem>
#include <optional>
#include <string>

namespace roadveil::dataset {

struct ImageSize {
  int width = 0, height = 0;
  int depth = 0;  // colour channels: 1 grey, 3 RGB/YCbCr/palette, 4 CMYK/RGBA
};

// nullopt when the file cannot be opened, is neither JPEG nor PNG, or its header is truncated or invalid.
// The size is the stored one: EXIF orientation is not applied (annotation tools disagree on it).
std::optional<ImageSize> read_image_size(const std::filesystem::path& path);

// Finds `<dir>/<stem>.<ext>` for the usual image extensions (jpg, jpeg, png, in either case); the first that
// exists, or empty.
std::filesystem::path find_image(const std::filesystem::path& dir, const std::string& stem);

}  // namespace roadveil::dataset
