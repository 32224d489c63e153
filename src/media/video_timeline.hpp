#pragma once
// Every frame of a file's main video stream by its presentation timestamp, and which of them a decoder can
// start at (keyframes), read from the packets (decoding only up to the first frame). Splitting one long file across
// workers needs it: a frame's place in the whole file (its index in the regions file, the detection
// schedule's keyframe grid) must be known by a worker that starts decoding in the middle.
#include <cstdint>
#include <string>
#include <vector>

#include "media/input_file.hpp"

namespace roadveil::media {

struct VideoTimeline {
  AVRational time_base{0, 1};
  std::vector<std::int64_t> pts;        // every frame, in presentation order
  std::vector<std::int64_t> keyframes;  // indices into `pts` of the frames a decoder can start at, ascending
  // Byte position in the file of each keyframe's packet (as `keyframes`; -1 where the demuxer gives none): MPEG-TS
  // and -PS have no index, and are sought by position (InputFile::seek).
  std::vector<std::int64_t> keyframe_positions;
  // How long the last frame (the one shown last) lasts, from its packet; 0 where the file does not say.
  std::int64_t last_duration = 0;
  // SHA-256 of the video stream's packets (each one's timestamp and bytes, in file order): the parts of one
  // split file must all come from this stream (the file's size and first and last MiB left its middle free).
  std::string packets_sha256;
  // A recording cut mid-GOP: one run's warning about the packets before the first frame that decodes, which
  // are left out of `pts` as one run leaves them out (InputFile::leading_packets_not_decoded; empty: none).
  std::string leading_packets_warning;

  std::int64_t frames() const { return static_cast<std::int64_t>(pts.size()); }
  // The index of the frame shown at `pts`, or -1 when no frame has that timestamp.
  std::int64_t index_of(std::int64_t pts) const;
  // The byte position of keyframe `frame` (an index into `pts`), or -1.
  std::int64_t keyframe_position(std::int64_t frame) const;
};

// Reads every packet of `input`'s video stream (call it before any read) and returns to the first frame; a
// second opening of the file decodes up to its first frame that decodes (not for an input read in ranges).
// Packets outside an edit list (AV_PKT_FLAG_DISCARD) are not frames of the file, nor are those shown before
// the first frame that decodes (a recording cut mid-GOP). Throws Error naming the file when a packet has no
// timestamp (raw streams: remux into .mp4 or .mkv first) or two frames share one.
VideoTimeline read_video_timeline(InputFile& input);

}  // namespace roadveil::media
