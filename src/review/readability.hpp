#pragma once
// Whether a hidden region of a finished picture still shows what it was meant to hide. A region rendered
// with its promised style is a fixed point of that style: every mosaic block is one flat value, a fill is
// one flat value, a blur leaves no detail finer than its radius. So the detail a region kept is measured as
// the difference between its pixels and what the promised style would leave of them: the deviation of each
// pixel from its mosaic block's mean (same block grid as the renderer: redact::mosaic_block_size), from
// the region's mean (fill), or from the mean of its 5x5 neighbourhood (blur). A region rendered weaker
// than promised (more blocks, no redaction at all) keeps detail at those scales; lossy encoding of a
// correct one leaves a little (ringing at block edges), which is why the inner pixels of each block are
// measured with a robust mean.
#include <span>

#include "core/geometry.hpp"
#include "redact/redactor.hpp"

extern "C" {
#include <libavutil/frame.h>
}

namespace roadveil::review {

struct Readability {
  double residual = 0;  // mean absolute deviation in 8-bit luma levels (0: exactly what the style leaves)
  int samples = 0;      // pixels measured (0: nothing measurable: too small, or wholly under later regions)
};

// `rect` (luma pixels, clamped to the frame) was hidden with `style`; `later` are the rects hidden after it
// in the same frame, whose pixels it no longer owns. Measures the first component (luma for YUV and grey).
// Throws roadveil::Error for formats the redactor does not support.
Readability measure_readability(const AVFrame& frame, const PixelRect& rect, const redact::StyleOptions& style,
                                std::span<const PixelRect> later);

// For a box whose hiding is unknown (no regions file): the share of its pixels that differ by more than
// `levels` from the median of their 3x3 neighbourhood. A mosaic pixel shares its value with most of its
// neighbours even at a block edge, and so does a fill or a smooth blur; a face or a plate's characters do not.
double detail_share(const AVFrame& frame, const PixelRect& rect, double levels);

}  // namespace roadveil::review
