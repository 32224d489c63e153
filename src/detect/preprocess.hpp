#pragma once
// Scales a crop of a decoded frame, in whatever pixel format the decoder produced, straight into a
// detector's planar float input tensor: 8-bit YUV, grey and RGB pictures (every common decoder output) are
// resampled and colour-converted directly from their planes, other formats through libswscale.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/geometry.hpp"

extern "C" {
#include <libavutil/frame.h>
}

struct SwsContext;
struct AVPixFmtDescriptor;

namespace roadveil::detect {

enum class ChannelOrder { RGB, BGR };

struct TensorFormat {
  ChannelOrder order = ChannelOrder::BGR;
  float scale = 1.0f;     // multiplies the 0..255 value
  float pad_value = 0.0f; // value (after scale) of the padding right and below the picture
  int align = 32;         // tensor sides are multiples of this
};

// Maps tensor coordinates back to source pixels: source = offset + tensor / scale, horizontally divided by
// scale * pixel_aspect as well.
struct TensorMapping {
  float scale = 1;  // tensor pixels per source row (vertically)
  // The width of a source pixel as shown, in units of its height (a video's sample aspect ratio): the networks
  // see the picture as it is shown, with square pixels, so a source pixel is pixel_aspect times as wide in the
  // tensor as it is high.
  float pixel_aspect = 1;
  float offset_x = 0, offset_y = 0;
  int content_w = 0, content_h = 0;  // the picture inside the tensor
  int tensor_w = 0, tensor_h = 0;

  float scale_x() const { return scale * pixel_aspect; }
  Box to_source(const Box& b) const {
    const float sx = scale_x();
    return {offset_x + b.x1 / sx, offset_y + b.y1 / scale, offset_x + b.x2 / sx, offset_y + b.y2 / scale};
  }
};

// Tensor size for a crop of `crop_w` x `crop_h` source pixels, each `pixel_aspect` times as wide as high when
// shown, scaled so that the longer side as shown is at most `max_side` (never enlarged beyond `max_upscale`
// of its size as shown), each side rounded up to the alignment.
TensorMapping plan_tensor(const PixelRect& crop, int max_side, float max_upscale, int align, float pixel_aspect = 1.0f);

class Preprocessor {
 public:
  Preprocessor() = default;
  // Uses `planes` for its colour-converted scratch (null: its own): see RuntimeOptions::shared_planes.
  explicit Preprocessor(std::shared_ptr<std::vector<std::uint8_t>> planes) {
    if (planes) planes_ = std::move(planes);
  }
  // From now on, `planes` (null: a buffer of its own).
  void use_planes(std::shared_ptr<std::vector<std::uint8_t>> planes) {
    planes_ = planes ? std::move(planes) : std::make_shared<std::vector<std::uint8_t>>();
  }
  ~Preprocessor();
  Preprocessor(const Preprocessor&) = delete;
  Preprocessor& operator=(const Preprocessor&) = delete;

  // Writes the crop of `frame` into `tensor` ([3, mapping.tensor_h, mapping.tensor_w] floats) as planned.
  // The crop is widened to the chroma grid when the format is subsampled; the mapping is adjusted to it.
  void run(const AVFrame& frame, PixelRect crop, TensorMapping& mapping, const TensorFormat& format, float* tensor);

  // Crops scaled; of them, those that took the libswscale path (formats other than 8-bit YUV, grey and
  // RGB), and the scaler set-ups that took (the rest reused a kept one).
  std::int64_t crops() const { return crops_; }
  std::int64_t swscale_crops() const { return swscale_crops_; }
  std::int64_t scalers_created() const { return scalers_created_; }
  // Bytes of scratch held (filters and rows of the direct path): grows to the largest crop, then stays.
  std::size_t scratch_bytes() const;

  // One axis of a resampling: for each output sample, `taps` source indices (clamped to the picture) and
  // weights that sum to 1. Downscaling averages over the source samples an output sample spans (a
  // triangle as wide as two of them: no aliasing of fine detail into false edges); upscaling interpolates
  // linearly between the two nearest.
  struct AxisFilter {
    int taps = 0;
    bool identity = false;  // one source sample per output sample, unchanged
    std::vector<int> index;
    std::vector<float> weight;
  };
  // `samples` source samples spanning `length` units (the crop's extent in this component's samples:
  // fractional for subsampled chroma at an odd frame edge) onto `outputs` samples.
  static void build_axis(AxisFilter& filter, int samples, float length, int outputs);

 private:
  // 8-bit YUV/grey/RGB: separable resampling of each component from its own plane at its own resolution,
  // then the colour conversion of the frame's matrix and range, per output row. No per-crop set-up beyond
  // the two filters of each resolution; the scratch only grows.
  bool run_direct(const AVFrame& frame, const AVPixFmtDescriptor& d, const PixelRect& crop, const TensorMapping& m,
                  const TensorFormat& format, float* tensor);
  void run_swscale(const AVFrame& frame, const AVPixFmtDescriptor& d, const PixelRect& crop, const TensorMapping& m,
                   const TensorFormat& format, float* tensor);

  // The libswscale path (formats run_direct does not take): a context is made for one source size, format and
  // destination size; making one took ~53 us,
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
  std::int64_t crops_ = 0, swscale_crops_ = 0, scalers_created_ = 0;
  AxisFilter luma_x_, luma_y_, chroma_x_, chroma_y_;  // the direct path's filters (chroma: subsampled planes)
  std::vector<float> source_rows_;  // the direct path: each component's crop row after the vertical pass
  std::vector<float> output_rows_;  // ... and after the horizontal pass, three of the tensor's width
  // GBRP scratch, grown as needed; shared by the networks of one detector that run one after the other.
  std::shared_ptr<std::vector<std::uint8_t>> planes_ = std::make_shared<std::vector<std::uint8_t>>();
};

// The crop widened so that it starts and ends on the chroma sample grid of `format`.
PixelRect align_crop_to_chroma(const PixelRect& crop, int pixel_format, int frame_w, int frame_h);

}  // namespace roadveil::detect
