#pragma once
// Hides rectangles of a decoded frame in the frame's own pixel format, in place. Converting to RGB and back
// would cost two colour conversions per frame and alter pixels outside the hidden areas; working on the
// components directly leaves every pixel outside a rect bit-identical.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "core/geometry.hpp"

namespace roadveil::redact {

enum class Style { Mosaic, Blur, Fill };
enum class Shape { Box, Ellipse };  // ellipse: only pixels inside the ellipse inscribed in the rect change

// "mosaic", "blur", "fill": the names of the options, manifests and audit records. Any other name is Mosaic
// (callers check names where users type them).
inline std::string_view to_string(Style s) { return s == Style::Blur ? "blur" : s == Style::Fill ? "fill" : "mosaic"; }
inline Style style_from_string(std::string_view name) {
  return name == "blur" ? Style::Blur : name == "fill" ? Style::Fill : Style::Mosaic;
}

struct StyleOptions {
  Style style = Style::Mosaic;
  Shape shape = Shape::Box;
  // At most this many blocks across the longer side of the rect, so a hidden face stays irreversible however
  // large it is on screen.
  int mosaic_blocks = 6;
  int min_block_px = 4;  // never smaller blocks than this
  // Blur radius as a fraction of the shorter side of the rect (at least 2 px); at 0.5 the kernel spans the
  // whole rect, so nothing in it stays recognisable.
  float blur_strength = 0.5f;
};

// The side of a mosaic's square blocks for a rect (luma pixels); blocks start at the rect's top-left corner.
int mosaic_block_size(const PixelRect& rect, const StyleOptions& opt);

// Formats handled natively: planar, semi-planar and packed YUV/RGB/gray with integer components of up to
// 16 bits. Paletted, bitstream, float, Bayer, XYZ and hardware formats are refused.
bool supports(AVPixelFormat fmt);

namespace detail {
// Half-open run [begin, end) of samples within one row of a component rect.
struct Span {
  int begin = 0, end = 0;
};

// Buffers reused from call to call, so that steady state allocates nothing.
struct Scratch {
  std::vector<Span> spans;                      // per row of the component rect: the samples that may change
  std::vector<int> luma_block_x, luma_block_y;  // mosaic block edges in luma pixels
  std::vector<int> block_x, block_y;            // the same edges in one component's samples
  std::vector<std::uint64_t> block_sums;
  std::vector<std::int32_t> column_sums;
  std::vector<std::uint16_t> samples;           // generic path: one component's rect, unpacked
  std::vector<std::uint8_t> work8_a, work8_b;   // blur buffers of the in-place 8-bit path
  std::vector<std::uint16_t> work16_a, work16_b;

  std::size_t bytes() const;
};
}  // namespace detail

// Owns scratch buffers, so it allocates only while rects grow past the largest seen so far. Not
// thread-safe: use one per thread.
class Redactor {
 public:
  // `rect` is in luma (full-resolution) pixels. It is clamped to the frame so that a bad rect can never
  // write outside the frame buffers; an empty rect is a no-op. The frame must be writable.
  // Throws roadveil::Error when the frame's pixel format is not supported.
  void apply(AVFrame& frame, const PixelRect& rect, const StyleOptions& opt);

  // Capacity of the scratch buffers; it stops growing once the largest rect has been seen.
  std::size_t scratch_bytes() const { return scratch_.bytes(); }

 private:
  detail::Scratch scratch_;
};

// Marks a rect on a GRAY8 mask frame (white = hidden), for the review output. Throws roadveil::Error for any
// other format.
void draw_mask(AVFrame& mask, const PixelRect& rect, Shape shape);

}  // namespace roadveil::redact
