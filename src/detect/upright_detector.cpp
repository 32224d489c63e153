#include "detect/upright_detector.hpp"

#include "media/rotation.hpp"

namespace roadveil::detect {

UprightDetector::UprightDetector(Detector& inner, int degrees, int stored_width, int stored_height)
    : inner_(inner), degrees_(degrees), width_(stored_width), height_(stored_height) {}

const AVFrame& UprightDetector::upright(const AVFrame& frame) {
  // Several windows of one frame are searched in a row: turn it once.
  if (last_ != &frame || last_pts_ != frame.pts || !buffer_) {
    media::rotate_into(frame, degrees_, buffer_);
    last_ = &frame;
    last_pts_ = frame.pts;
  }
  return *buffer_;
}

void UprightDetector::set_pixel_aspect(float aspect) {
  stored_aspect_ = aspect > 0 ? aspect : 1.0f;
  inner_.set_pixel_aspect(degrees_ % 180 != 0 ? 1.0f / stored_aspect_ : stored_aspect_);
}

void UprightDetector::to_stored(Detections& found) {
  const auto stored = [&](const Box& b) { return media::box_in_stored_frame(b, degrees_, width_, height_); };
  for (Detection& d : found) d.box = stored(d.box);
  occupants_.clear();
  for (const Occupant& o : inner_.occupants()) occupants_.push_back({stored(o.region), stored(o.vehicle), o.score, o.source});
  vehicles_.clear();
  for (const Box& v : inner_.vehicles()) vehicles_.push_back(stored(v));
}

Detections UprightDetector::detect_whole(const AVFrame& frame, const WholeFramePass& pass) {
  Detections found = inner_.detect_whole(upright(frame), pass);
  to_stored(found);
  return found;
}

// (Without it a sideways video had no glances: the Detector default looks at nothing.)
Detections UprightDetector::detect_glance(const AVFrame& frame, const GlancePass& pass) {
  Detections found = inner_.detect_glance(upright(frame), pass);
  to_stored(found);
  return found;
}

Detections UprightDetector::detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets, float scale) {
  // An upright row is a stored column after a quarter turn, shown stored_aspect_ times a stored row's height.
  const float upright_scale = degrees_ % 180 != 0 ? scale * stored_aspect_ : scale;
  Detections found =
      inner_.detect_around(upright(frame), media::box_in_upright_frame(window, degrees_, width_, height_), targets, upright_scale);
  to_stored(found);
  return found;
}

Box UprightDetector::search_area(const Detection& d) const {
  Detection up = d;
  up.box = media::box_in_upright_frame(d.box, degrees_, width_, height_);
  return media::box_in_stored_frame(inner_.search_area(up), degrees_, width_, height_);
}

}  // namespace roadveil::detect
