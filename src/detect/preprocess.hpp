#pragma once
// Scales a crop of a decoded frame, in whatever pixel format the decoder produced, straight into a
// detector's planar float input tensor (libswscale does the colour conversion on the small copy only).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/geometry.hpp"

extern "C" {
#include <libavutil/frame.h>
}

struct SwsContext;

namespace roadveil::detect {

enum class ChannelOrder { RGB, BGR };

struct TensorFormat {
  ChannelOrder order = ChannelOrder::BGR;
  float scale = 1.0f;     // multiplies the 0..255 value
  float pad_value = 0.0f; // value (after scale) of the padding right and below the picture
  int align = 32;         // tensor sides are multiples of this
};

// Maps tensor coordinates back to source pixels: source = offset + tensor / scale.
struct TensorMapping {
  float scale = 1;
  float offset_x = 0, offset_y = 0;
  int content_w = 0, content_h = 0;  // the picture inside the tensor
  int tensor_w = 0, tensor_h = 0;

  Box to_source(const Box& b) const {
    return {offset_x + b.x1 / scale, offset_y + b.y1 / scale, offset_x + b.x2 / scale, offset_y + b.y2 / scale};
  }
};

// Tensor size for a crop of `crop_w` x `crop_h` scaled so that its longer side is at most `max_side` (never
// enlarged beyond `max_upscale`), each side rounded up to the alignment.
TensorMapping plan_tensor(const PixelRect& crop, int max_side, float max_upscale, int align);

class Preprocessor {
 public:
  Preprocessor() = default;
  // Uses `planes` for its colour-converted scratch (null: its own): see RuntimeOptions::shared_planes.
  explicit Preprocessor(std::shared_ptr<std::vector<std::uint8_t>> planes) {
    if (planes) planes_ = std::move(planes);
  }
  ~Preprocessor();
  Preprocessor(const Preprocessor&) = delete;
  Preprocessor& operator=(const Preprocessor&) = delete;

  // Writes the crop of `frame` into `tensor` ([3, mapping.tensor_h, mapping.tensor_w] floats) as planned.
  // The crop is widened to the chroma grid when the format is subsampled; the mapping is adjusted to it.
  void run(const AVFrame& frame, PixelRect crop, TensorMapping& mapping, const TensorFormat& format, float* tensor);

  // Crops scaled, and scaler set-ups that took (the rest reused a kept one).
  std::int64_t crops() const { return crops_; }
  std::int64_t scalers_created() const { return scalers_created_; }

 private:
  // A libswscale context is made for one source size, format and destination size; making one took ~53 us,
  // about 40% of scaling a 160 px crop with it (bench/detect_bench.cpp, BM_Preprocess_TrackCropNewSize against
  // BM_Preprocess_TrackCrop). Keyframes and the windows around tracked objects come back to the same sizes:
  // the last few contexts are kept (on 60 s of 720p, 1,306 set-ups for 2,505 crops instead of 1,872).
  struct Scaler {
    int src_w = 0, src_h = 0, format = -1, dst_w = 0, dst_h = 0;
    SwsContext* context = nullptr;
    std::uint64_t last_use = 0;
  };
  SwsContext* scaler_for(int src_w, int src_h, int format, int dst_w, int dst_h);

  std::vector<Scaler> scalers_;       // at most kScalers
  std::uint64_t uses_ = 0;
  std::int64_t crops_ = 0, scalers_created_ = 0;
  // GBRP scratch, grown as needed; shared by the networks of one detector (they run one after the other).
  std::shared_ptr<std::vector<std::uint8_t>> planes_ = std::make_shared<std::vector<std::uint8_t>>();
};

// The crop widened so that it starts and ends on the chroma sample grid of `format`.
PixelRect align_crop_to_chroma(const PixelRect& crop, int pixel_format, int frame_w, int frame_h);

}  // namespace roadveil::detect
