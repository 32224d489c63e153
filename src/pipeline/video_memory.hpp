#pragma once
// What anonymizing one video takes in memory, so that a run can choose, before it starts, between holding
// decoded frames from detection to encoding (the default: fastest) and decoding the video twice
// (--low-memory: ~7% more CPU, the frames held for the tracker become regions only), and never be killed by
// its control group's limit halfway through a file.
#include <cstddef>
#include <cstdint>
#include <string>

namespace roadveil::pipeline {

// Peak resident memory of `roadveil anonymize` on one video with the default networks and encoder preset:
// the frames it holds (`frames_held` decoded pictures of `frame_bytes`) plus what does not depend on them
// (networks and their working memory, x264's own frames, the decoder), ~230 MiB + 65 bytes a pixel.
// Fitted to peak RSS (`/usr/bin/time -f %M`) of bench/speed.sh's clip at three sizes, with frames held and
// decoding twice (MiB, measured / this estimate): 720p 392 / 444 and 277 / 332, 1080p 655 / 653 and
// 464 / 460, 2160p 1,919 / 1,919 and 1,154 / 1,148 (docs: README, Memory). An estimate to decide by, not a
// promise: slower presets and larger network inputs take more.
std::uint64_t estimated_video_peak(int width, int height, std::size_t frame_bytes, std::size_t frames_held);

// Decoding twice, the frames still held: the decoder's queue (8) and the frame being detected, the second
// decoder's queue and the references both decoders keep (~28 measured at every size, plus 6 for the second
// decoder's references).
inline constexpr std::size_t kFramesHeldDecodingTwice = 34;

// How a video fits its memory limit (0 bytes: no limit known, it fits).
struct VideoMemoryPlan {
  std::uint64_t holding_frames = 0;  // estimated peak holding the frames
  std::uint64_t decoding_twice = 0;  // estimated peak decoding twice
  std::uint64_t budget = 0;          // three quarters of the limit: the rest is the page cache's and others'
  bool holding_fits() const { return budget == 0 || holding_frames <= budget; }
  bool twice_fits() const { return budget == 0 || decoding_twice <= budget; }
};
VideoMemoryPlan plan_video_memory(int width, int height, std::size_t frame_bytes, std::size_t frames_bound,
                                  std::uint64_t limit_bytes);

}  // namespace roadveil::pipeline
