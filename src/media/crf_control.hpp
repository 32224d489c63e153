#pragma once
// Outputs no bigger than their source (issue #17). Re-encoding at one constant quality spends bits on the
// source's own compression artefacts: at CRF 18 a 189 kbit/s 768x432 clip came out twice its size. x264 takes
// a new CRF between frames (FFmpeg's wrapper calls x264_encoder_reconfig when its "crf" option changes), so
// the encoder starts at the CRF asked for (the quality floor) and, window by window, compares what it spent
// with what the source spent on the same frames. x264's bitrate halves for about +6 CRF: each window's bytes
// are carried back to what they would have cost at the floor, and the CRF is set where that estimate,
// accumulated over the file (with a memory of some 10 windows), meets the target. Changes under one CRF step
// wait. Per-window ratios are too noisy to steer by: a controller that aimed at one ratio every window swung
// between CRF 18 and 28 on a real clip. Windows hold whole groups of pictures of the source, whose keyframes
// cost several times its other frames. Decisions depend on byte counts at fixed frame counts only, so one
// input always gives the same output (render must reproduce anonymize's pixels; x264's own capped rate
// control does not).
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace roadveil::media {

class CrfControl {
 public:
  struct Settings {
    double floor = 18;        // the CRF asked for: never a better quality than this is spent
    double ceiling = 28;      // never a worse one than this
    double target = 0.9;      // output video bytes over the source's, aimed at (at the floor, a rise needs > 1.01)
    double deadband = 1.0;    // CRF changes smaller than this wait (about +-12% of bitrate)
    int first_window = 24;    // packets before the first decision
    int window = 48;          // packets per window after it
    int max_window = 125;     // a window ends at the source's next keyframe after `window` packets, or here
    double memory = 0.9;      // weight of the earlier windows in the estimate, per window
  };
  explicit CrfControl(const Settings& settings);

  // A frame given to the encoder, with the bytes its source packet had (<= 0: unknown, not counted) and
  // whether the source coded it as a keyframe.
  void frame_sent(std::int64_t pts, std::int64_t source_bytes, bool source_keyframe);
  // A packet out of the encoder. Returns the CRF for the frames sent from now on when it changes.
  std::optional<double> packet_received(std::int64_t pts, std::int64_t bytes);

  double crf() const { return crf_; }
  double highest() const { return highest_; }  // of the CRFs in force when frames were sent
  int changes() const { return changes_; }

 private:
  std::optional<double> decide(bool first);  // at the end of a window

  Settings s_;
  double crf_, highest_;
  int changes_ = 0;
  struct SentFrame {
    std::int64_t pts, source_bytes;
    bool source_keyframe;
  };
  std::deque<SentFrame> in_encoder_;
  int skip_ = 0;                     // packets still coded with the CRF before the last change
  int window_packets_ = 0;
  double window_out_ = 0, window_source_ = 0;
  double out_at_floor_ = 0, source_ = 0;  // decayed sums over past windows
};

}  // namespace roadveil::media
