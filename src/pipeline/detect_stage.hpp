#pragma once
// A video's second stage, on a thread of its own: the detection schedule (detect/detection_schedule.hpp) over
// the decoded frames, in order. A frame waits here until the schedule has completed it (its keyframe, or the
// next one and the searches back from it), then goes on to the write stage with its detections, the packets
// that came after it still behind it.
#include <filesystem>

#include "detect/detection_schedule.hpp"
#include "detect/frame_detector.hpp"
#include "media/input_file.hpp"
#include "pipeline/bounded_queue.hpp"
#include "pipeline/video_item.hpp"

namespace roadveil::pipeline {

struct DetectStage {
  // Null: regions are given (a render), nothing is detected and the items pass through.
  detect::FrameDetector* detector = nullptr;
  const media::VideoInfo& info;  // searched upright and as shown: its rotation and pixel aspect
  const detect::ScheduleConfig& schedule;
  // Decoding twice: a detected frame's pixels go back to the decoder, the write stage decodes it again.
  bool frames_decoded_again = false;
  const std::filesystem::path& input;  // named in what -v prints
  ItemPool& pool;
  BoundedQueue<ItemPtr>& decoded;
  BoundedQueue<ItemPtr>& detected;
  Failure& failure;

  // The thread's body: returns when `decoded` is closed and drained, or at a failure; closes `detected`.
  void run();
};

}  // namespace roadveil::pipeline
