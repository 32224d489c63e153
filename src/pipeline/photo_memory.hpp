#pragma once
// What anonymizing one photo takes in memory. A photo's memory grows with its pixels (the decoded picture, the
// encoder's copy of it and its output), unlike a video's, which holds a bounded number of frames: a folder of
// 180-megapixel panoramas run two at a time in a container of 2 GiB was killed by the kernel, the folder's
// remaining photos with it. So a photo is measured by its header before it is decoded: one that does not fit
// the limit is refused with a message, and two photos run at once only where both fit.
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "media/picture_header.hpp"

namespace roadveil::pipeline {

// Peak resident memory of anonymizing a photo of `file_bytes` with this header into `output`'s format: ~256 MiB
// for the networks, their working memory at photo sizes and the libraries; per pixel the decoded picture, a
// turned copy, the picture as the encoder takes it, the encoder's copy or output buffer and the output's bytes,
// libwebp's own pictures for a WebP, FFmpeg's MJPEG Huffman codes for a JPEG; the file read for its metadata.
// Measured peak RSS / this estimate (`/usr/bin/time -f %M roadveil anonymize -q PHOTO -o OUT`, MiB; 36 MP are
// 8000x4500, into their own format): 1080p JPEG 228 / 279, 24 MP JPEG of noise 528 / 637, 36 MP JPEG 426 / 620
// (an upscaled, smooth picture) and 684 / 824 (noisy), JPEG 4:4:4 516 / 868, PNG 579 / 889, 16-bit PNG 915 /
// ~1,400, TIFF 698 / 904, WebP 930 / ~1,300, 183 MP JPEG 1,550 / ~2,000. Generous (up to 1.7x) rather than
// short: it decides which photos are refused and which run beside which.
enum class PhotoOutput { Jpeg, Webp, Other };
std::uint64_t estimated_photo_peak(const media::PictureHeader& header, PhotoOutput output, std::uint64_t file_bytes);

// Photos in flight at once share one budget (three quarters of the memory limit, as for videos): a photo
// waits until what runs beside it leaves room for it. A photo larger than the budget on its own runs alone.
class PhotoMemoryBudget {
 public:
  explicit PhotoMemoryBudget(std::uint64_t budget_bytes) : budget_(budget_bytes) {}
  // Blocks until `bytes` fit beside what is in use (or nothing else is in use); 0 budget: never blocks.
  void acquire(std::uint64_t bytes);
  void release(std::uint64_t bytes);
  std::uint64_t budget() const { return budget_; }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  const std::uint64_t budget_;
  std::uint64_t in_use_ = 0;
};

}  // namespace roadveil::pipeline
