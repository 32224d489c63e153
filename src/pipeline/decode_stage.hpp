#pragma once
// A video's first stage, on a thread of its own: reads the input into items (each decoded frame, numbered, and
// the packets of the streams copied beside it, in file order) and queues them for detection. It takes an item
// only when the pool has room for one more decoded frame, so the frames held across all stages stay bounded.
#include "media/input_file.hpp"
#include "media/video_timeline.hpp"
#include "pipeline/bounded_queue.hpp"
#include "pipeline/segments.hpp"
#include "pipeline/video_item.hpp"

namespace roadveil::pipeline {

struct DecodeStage {
  media::InputFile& in;  // positioned where reading starts (a part: the keyframe before its context)
  // A split run's part: only its video, the frames numbered on the whole file's timeline, from the context's
  // first frame to its last. Null: the whole file, every stream.
  const media::VideoTimeline* timeline = nullptr;
  const SegmentPlan* plan = nullptr;
  ItemPool& pool;
  BoundedQueue<ItemPtr>& decoded;
  Failure& failure;

  // The thread's body: returns at the input's end, a failure of any stage, or a closed queue; closes `decoded`.
  void run();
};

}  // namespace roadveil::pipeline
