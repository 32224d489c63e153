#pragma once
// Encodes the processed video and copies every other stream of the input packet for packet into a new
// file, keeping timestamps, metadata and display side data. Writes to a temporary name beside the target
// and renames on finish(), so an interrupted run never leaves a file that looks complete.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/temporary_file.hpp"
#include "media/crf_control.hpp"
#include "media/ffmpeg_util.hpp"
#include "media/input_file.hpp"

struct SwsContext;

namespace roadveil::media {

// The colour tags of pixels converted from `from` to `to` for an encoder that cannot take `from` (RGB into
// BT.709 YUV, full-range JPEG YUV into limited range): what the decoder's tags must become (unspecified: keep
// them). is_rgb_like: RGB or palette pixels.
struct ConversionTags {
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
};
ConversionTags conversion_tags(AVPixelFormat from, AVPixelFormat to);

class InputFile;
// Throws, naming the containers that can, when the container of `output` cannot hold one of the input's audio
// streams (OutputFile refuses it too; a split run's parts, video only, ask before the work).
void refuse_audio_the_output_cannot_hold(const InputFile& input, const std::filesystem::path& output);
bool is_rgb_like(AVPixelFormat f);

enum class VideoCodecChoice { H264, Hevc, SameFamily };
// The names --codec and --preset take (and a regions file's recorded settings may hold).
inline const std::vector<std::string> kVideoCodecNames = {"h264", "hevc", "same"};
inline const std::vector<std::string> kX264Presets = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                                      "medium",    "slow",      "slower",   "veryslow"};

struct EncodeOptions {
  VideoCodecChoice codec = VideoCodecChoice::H264;
  int crf = 18;                    // visually lossless-ish default: anonymizing must not cost quality
  // Above `crf`: libx264's CRF may rise up to this while the output's video would be bigger than the source's
  // (CrfControl); 0: the CRF stays `crf`.
  int crf_ceiling = 0;
  std::string preset = "veryfast";
  int threads = 0;                 // 0: encoder picks
  bool video_only = false;         // copy no other stream (the --mask review video)
  int source_pixel_format = -1;    // format of the frames given to write_video; -1: the decoder's
  // A part of a split run: encoded as for this final output (its container decides the codec, the headers,
  // B-frames), while the part itself is written in the target's container (MP4, which keeps every timestamp).
  std::filesystem::path encode_for;
  // Joining parts: the video is already encoded with these parameters (their global headers are used) and
  // arrives through write_encoded_video; the encoder is opened only to describe the stream as one run would.
  const AVCodecParameters* encoded_video = nullptr;
};

// A still picture stream of the input (cover art) replaced by its anonymized version.
struct ReplacementPicture {
  int input_index = -1;
  AVCodecID codec = AV_CODEC_ID_NONE;
  int width = 0, height = 0;
  std::vector<std::uint8_t> bytes;
};

struct DroppedStream {
  int input_index;
  std::string reason;
};

// The encoder threads for a video that is detected while it is encoded: one frame thread per core this
// process may run on (its CPU affinity: a Slurm or Kubernetes job's share, not the whole machine), within the
// cap libx264 sets itself (two macroblock rows of the picture per thread). libx264's own count is 1.5 per
// core: the extra half keeps cores busy while its frame threads wait on each other, which the detection
// thread does anyway, and each frame thread holds frames of its own. 0 (the encoder decides) where the cores
// cannot be counted.
int one_encoder_thread_per_core(int height);

// libx264's lookahead keeps its own copy of each frame it plans with, and four half-resolution planes of it
// (~6 MB at 1080p). For the default preset (veryfast, 10 frames) and the faster ones, the lookahead
// (rc-lookahead, frames) that holds at most `memory` bytes of them at this picture size, never below 4 (its
// B-frame decisions look 3 frames ahead); -1 where the preset's own lookahead fits, and for the slower
// presets: a user who chose one asked for compression at the cost of time and memory.
constexpr std::size_t kX264LookaheadMemory = 40u << 20;
int x264_lookahead_within(const std::string& preset, int width, int height, std::size_t memory = kX264LookaheadMemory);

// How far a split run's part moves the input's clock up (AV_TIME_BASE units): by its start where that is before
// 0 (a TS clock that wrapped near its start), which an MP4 part would hide behind an edit list; 0 otherwise.
// The join takes it off the parts' packets.
std::int64_t part_clock_bias(const InputFile& input);

class OutputFile {
 public:
  // Attached pictures of the input are never copied: each is written from `pictures` (its anonymized version,
  // as a Matroska attachment) or dropped with a reason.
  OutputFile(const std::filesystem::path& target, const InputFile& input, const EncodeOptions& options,
             const std::vector<ReplacementPicture>& pictures = {});
  ~OutputFile();  // without finish(): removes the temporary file
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // `frame` is a video frame of the input (pts in the input video stream's time base).
  void write_video(AVFrame* frame);
  // A packet of the already encoded video (EncodeOptions::encoded_video), timestamps in `time_base`.
  void write_encoded_video(AVPacket* packet, AVRational time_base);
  // A packet of another input stream (as returned by InputFile::read); dropped streams are ignored.
  void write_packet(AVPacket* packet);
  // Flushes the encoder, writes the trailer and renames the temporary file to the target.
  void finish();

  const std::vector<DroppedStream>& dropped_streams() const { return dropped_; }
  // After finish(): the copied data and subtitle streams in whose header or packets pictures were zeroed, one
  // line each ("3 picture(s) ... inside data stream #2 (bin_data) zeroed ...").
  std::vector<std::string> scrubbed_pictures() const;
  const std::string& encoder_name() const { return encoder_name_; }
  std::int64_t frames_written() const { return frames_written_; }
  // The highest CRF a frame was encoded with (x264/x265): the one asked for, or the highest CrfControl chose.
  std::optional<double> highest_crf() const { return crf_control_ ? crf_control_->highest() : crf_; }

 private:
  void drain_encoder();
  void close_and_remove();

  std::filesystem::path target_;
  TemporaryFile temp_;
  const InputFile& input_;
  AVFormatContext* format_ = nullptr;
  CodecContextPtr encoder_;
  AVStream* video_out_ = nullptr;
  std::vector<int> stream_map_;  // input stream index -> output stream index of copied packets, -1 when none
  // Per output stream, added to every packet's timestamps: an Opus track's codec delay in Matroska, less the
  // start of a running clock (MPEG-TS/PS input into another container). offset_timestamps applies it.
  std::vector<std::int64_t> timestamp_offset_;
  void offset_timestamps(AVPacket* packet) const;
  // Top-level boxes of an MP4/MOV input that FFmpeg does not read (media/mp4_boxes.hpp): copied after the
  // muxer's own into an MP4/MOV output, named among the dropped otherwise, as are moov's.
  void keep_foreign_boxes(const AVOutputFormat* ofmt);
  static constexpr std::int64_t kMaxAppendedBoxBytes = 16 << 20;
  std::vector<std::string> appended_boxes_;
  std::vector<DroppedStream> dropped_;
  struct ScrubbedStream {
    int input_index;
    std::string what;
    int pictures = 0;
  };
  std::vector<ScrubbedStream> scrubbed_;  // copied data and subtitle streams, whose bytes are searched for pictures
  PacketPtr packet_;
  FramePtr converted_;  // only when the encoder cannot take the decoder's pixel format
  SwsContext* sws_ = nullptr;
  BitstreamFilterPtr to_annexb_;  // joined parts' length-prefixed H.264/HEVC into AVI/MPEG-TS
  std::optional<CrfControl> crf_control_;  // libx264 with a CRF ceiling
  std::optional<double> crf_;              // x264/x265's fixed CRF
  std::deque<std::pair<std::int64_t, std::int64_t>> durations_;  // pts -> duration of frames in the encoder
  std::int64_t last_pts_ = AV_NOPTS_VALUE;  // of the last frame sent, in the encoder's time base
  AVRational retime_from_{0, 0};  // AVI: the input's time base, which frames are counted from at the frame rate
  std::int64_t frames_written_ = 0;
  std::string encoder_name_;
  bool header_written_ = false;
  bool finished_ = false;
};

}  // namespace roadveil::media
