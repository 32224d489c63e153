#pragma once
// A video's last stage, on the thread that started the others: takes the detected frames in order, lets the
// tracker turn their detections into regions once it has seen enough later frames, redacts each frame in the
// decoder's own pixel format and writes it (media::OutputFile encodes and muxes), with the packets of the
// copied streams in the order they came; also the mask video, the regions file and the progress bar.
#include <cstdint>

#include "media/input_file.hpp"
#include "media/output_file.hpp"
#include "pipeline/anonymizer.hpp"
#include "pipeline/bounded_queue.hpp"
#include "pipeline/regions_file.hpp"
#include "pipeline/segments.hpp"
#include "pipeline/video_item.hpp"
#include "redact/redact_plan.hpp"
#include "track/tracker.hpp"

namespace roadveil::pipeline {

struct WriteStage {
  media::InputFile& in;
  // Regions given (a render): drawn as listed, the tracker passes the frames through. Null: the tracker's.
  const RegionsEntry* given = nullptr;
  // A split run's part: frames [first, end) are written, those around them are context. Null: every frame.
  const SegmentPlan* plan = nullptr;
  // Decoding twice: the frames' pixels, let go after detection, come again from this second decoding.
  media::InputFile* second = nullptr;
  track::Tracker& tracker;
  const redact::ClassStyles& styles;
  bool show_progress = false;
  media::OutputFile& out;
  media::OutputFile* mask_out = nullptr;  // white where hidden
  RegionsWriter* writer = nullptr;
  FileReport& report;  // counts of frames, detections and regions
  ItemPool& pool;
  BoundedQueue<ItemPtr>& decoded;
  BoundedQueue<ItemPtr>& detected;
  Failure& failure;
  std::int64_t written = 0;  // frames written

  // Returns when `detected` is closed and drained, or at a failure (set in `failure`, every queue closed).
  void run();
};

}  // namespace roadveil::pipeline
