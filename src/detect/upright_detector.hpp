#pragma once
// A video stored sideways (a display matrix: phones filming in portrait) is searched upright: the networks
// were trained on upright pictures. Wraps the detector the schedule uses: each searched frame is turned once
// (into one reused buffer), search windows are turned with it, and what is found is turned back, so that the
// schedule, the tracker and the redaction all keep working in stored pixels.
#include "detect/frame_detector.hpp"
#include "media/ffmpeg_util.hpp"

namespace roadveil::detect {

class UprightDetector final : public Detector {
 public:
  // `degrees`: clockwise turn that shows the stored frames upright (90, 180 or 270); frames are w x h stored.
  UprightDetector(Detector& inner, int degrees, int stored_width, int stored_height);
  Detections detect_whole(const AVFrame& frame, const WholeFramePass& pass) override;
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets, float scale) override;
  Detections detect_glance(const AVFrame& frame, const GlancePass& pass) override;
  Box search_area(const Detection& d) const override;
  std::span<const Occupant> occupants() const override { return occupants_; }
  std::span<const Box> vehicles() const override { return vehicles_; }
  // `aspect` of a stored pixel. A quarter turn shows its height across, so the upright frame's pixels are
  // 1 / aspect as wide as high, and the wrapped detector's rows are the stored columns: detect_around's scale
  // (per stored row) is turned into one per upright row.
  void set_pixel_aspect(float aspect) override;
  float pixel_aspect() const override { return stored_aspect_; }

 private:
  const AVFrame& upright(const AVFrame& frame);
  // What the wrapped detector found, in stored pixels (the occupants and vehicles of the call too).
  void to_stored(Detections& found);

  Detector& inner_;
  int degrees_, width_, height_;
  float stored_aspect_ = 1.0f;
  media::FramePtr buffer_;
  const AVFrame* last_ = nullptr;  // the stored frame `buffer_` holds, by address and timestamp
  std::int64_t last_pts_ = 0;
  std::vector<Occupant> occupants_;
  std::vector<Box> vehicles_;
};

}  // namespace roadveil::detect
