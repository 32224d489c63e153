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
// (networks and their working memory, x264's own frames, the decoder), ~230 MiB + 65 bytes a pixel with two
// encoder threads, and 11 bytes a pixel for each further one (x264 gives each frame thread frames of its own:
// ffmpeg -preset veryfast with 2, 4 and 8 threads peaked at 228, 273 and 357 MiB on 1080p).
// Fitted to peak RSS of bench/speed.sh's clip (25 fps) at three sizes on 2 cores, with frames held and
// decoding twice (`bench/speed.sh --runs 1 --seconds S --sizes WxH --config "" --config "--low-memory"`, MiB,
// measured / this estimate): 720p 392 / 444 and 276 / 333, 1080p 656 / 653 and 463 / 463, 2160p 1,920 /
// 1,919 and 1,155 / 1,160 (README, Memory limit). An estimate to decide by, not a promise: slower presets and
// larger network inputs take more.
std::uint64_t estimated_video_peak(int width, int height, std::size_t frame_bytes, std::size_t frames_held,
                                   int encoder_threads);

// Decoding twice, the frames still held: the decoder's queue (8), the keyframe interval the schedule holds
// until its closing keyframe is detected, the frame in detection and the one in encoding (2) — 28 measured
// at 25 fps at every size, the bound 35 — and the references the second decoder keeps.
inline std::size_t frames_held_decoding_twice(std::size_t interval) { return 8 + interval + 2; }

// How a video fits its memory limit (0 bytes: no limit known, it fits).
struct VideoMemoryPlan {
  std::size_t frames_bound = 0;      // decoded frames held at once when holding them
  std::uint64_t holding_frames = 0;  // estimated peak holding the frames
  std::uint64_t decoding_twice = 0;  // estimated peak decoding twice
  std::uint64_t budget = 0;          // three quarters of the limit: the rest is the page cache's and others'
  bool holding_fits() const { return budget == 0 || holding_frames <= budget; }
  bool twice_fits() const { return budget == 0 || decoding_twice <= budget; }
};
VideoMemoryPlan plan_video_memory(int width, int height, std::size_t frame_bytes, std::size_t frames_bound,
                                  std::size_t interval, int encoder_threads, std::uint64_t limit_bytes);

}  // namespace roadveil::pipeline
