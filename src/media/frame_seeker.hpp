#pragma once
// Random access to the frames of a video by index, as the anonymizer numbers them (presentation order,
// from 0), for the review server: a person jumps to frame 4711, steps back and forth, and must see exactly
// the frame whose regions the regions file lists under that number.
//
// The frame -> timestamp table comes from one pass over the video's packets (no decoding: reading an hour
// of 1080p takes seconds); a frame is then decoded from the keyframe before it. Stepping forward a few
// frames continues decoding instead of seeking again.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "media/ffmpeg_util.hpp"
#include "media/input_file.hpp"

namespace roadveil::media {

class FrameSeeker {
 public:
  // Opens the video and builds its frame table. Throws Error naming the file.
  explicit FrameSeeker(const std::filesystem::path& path);
  ~FrameSeeker();

  std::int64_t frame_count() const { return static_cast<std::int64_t>(timestamps_.size()); }
  // Timestamp of frame `index` in the video stream's time base.
  std::int64_t timestamp(std::int64_t index) const { return timestamps_.at(static_cast<std::size_t>(index)); }
  const std::vector<std::int64_t>& timestamps() const { return timestamps_; }
  const VideoInfo& video() const { return input_.video(); }

  // The decoded frame `index` (decoder's pixel format). Throws Error when it is outside the video or cannot
  // be decoded. Not thread-safe: one caller at a time.
  FramePtr frame(std::int64_t index);

 private:
  bool decode_until(std::int64_t target_pts, AVFrame* out);

  InputFile input_;
  std::vector<std::int64_t> timestamps_;
  PacketPtr packet_;
  FramePtr scratch_;
  std::int64_t position_ = -1;  // index of the frame the decoder delivered last, -1 after a seek
};

}  // namespace roadveil::media
