#include "pipeline/photo_memory.hpp"

#include <algorithm>

#include "media/image_file.hpp"

namespace roadveil::pipeline {

std::uint64_t estimated_photo_peak(const media::PictureHeader& header, PhotoOutput output, std::uint64_t file_bytes) {
  constexpr std::uint64_t kFixed = std::uint64_t{256} << 20;
  const double pixels = static_cast<double>(header.pixels());
  // The picture as decoded and a turned copy; as the encoder takes it (a PNG or TIFF is RGB, at least 3 bytes
  // a pixel, whatever the photo's format), the encoder's own copy or output buffer, the output's bytes (as
  // many for a photo of noise); 2.5 bytes a pixel of smaller buffers; libwebp's ARGB and YUV pictures.
  const double decoded = header.decoded_bytes_per_pixel;
  const double encoded = output == PhotoOutput::Jpeg ? decoded : std::max(decoded, 3.0);
  double bytes = pixels * (2 * decoded + 3 * encoded + 2.5 + (output == PhotoOutput::Webp ? 18 : 0));
  // FFmpeg's MJPEG encoder stores each Huffman code (4 bytes) before it writes it: as many as the picture has
  // coefficients that are not zero (every one in a noisy photo), about ten times a JPEG source's bytes. None
  // above media::kOptimalHuffmanTableBytes, where the standard's tables are used.
  if (output == PhotoOutput::Jpeg) {
    const std::uint64_t table = media::jpeg_huffman_table_bytes(header.width, header.height, AV_PIX_FMT_YUVJ420P);
    if (table <= media::kOptimalHuffmanTableBytes)
      bytes += static_cast<double>(header.jpeg ? std::min(table, 10 * file_bytes) : table);
  }
  return kFixed + static_cast<std::uint64_t>(bytes) + file_bytes;  // the file, read whole for its metadata
}

void PhotoMemoryBudget::acquire(std::uint64_t bytes) {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return budget_ == 0 || in_use_ == 0 || in_use_ + bytes <= budget_; });
  in_use_ += bytes;
}

void PhotoMemoryBudget::release(std::uint64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    in_use_ -= std::min(in_use_, bytes);
  }
  freed_.notify_all();
}

}  // namespace roadveil::pipeline
