#pragma once
// HDR10 static metadata: the mastering display's colour volume and the content light levels. Players need
// it to map PQ video onto a real screen; without it an HDR10 master tone-maps wrongly (dull or clipped
// highlights). FFmpeg 5.1's x264/x265 wrappers ignore it on frames, so the output file lost it even with
// --codec same: it is read here and handed to the encoder's own parameters and to the container.
#include <optional>
#include <string>

#include "media/input_file.hpp"

extern "C" {
#include <libavutil/mastering_display_metadata.h>
}

namespace roadveil::media {

struct HdrStaticMetadata {
  std::optional<AVMasteringDisplayMetadata> mastering;  // only when it has primaries and luminance
  std::optional<AVContentLightMetadata> light_level;

  bool any() const { return mastering.has_value() || light_level.has_value(); }
  // The same metadata as x265 ("master-display=G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min):max-cll=C,F") or x264
  // ("mastering-display=...:cll=C,F") parameters, in their units (0.00002 for chromaticity, 0.0001 cd/m2).
  std::string encoder_params(bool x265) const;
  // Adds it to the stream's side data where the stream has none of that kind yet.
  void add_to(AVStream* stream) const;
};

// The input video's HDR10 metadata: from the container's stream side data, or, for PQ video whose container
// has none (a raw x265 stream muxed as is), from its first decoded frame (the bitstream's SEI). Opens the
// file a second time for that; every other video costs nothing.
HdrStaticMetadata hdr_static_metadata(const InputFile& input);

}  // namespace roadveil::media
