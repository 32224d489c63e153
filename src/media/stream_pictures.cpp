#include "media/stream_pictures.hpp"

#include <algorithm>
#include <string_view>
#include <strings.h>

#include "media/photo_metadata.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace roadveil::media {

int remove_stream_pictures(std::uint8_t* data, std::size_t size) {
  return data && size ? remove_binary_pictures(data, size) + remove_base64_data(data, size) : 0;
}

int remove_ass_graphics(std::vector<std::uint8_t>& script) {
  std::vector<std::uint8_t> kept;
  kept.reserve(script.size());
  bool in_graphics = false;
  int pictures = 0;
  for (std::size_t pos = 0; pos < script.size();) {
    const auto begin = script.begin() + static_cast<std::ptrdiff_t>(pos);
    const auto newline = std::find(begin, script.end(), std::uint8_t{'\n'});
    const std::size_t end = newline == script.end() ? script.size() : static_cast<std::size_t>(newline - script.begin()) + 1;
    std::string_view line(reinterpret_cast<const char*>(script.data()) + pos, end - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.starts_with('[')) in_graphics = line.size() == 10 && ::strncasecmp(line.data(), "[Graphics]", 10) == 0;
    if (in_graphics) {
      if (line.size() >= 9 && ::strncasecmp(line.data(), "filename:", 9) == 0) ++pictures;
    } else {
      kept.insert(kept.end(), begin, script.begin() + static_cast<std::ptrdiff_t>(end));
    }
    pos = end;
  }
  if (kept.size() != script.size()) script.swap(kept);
  return pictures;
}

bool may_carry_pictures(const AVCodecParameters& par) {
  return par.codec_type == AVMEDIA_TYPE_DATA || par.codec_type == AVMEDIA_TYPE_SUBTITLE;
}

bool is_bitmap_subtitle(const AVCodecParameters& par) {
  const AVCodecDescriptor* desc = avcodec_descriptor_get(par.codec_id);
  return par.codec_type == AVMEDIA_TYPE_SUBTITLE && desc && (desc->props & AV_CODEC_PROP_BITMAP_SUB);
}

}  // namespace roadveil::media
