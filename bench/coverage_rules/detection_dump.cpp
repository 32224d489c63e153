// Dumps every raw box of the three networks (low thresholds, whole frame and the 2x context crops) for a
// folder of images, one text line per box, so that region rules can be replayed offline by
// replay_rules.py without running the networks again (docs/eval.md, "How the default detection was chosen").
//
//   build/bench/roadveil_detection_dump IMAGES_DIR > dump.txt     (models from $ROADVEIL_MODELS)
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "detect/builtin_models.hpp"
#include "detect/detectors.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"

using namespace roadveil;
using namespace roadveil::detect;
namespace fs = std::filesystem;

namespace {
void print(const char* tag, const std::vector<RawBox>& boxes) {
  for (const RawBox& b : boxes)
    std::printf("%s %d %.3f %.1f %.1f %.1f %.1f\n", tag, b.label, b.score, b.box.x1, b.box.y1, b.box.x2, b.box.y2);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s IMAGES_DIR\n", argv[0]);
    return 2;
  }
  const auto models = resolve_models_dir(std::nullopt);
  const RuntimeOptions runtime{0};
  const auto face_network = make_builtin_network(ModelId::FaceYunet, models, runtime);
  const auto plate_network = make_builtin_network(ModelId::PlateYolov9, models, runtime);
  const auto context_network = make_builtin_network(ModelId::ContextYolox, models, runtime);
  ManifestNetwork &face = *face_network, &plate = *plate_network, &context = *context_network;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[1]))
    if (media::is_image_path(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const auto frame = media::decode_image(f);
    const int W = frame->width, H = frame->height;
    const PixelRect whole{0, 0, W, H};
    std::printf("image %s %d %d\n", f.filename().c_str(), W, H);
    const auto found = context.detect(*frame, whole, 1280, 0.15f);
    print("ctx", found);
    print("face1920", face.detect(*frame, whole, 1920, 0.2f));
    print("plate1280", plate.detect(*frame, whole, 1280, 0.1f));
    print("plate1920", plate.detect(*frame, whole, 1920, 0.1f));
    for (const RawBox& b : found) {
      if (b.score < 0.2f) continue;
      const float w = b.box.width(), h = b.box.height();
      const bool vehicle = b.label == kCar || b.label == kBus || b.label == kTruck || b.label == kMotorcycle;
      const Box area = vehicle ? Box::from_center(b.box.cx(), b.box.cy(), 1.1f * w, 1.1f * h)
                               : Box{b.box.x1 - 0.1f * w, b.box.y1 - 0.1f * h, b.box.x2 + 0.1f * w, b.box.y1 + 0.45f * h};
      const PixelRect r = covering_rect(area, W, H);
      if (r.w < 8 || r.h < 8) continue;
      const int side = 2 * std::max(r.w, r.h);
      if (vehicle) {
        print("platecrop2", plate.detect(*frame, r, side, 0.1f));
        print("facevcrop2", face.detect(*frame, r, side, 0.2f));
      } else if (b.label == kPerson) {
        print("facepcrop2", face.detect(*frame, r, side, 0.2f));
      }
    }
    std::fflush(stdout);
  }
  return 0;
}
