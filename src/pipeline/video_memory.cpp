#include "pipeline/video_memory.hpp"

#include <algorithm>

namespace roadveil::pipeline {

std::uint64_t estimated_video_peak(int width, int height, std::size_t frame_bytes, std::size_t frames_held,
                                   int encoder_threads) {
  constexpr std::uint64_t kFixed = std::uint64_t{230} << 20;  // the networks, their arena, libraries
  constexpr std::uint64_t kBytesPerPixel = 65;                // x264's frames (2 threads), the decoder
  constexpr std::uint64_t kBytesPerPixelPerThread = 11;       // each further encoder thread
  const std::uint64_t pixels = static_cast<std::uint64_t>(std::max(width, 0)) * static_cast<std::uint64_t>(std::max(height, 0));
  const std::uint64_t more_threads = static_cast<std::uint64_t>(std::max(encoder_threads - 2, 0));
  return kFixed + (kBytesPerPixel + kBytesPerPixelPerThread * more_threads) * pixels +
         static_cast<std::uint64_t>(frame_bytes) * frames_held;
}

VideoMemoryPlan plan_video_memory(int width, int height, std::size_t frame_bytes, std::size_t frames_bound,
                                  std::size_t interval, int encoder_threads, std::uint64_t limit_bytes) {
  VideoMemoryPlan plan;
  plan.frames_bound = frames_bound;
  plan.holding_frames = estimated_video_peak(width, height, frame_bytes, frames_bound, encoder_threads);
  plan.decoding_twice = estimated_video_peak(width, height, frame_bytes, frames_held_decoding_twice(interval), encoder_threads);
  plan.budget = limit_bytes / 4 * 3;
  return plan;
}

}  // namespace roadveil::pipeline
