// Whether a second look at twice the resolution tells the weak boxes of a keyframe (scored from half their
// network's threshold) that are real heads and plates from those that are not. For each image given on
// standard input (one path per line), runs the default keyframe pass with score factor 0.5 and, for each
// weak head, body-head or plate box, the search window the schedule would place around it at `scale`
// (argument; 0: the schedule's own scale, up to 2x) with the default thresholds. Prints one line per box:
// image, kind ("strong-..." for boxes over the threshold), score, the best score over the threshold of the
// same kind overlapping it (IoU > 0.3) in the second look (0: none), box. bench/zoom_clips/weak_confirm.py
// matches the lines with the clips' truth. Models from $ROADVEIL_MODELS.
//
//   # the keyframes (frames 0, 24, 47) of each clip of a roadveil_zoom_bench --queue work folder W:
//   for c in W/*.in.mp4; do
//     ffmpeg -v error -i $c -vf "select=eq(n\,0)+eq(n\,24)+eq(n\,47)" -vsync 0 frames/$(basename $c .in.mp4).%d.png
//   done
//   ls frames/*.png | build/bench/roadveil_weak_confirm_probe 0 > weak.txt
//   python3 bench/zoom_clips/weak_confirm.py weak.txt W
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "detect/frame_detector.hpp"
#include "media/image_file.hpp"

using namespace roadveil;
using namespace roadveil::detect;

int main(int argc, char** argv) {
  const float fixed_scale = argc > 1 ? std::stof(argv[1]) : 0.0f;
  DetectorConfig config;
  apply_quality(Quality::Balanced, config);
  FrameDetector detector(config);
  std::string image;
  while (std::cin >> image) {
    const media::FramePtr f = media::decode_image(image);
    const Box whole{0, 0, static_cast<float>(f->width), static_cast<float>(f->height)};
    WholeFramePass pass = WholeFramePass::video_keyframe();
    pass.score_factor = 0.5f;
    const Detections found = detector.detect_whole(*f, pass);
    for (const Detection& d : found) {
      if (!d.weak) {
        std::printf("%s strong-%s %.3f 0 %.1f %.1f %.1f %.1f\n", image.c_str(),
                    d.cls == ObjectClass::Plate ? "plate" : d.source == RegionSource::Head ? "head" : d.source == RegionSource::Context ? "body" : "face",
                    d.score, d.box.x1, d.box.y1, d.box.x2, d.box.y2);
        continue;
      }
      const Box area = detector.search_area(d);
      float w = std::max(64.0f, 2 * area.width()), h = std::max(64.0f, 2 * area.height());
      float scale;
      if (d.cls == ObjectClass::Plate) {
        w = std::max(w, 4 * d.box.width());
        h = std::max(h, 2 * d.box.width());
        scale = std::clamp(32.0f / std::max(1.0f, d.box.width()), 0.5f, 2.0f);
      } else if (d.source == RegionSource::Context) {
        scale = 1.0f;
      } else {
        scale = std::clamp(32.0f / std::sqrt(std::max(1.0f, d.box.area())), 0.5f, 2.0f);
      }
      if (fixed_scale > 0) scale = fixed_scale;
      const Box window = intersection(Box::from_center(area.cx(), area.cy(), w, h), whole);
      SearchTargets targets = Detector::targets_for(d);
      const Detections again = detector.detect_around(*f, window, targets, scale);
      float best = 0;
      for (const Detection& a : again)
        if (!a.weak && a.cls == d.cls && a.source == d.source && iou(a.box, d.box) > 0.3f) best = std::max(best, a.score);
      std::printf("%s %s %.3f %.3f %.1f %.1f %.1f %.1f\n", image.c_str(),
                  d.cls == ObjectClass::Plate ? "plate" : d.source == RegionSource::Head ? "head" : d.source == RegionSource::Context ? "body" : "face",
                  d.score, best, d.box.x1, d.box.y1, d.box.x2, d.box.y2);
    }
    std::fflush(stdout);
  }
  return 0;
}
