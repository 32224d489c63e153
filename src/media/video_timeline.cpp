#include "media/video_timeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace roadveil::media {

std::int64_t VideoTimeline::index_of(std::int64_t t) const {
  const auto it = std::lower_bound(pts.begin(), pts.end(), t);
  return it != pts.end() && *it == t ? it - pts.begin() : -1;
}

std::int64_t VideoTimeline::keyframe_position(std::int64_t frame) const {
  const auto it = std::lower_bound(keyframes.begin(), keyframes.end(), frame);
  if (it == keyframes.end() || *it != frame) return -1;
  const auto i = static_cast<std::size_t>(it - keyframes.begin());
  return i < keyframe_positions.size() ? keyframe_positions[i] : -1;
}

namespace {
// The first frame that a fresh opening of `path` shows, as one run sees it: its timestamp (AV_NOPTS_VALUE: none
// decodes) and one run's warning about the packets before it. Not a seek to the start of an opened file:
// Matroska's lands on the first keyframe, where reading from the start sends the packets before it too, and an
// HEVC decoder shows pictures from them.
struct FirstShown {
  std::int64_t pts = AV_NOPTS_VALUE;
  std::string leading_packets_warning;
};
FirstShown first_shown(const std::filesystem::path& path) {
  InputFile fresh(path, DecodeOptions{.threads = 1, .find_bitstream_rotation = false});
  FramePtr frame = make_frame();
  PacketPtr packet = make_packet();
  for (;;) {
    const ReadResult r = fresh.read(frame.get(), packet.get());
    if (r == ReadResult::End) return {};
    if (r == ReadResult::VideoFrame) return {frame->pts, fresh.leading_packets_not_decoded()};
  }
}
}  // namespace

VideoTimeline read_video_timeline(InputFile& input) {
  AVFormatContext* format = input.format_context();
  const int video = input.video_index();
  const std::string name = input.path().string();
  VideoTimeline timeline;
  timeline.time_base = format->streams[video]->time_base;
  // Other streams are skipped by the demuxer itself (for Matroska and MP4 their packets are not even read).
  std::vector<AVDiscard> discard(format->nb_streams);
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    discard[i] = format->streams[i]->discard;
    if (static_cast<int>(i) != video) format->streams[i]->discard = AVDISCARD_ALL;
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> keys;  // (pts, byte position)
  std::int64_t last_pts = AV_NOPTS_VALUE;
  Sha256 packets;
  PacketPtr packet = make_packet();
  int err = 0;
  for (;;) {
    err = av_read_frame(format, packet.get());
    if (err < 0) break;
    if (packet->stream_index == video && !(packet->flags & AV_PKT_FLAG_DISCARD)) {
      if (packet->pts == AV_NOPTS_VALUE) {
        av_packet_unref(packet.get());
        err = 0;
        break;
      }
      timeline.pts.push_back(packet->pts);
      const std::int64_t stamp = packet->pts;
      packets.update(&stamp, sizeof stamp);
      packets.update(packet->data, static_cast<std::size_t>(packet->size));
      if (last_pts == AV_NOPTS_VALUE || packet->pts > last_pts) {
        last_pts = packet->pts;
        timeline.last_duration = std::max<std::int64_t>(0, packet->duration);
      }
      if (packet->flags & AV_PKT_FLAG_KEY) keys.emplace_back(packet->pts, packet->pos);
    }
    av_packet_unref(packet.get());
  }
  for (unsigned i = 0; i < format->nb_streams; ++i) format->streams[i]->discard = discard[i];
  // Back to the first frame by its timestamp: a seek to the lowest possible one lands on the first packet
  // with a timestamp >= 0 in MP4s whose first packets decode before 0 (B-frames), skipping frames.
  // (MPEG-TS and -PS: by position, to the start of the file.)
  input.seek(timeline.pts.empty() ? INT64_MIN : *std::min_element(timeline.pts.begin(), timeline.pts.end()), 0);
  if (err == 0)
    throw Error(name + ": a video packet has no timestamp, so its frames cannot be placed when the file is split "
                       "(a raw stream?): remux it first (ffmpeg -i IN -c copy OUT.mkv)");
  if (err != AVERROR_EOF) throw Error(name + ": reading the video packets failed (" + av_error_text(err) + ")");
  timeline.packets_sha256 = packets.hex();
  std::sort(timeline.pts.begin(), timeline.pts.end());
  if (const auto dup = std::adjacent_find(timeline.pts.begin(), timeline.pts.end()); dup != timeline.pts.end())
    throw Error(name + ": two video frames have the timestamp " + std::to_string(*dup) +
                ", so its frames cannot be placed when the file is split");
  // A recording or cut that begins mid-GOP: its first packets need pictures from before the file's start and
  // show nothing, so one run numbers the frames from the first that decodes (frames come out in presentation
  // order: no packet shown before it shows later). A split run's parts must number them alike: its first part
  // began at frame 17 where one run began at 0, and such a file was refused ("cannot be split").
  if (!timeline.pts.empty() && !input.range_reader()) {
    const FirstShown first = first_shown(input.path());
    if (first.pts != AV_NOPTS_VALUE) {
      timeline.pts.erase(timeline.pts.begin(), std::lower_bound(timeline.pts.begin(), timeline.pts.end(), first.pts));
      timeline.leading_packets_warning = first.leading_packets_warning;
    }
  }
  spdlog::debug("{}: {} video frames, {} keyframes, timestamps {} to {}", name, timeline.pts.size(), keys.size(),
                timeline.pts.empty() ? 0 : timeline.pts.front(), timeline.pts.empty() ? 0 : timeline.pts.back());
  std::sort(keys.begin(), keys.end());
  for (const auto& [t, position] : keys) {
    const std::int64_t index = timeline.index_of(t);
    if (index < 0) continue;  // before the first frame that decodes
    timeline.keyframes.push_back(index);
    timeline.keyframe_positions.push_back(position);
  }
  return timeline;
}

}  // namespace roadveil::media
