// How much context the plate network needs around a plate (docs/eval.md, "Search windows between
// keyframes"): for each plate box read from standard input ("IMAGE x1 y1 x2 y2" per line), runs the plate
// network on windows 1.5-6 plate widths wide (half as high, at least 64 px), scaled so the plate is 24-96
// detector pixels wide, and counts the plates found (IoU > 0.3, score >= 0.35). Models from $ROADVEIL_MODELS.
//
//   # frames 12 and 36 of each zoom clip, with their MOT plate boxes (class 2):
//   for c in W/*.in.mp4; do for n in 12 36; do
//     ffmpeg -v error -y -i $c -vf "select=eq(n\,$n)" -vframes 1 ${c%.mp4}.$n.png
//     awk -F, -v n=$((n+1)) -v img=${c%.mp4}.$n.png '$1==n && $8==2 {print img, $3, $4, $3+$5, $4+$6}' ${c%.mp4}.mot.txt
//   done; done > plates.txt
//   build/bench/roadveil_plate_window_probe < plates.txt
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "detect/builtin_models.hpp"
#include "detect/detectors.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"

using namespace roadveil;
using namespace roadveil::detect;

int main() {
  const auto models = resolve_models_dir(std::nullopt);
  const auto network = make_builtin_network(ModelId::PlateYolov9, models, RuntimeOptions{0});
  ManifestNetwork& plate = *network;
  std::map<std::pair<float, float>, std::pair<int, int>> hits;  // (widths, plate px) -> (found, tried)
  std::string image;
  float x1, y1, x2, y2;
  while (std::cin >> image >> x1 >> y1 >> x2 >> y2) {
    const media::FramePtr f = media::decode_image(image);
    const Box truth{x1, y1, x2, y2};
    for (float widths : {1.5f, 2.0f, 3.0f, 4.0f, 6.0f})
      for (float plate_px : {24.0f, 32.0f, 48.0f, 64.0f, 96.0f}) {
        const float ww = std::max(64.0f, truth.width() * widths);
        const float wh = std::max({64.0f, truth.height() * widths * 1.5f, ww * 0.5f});
        const PixelRect crop = covering_rect(
            clamp_to(Box::from_center(truth.cx(), truth.cy(), ww, wh), static_cast<float>(f->width), static_cast<float>(f->height)),
            f->width, f->height);
        const float scale = std::clamp(plate_px / truth.width(), 0.25f, 2.0f);
        const int side = static_cast<int>(static_cast<float>(std::max(crop.w, crop.h)) * scale);
        bool found = false;
        for (const RawBox& b : plate.detect(*f, crop, side, 0.35f)) found = found || iou(b.box, truth) > 0.3f;
        auto& h = hits[{widths, plate_px}];
        h.first += found;
        ++h.second;
      }
  }
  std::printf("| window (plate widths) | plate px | found |\n| --- | --- | --- |\n");
  for (const auto& [k, v] : hits) std::printf("| %.1f | %.0f | %d/%d |\n", k.first, k.second, v.first, v.second);
  return 0;
}
