#include "pipeline/video_memory.hpp"

namespace roadveil::pipeline {

std::uint64_t estimated_video_peak(int width, int height, std::size_t frame_bytes, std::size_t frames_held) {
  constexpr std::uint64_t kFixed = std::uint64_t{230} << 20;  // the networks, their arena, libraries
  constexpr std::uint64_t kBytesPerPixel = 65;                // x264's frames, the networks' largest inputs
  const std::uint64_t pixels = static_cast<std::uint64_t>(width > 0 ? width : 0) * static_cast<std::uint64_t>(height > 0 ? height : 0);
  return kFixed + kBytesPerPixel * pixels + static_cast<std::uint64_t>(frame_bytes) * frames_held;
}

VideoMemoryPlan plan_video_memory(int width, int height, std::size_t frame_bytes, std::size_t frames_bound,
                                  std::uint64_t limit_bytes) {
  VideoMemoryPlan plan;
  plan.holding_frames = estimated_video_peak(width, height, frame_bytes, frames_bound);
  plan.decoding_twice = estimated_video_peak(width, height, frame_bytes, kFramesHeldDecodingTwice);
  plan.budget = limit_bytes / 4 * 3;
  return plan;
}

}  // namespace roadveil::pipeline
