#include "media/hdr_metadata.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "core/byte_source.hpp"
#include "media/range_reader.hpp"

namespace roadveil::media {

namespace {

long scaled(AVRational value, double units_per_one) {
  return value.den == 0 ? 0 : std::lround(av_q2d(value) * units_per_one);
}

void take_mastering(const std::uint8_t* data, HdrStaticMetadata& out) {
  if (!data || out.mastering) return;
  AVMasteringDisplayMetadata m;
  std::memcpy(&m, data, sizeof m);
  if (m.has_primaries && m.has_luminance) out.mastering = m;
}

void take_light_level(const std::uint8_t* data, HdrStaticMetadata& out) {
  if (!data || out.light_level) return;
  AVContentLightMetadata c;
  std::memcpy(&c, data, sizeof c);
  out.light_level = c;
}

}  // namespace

std::string HdrStaticMetadata::encoder_params(bool x265) const {
  std::string params;
  if (mastering) {
    const auto& p = mastering->display_primaries;  // [0] red, [1] green, [2] blue; [.][0] x, [.][1] y
    constexpr double chroma = 50000, luminance = 10000;
    params += fmt::format("{}=G({},{})B({},{})R({},{})WP({},{})L({},{})", x265 ? "master-display" : "mastering-display",
                          scaled(p[1][0], chroma), scaled(p[1][1], chroma), scaled(p[2][0], chroma),
                          scaled(p[2][1], chroma), scaled(p[0][0], chroma), scaled(p[0][1], chroma),
                          scaled(mastering->white_point[0], chroma), scaled(mastering->white_point[1], chroma),
                          scaled(mastering->max_luminance, luminance), scaled(mastering->min_luminance, luminance));
  }
  if (light_level) {
    if (!params.empty()) params += ':';
    params += fmt::format("{}={},{}", x265 ? "max-cll" : "cll", light_level->MaxCLL, light_level->MaxFALL);
  }
  return params;
}

void HdrStaticMetadata::add_to(AVStream* stream) const {
  if (mastering && !av_stream_get_side_data(stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, nullptr)) {
    std::uint8_t* dst = av_stream_new_side_data(stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, sizeof *mastering);
    if (dst) std::memcpy(dst, &*mastering, sizeof *mastering);
  }
  if (light_level && !av_stream_get_side_data(stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, nullptr)) {
    std::uint8_t* dst = av_stream_new_side_data(stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, sizeof *light_level);
    if (dst) std::memcpy(dst, &*light_level, sizeof *light_level);
  }
}

HdrStaticMetadata hdr_static_metadata(const InputFile& input) {
  HdrStaticMetadata out;
  const AVStream* vs = input.video_stream();
  take_mastering(av_stream_get_side_data(vs, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, nullptr), out);
  take_light_level(av_stream_get_side_data(vs, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, nullptr), out);
  if (out.any() || vs->codecpar->color_trc != AVCOL_TRC_SMPTE2084) return out;
  // PQ video whose container says nothing: HEVC and AV1 carry it in the bitstream of the first keyframe,
  // read by a second reader of the same input. An object in a bucket is read again through a reader of its
  // own, pinned to the version the first reads (its name is no file: opening it as one failed every HDR10
  // video read from a bucket with "no such file"); where the store gives no version to pin, the container's
  // metadata is all there is.
  std::unique_ptr<RangeReader> reader;
  std::unique_ptr<InputFile> opened;
  if (const RangeReader* remote = input.range_reader()) {
    reader = remote->reopen(2);
    if (!reader) return out;
    opened = std::make_unique<InputFile>(*reader);
  } else {
    opened = std::make_unique<InputFile>(input.path());
  }
  InputFile& again = *opened;
  FramePtr frame = make_frame();
  PacketPtr packet = make_packet();
  for (int reads = 0; reads < 256; ++reads) {
    const ReadResult r = again.read(frame.get(), packet.get());
    if (r == ReadResult::End) break;
    if (r == ReadResult::Packet) {
      av_packet_unref(packet.get());
      continue;
    }
    if (const AVFrameSideData* sd = av_frame_get_side_data(frame.get(), AV_FRAME_DATA_MASTERING_DISPLAY_METADATA))
      take_mastering(sd->data, out);
    if (const AVFrameSideData* sd = av_frame_get_side_data(frame.get(), AV_FRAME_DATA_CONTENT_LIGHT_LEVEL))
      take_light_level(sd->data, out);
    break;
  }
  return out;
}

}  // namespace roadveil::media
