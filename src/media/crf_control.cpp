#include "media/crf_control.hpp"

#include <algorithm>
#include <cmath>

namespace roadveil::media {

CrfControl::CrfControl(const Settings& settings) : s_(settings), crf_(settings.floor), highest_(settings.floor) {}

void CrfControl::frame_sent(std::int64_t pts, std::int64_t source_bytes, bool source_keyframe) {
  in_encoder_.push_back({pts, source_bytes, source_keyframe});
  // A decision taken while the encoder is flushed reaches no frame: the highest CRF is the one frames got.
  highest_ = std::max(highest_, crf_);
  // An encoder never holds this many frames; a packet whose frame was not sent (none should be) must not let
  // the list grow.
  if (in_encoder_.size() > 1024) in_encoder_.pop_front();
}

std::optional<double> CrfControl::packet_received(std::int64_t pts, std::int64_t bytes) {
  SentFrame frame{pts, 0, false};
  // Packets leave in decoding order, which reorders frames a little: the frame is near the front.
  for (auto it = in_encoder_.begin(); it != in_encoder_.end(); ++it) {
    if (it->pts == pts) {
      frame = *it;
      in_encoder_.erase(it);
      break;
    }
  }
  if (skip_ > 0) {
    --skip_;
    return std::nullopt;
  }
  if (frame.source_bytes <= 0) return std::nullopt;
  const bool first = source_ == 0;
  // The first window closes after its packets (it starts at keyframes of both); the others before the
  // source's keyframe that starts a group of pictures, once long enough, or at their longest.
  const bool closes = first ? window_packets_ >= s_.first_window
                            : window_packets_ >= s_.max_window || (frame.source_keyframe && window_packets_ >= s_.window);
  if (closes) {
    // This packet was coded at the CRF it closes the window of: after a change it is not counted either.
    if (const auto changed = decide(first)) return changed;
  }
  window_out_ += static_cast<double>(bytes);
  window_source_ += static_cast<double>(frame.source_bytes);
  ++window_packets_;
  return std::nullopt;
}

std::optional<double> CrfControl::decide(bool first) {
  // What the windows would have cost at the floor CRF, from what they cost at theirs: an estimate of the
  // source that does not move when the CRF does, and steadies as windows add up (one window's ratio is
  // noisy: the encoder's own keyframes and scene cuts fall in some windows and not in others).
  out_at_floor_ = s_.memory * out_at_floor_ + window_out_ * std::exp2((crf_ - s_.floor) / 6.0);
  source_ = s_.memory * source_ + window_source_;
  window_packets_ = 0;
  window_out_ = window_source_ = 0;
  const double ratio_at_floor = out_at_floor_ / source_;
  const double wanted = std::clamp(std::round((s_.floor + 6.0 * std::log2(ratio_at_floor / s_.target)) * 2.0) / 2.0,
                                   s_.floor, s_.ceiling);
  // Small corrections wait: they would follow the noise.
  if (std::abs(wanted - crf_) < (first ? 0.5 : s_.deadband)) return std::nullopt;
  crf_ = wanted;
  ++changes_;
  // The frames already in the encoder may still be coded at the old CRF: leave them out of the next window.
  skip_ = static_cast<int>(in_encoder_.size());
  return crf_;
}

}  // namespace roadveil::media
