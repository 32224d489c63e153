#pragma once
// Demuxes a media file, decodes its main video stream and hands every other stream's packets through
// untouched, in file order, so that the output can copy them packet for packet.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "media/ffmpeg_util.hpp"

struct SwsContext;
struct AVBufferPool;

namespace roadveil::media {

class RangeReader;

struct DecodeOptions {
  int threads = 0;  // 0: FFmpeg picks
  // Whether an H.264/HEVC video without a display matrix in its container has its first frame decoded to see
  // whether its bitstream turns it (a display orientation SEI message); off for that look itself.
  bool find_bitstream_rotation = true;
};

// What a read produced.
enum class ReadResult { VideoFrame, Packet, End };

struct VideoInfo {
  int width = 0, height = 0;
  AVPixelFormat pixel_format = AV_PIX_FMT_NONE;  // of the frames read() gives (palette video: unpacked)
  AVRational time_base{0, 1};
  AVRational frame_rate{0, 1};    // guessed average rate, for the encoder's rate control and progress
  std::int64_t frame_count = 0;   // from the container, 0 when unknown
  double duration_seconds = 0;    // from the container, 0 when unknown
  int rotation_degrees = 0;       // display rotation (clockwise) from the display matrix side data
  bool mirrored = false;          // the display matrix also mirrors the picture
  // How a pixel is shown: the container's sample aspect ratio, else the stream's (the output keeps it; 0/1
  // when neither says, shown square).
  AVRational sample_aspect{0, 1};
  std::string codec_name;
  // A pixel's width as shown in units of its height (1 when unknown or odd).
  double pixel_aspect() const {
    const double a = sample_aspect.num > 0 && sample_aspect.den > 0 ? av_q2d(sample_aspect) : 1.0;
    return a > 0.1 && a < 10 ? a : 1.0;
  }
};

class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& path, const DecodeOptions& options = {});
  // An input read in ranges (an object in a bucket) through `reader`, which must outlive this; `path()` is its name.
  InputFile(RangeReader& reader, const DecodeOptions& options = {});
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads until a decoded video frame is in `frame` (VideoFrame), a packet of another stream is in
  // `packet` (Packet), or the file ends (End). Frames carry `pts` = the best-effort timestamp in the video
  // stream's time base. Damage (undecodable packets, a truncated file) is counted, not thrown, so that what
  // decodes still gets rendered. A frame of another size or pixel format than the first throws Error.
  ReadResult read(AVFrame* frame, AVPacket* packet);

  // Reads the next packet of a stream other than the video (whose packets the demuxer then skips unread), for
  // joining the parts of a split run with the input's other streams: true, or false at the end.
  bool read_other_packet(AVPacket* packet);

  // Moves to the last keyframe at or before `pts` (video time base), or the start for INT64_MIN, and
  // empties the decoder: the next read() decodes from there. For random access (the review server).
  // MPEG-TS and -PS, which have no index, go by `byte_position` where one is given (>= 0; the packet's
  // position, VideoTimeline::keyframe_positions): by timestamp FFmpeg lands past the keyframe asked for.
  void seek(std::int64_t pts, std::int64_t byte_position = -1);

  AVFormatContext* format_context() const { return format_; }
  const AVStream* video_stream() const { return format_->streams[video_index_]; }
  int video_index() const { return video_index_; }
  const AVCodecContext* decoder() const { return decoder_.get(); }
  const VideoInfo& video() const { return info_; }
  // Video streams besides the one decoded, which roadveil cannot anonymize (a second camera): "#2 h264 640x480".
  const std::vector<std::string>& other_video_streams() const { return other_video_streams_; }
  // "2 video tracks (#0 h264 1920x1080, #1 h264 640x360)": the one decoded and the others, for refusals.
  std::string video_tracks_text() const;
  // Streams holding one still picture (cover art, an image attached to a Matroska file, whatever its MIME type
  // says: media::still_picture_codec).
  const std::vector<int>& attached_picture_streams() const { return attached_pictures_; }
  const std::filesystem::path& path() const { return path_; }
  // The reader an input read in ranges comes through (an object in a bucket; `path()` is then its name, not a
  // file), or null for a file.
  RangeReader* range_reader() const { return range_reader_; }

  std::int64_t frames_decoded() const { return frames_decoded_; }
  std::int64_t decode_errors() const { return decode_errors_; }
  bool read_error() const { return read_error_; }
  std::string read_error_text() const { return read_error_text_; }
  // True when the file is known to be damaged: packets failed to decode, reading stopped on an error, or the
  // container promised more frames than decoded.
  bool damaged() const;
  std::string damage_report() const;
  // A recording or cut that begins mid-GOP: its first video packets depend on pictures before the file's start,
  // so the decoder shows nothing for them (as every player). Not damage: the output has every picture the file
  // can show; "the first 31 video packets (1.24 s) ..." for a warning, empty when the first packet decoded.
  std::string leading_packets_not_decoded() const;
  // How many: known once the first frame has decoded.
  std::int64_t leading_packets_not_decoded_count() const { return leading_not_decoded_; }
  // The frames the file will show, as a progress bar counts them (0: unknown): its frame count less the samples
  // its index marks as outside the edit list (MP4, MOV: a clip cut without re-encoding keeps the samples before
  // the cut, which its B-frames need, and hides them; the bar said "1/75 frames" for 67 shown), known when the
  // file opens, and, once the first frame has decoded, less the leading packets above. Unlike
  // frames_promised(), it reads no counter the decoder thread is still changing.
  std::int64_t frames_to_show() const;
  // Frames the container promises to show: its sample count less the samples an edit list hides and those a
  // cut mid-GOP leaves without their references (0: unknown).
  std::int64_t frames_promised() const;
  // After reading to the end: how many seconds of the duration the container declares had no data (a file
  // cut off, e.g. a half-copied MKV), or 0.
  double seconds_missing() const;

 private:
  bool receive(AVFrame* frame);
  void unpack(AVFrame* frame);  // palette / 1-bit frames into unpacked_format, from a buffer pool

  void open_streams(const DecodeOptions& options);
  void adopt_bitstream_rotation(const DecodeOptions& options);

  std::filesystem::path path_;
  RangeReader* range_reader_ = nullptr;
  AVFormatContext* format_ = nullptr;
  CodecContextPtr decoder_;
  int video_index_ = -1;
  VideoInfo info_;
  std::vector<std::string> other_video_streams_;
  std::vector<int> attached_pictures_;
  PacketPtr pending_;
  bool draining_ = false;
  bool ended_ = false;
  std::int64_t frames_decoded_ = 0;
  int first_width_ = 0, first_height_ = 0, first_format_ = -1;  // of the first decoded frame
  double data_end_seconds_ = 0;     // the latest end of any packet read, on the file's clock
  double av_data_end_seconds_ = 0;  // the same, audio and video packets only
  struct DeclaredEnd {
    double declared = 0, data_end = 0;  // seconds
  };
  DeclaredEnd declared_end() const;
  bool seeked_ = false;
  void note_packet_end(const AVPacket& packet);
  void note_first_frame(const AVFrame& frame);
  std::int64_t decode_errors_ = 0;
  std::int64_t discarded_packets_ = 0;  // read so far with AV_PKT_FLAG_DISCARD (outside the edit list)
  std::int64_t samples_outside_edit_list_ = 0;  // in the index, counted when the file opens
  // The timestamps of the video packets sent before the first frame came out (then cleared), and how many of
  // them lie before that frame (so never show) and how long they cover.
  std::vector<std::int64_t> pts_before_first_frame_;
  std::int64_t leading_not_decoded_ = 0;
  double leading_not_decoded_seconds_ = 0;
  bool read_error_ = false;
  std::string read_error_text_;
  std::int64_t last_pts_ = AV_NOPTS_VALUE;
  std::int64_t last_duration_ = 0;
  SwsContext* unpack_sws_ = nullptr;
  AVBufferPool* unpack_pool_ = nullptr;
  FramePtr unpacked_;
};

// The format frames of `format` are handed on in: palette video (GIF-like animations, old screen captures) as
// RGBA and 1-bit video as 8-bit grey, since neither holds samples a detector or a mosaic can work on; every
// other format as it is.
AVPixelFormat unpacked_format(AVPixelFormat format);

// Rotation in degrees clockwise (0, 90, 180, 270) from a stream's display matrix, 0 when there is none.
int stream_rotation_degrees(const AVStream* stream);

}  // namespace roadveil::media
