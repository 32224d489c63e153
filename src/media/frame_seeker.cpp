#include "media/frame_seeker.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace roadveil::media {

namespace {
// Stepping forward by at most this many frames decodes on instead of seeking: cheaper than going back to
// the keyframe for the next-frame key a reviewer presses most.
constexpr std::int64_t kDecodeOnLimit = 48;
}  // namespace

FrameSeeker::FrameSeeker(const std::filesystem::path& path) : input_(path), packet_(make_packet()), scratch_(make_frame()) {
  AVFormatContext* format = input_.format_context();
  for (unsigned i = 0; i < format->nb_streams; ++i)
    if (static_cast<int>(i) != input_.video_index()) format->streams[i]->discard = AVDISCARD_ALL;
  bool timestamps_known = true;
  while (av_read_frame(format, packet_.get()) >= 0) {
    if (packet_->stream_index == input_.video_index() && !(packet_->flags & AV_PKT_FLAG_DISCARD)) {
      const std::int64_t ts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
      if (ts == AV_NOPTS_VALUE) timestamps_known = false;
      timestamps_.push_back(ts);
    }
    av_packet_unref(packet_.get());
  }
  std::sort(timestamps_.begin(), timestamps_.end());
  const bool distinct = std::adjacent_find(timestamps_.begin(), timestamps_.end()) == timestamps_.end();
  input_.seek(INT64_MIN);
  if (!timestamps_known || !distinct || timestamps_.empty()) {
    // Packets without timestamps (raw streams): number the frames as the anonymizer does, by decoding.
    timestamps_.clear();
    while (true) {
      const ReadResult r = input_.read(scratch_.get(), packet_.get());
      if (r == ReadResult::End) break;
      if (r == ReadResult::VideoFrame) timestamps_.push_back(scratch_->pts);
      av_packet_unref(packet_.get());
    }
    input_.seek(INT64_MIN);
  }
  if (timestamps_.empty()) throw Error(path.string() + ": no video frame can be decoded");
}

FrameSeeker::~FrameSeeker() = default;

bool FrameSeeker::decode_until(std::int64_t target_pts, AVFrame* out) {
  while (true) {
    const ReadResult r = input_.read(scratch_.get(), packet_.get());
    if (r == ReadResult::End) return false;
    if (r == ReadResult::Packet) {
      av_packet_unref(packet_.get());
      continue;
    }
    if (scratch_->pts >= target_pts) {
      av_frame_unref(out);
      av_frame_move_ref(out, scratch_.get());
      return true;
    }
  }
}

FramePtr FrameSeeker::frame(std::int64_t index) {
  if (index < 0 || index >= frame_count())
    throw Error(input_.path().string() + ": frame " + std::to_string(index) + " is outside the video (frames 0-" +
                std::to_string(frame_count() - 1) + ")");
  const std::int64_t target = timestamp(index);
  FramePtr out = make_frame();
  if (position_ >= 0 && index > position_ && index - position_ <= kDecodeOnLimit && decode_until(target, out.get()) &&
      out->pts == target) {
    position_ = index;
    return out;
  }
  // Seek to the keyframe before the frame. With reordered frames (B-frames) a keyframe found by its
  // decoding time may still show after the target: then go back further, up to the start.
  const AVRational tb = input_.video().time_base;
  std::int64_t back = std::max<std::int64_t>(1, av_rescale_q(1, AVRational{1, 1}, tb));
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::int64_t seek_to = attempt == 4 ? INT64_MIN : target - (attempt == 0 ? 0 : back);
    input_.seek(seek_to);
    position_ = -1;
    bool first = true;
    bool too_late = false;
    while (decode_until(attempt == 4 ? target : INT64_MIN, out.get())) {
      if (first && out->pts > target && attempt < 4) {
        too_late = true;
        break;
      }
      first = false;
      if (out->pts >= target) {
        position_ = index;
        if (out->pts != target)
          throw Error(input_.path().string() + ": frame " + std::to_string(index) + " cannot be decoded (damaged?)");
        return out;
      }
    }
    if (!too_late) break;  // the video ended before the frame: damaged
    back *= 4;
  }
  throw Error(input_.path().string() + ": frame " + std::to_string(index) + " cannot be decoded (damaged?)");
}

}  // namespace roadveil::media
