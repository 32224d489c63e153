#include "media/input_file.hpp"

#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <cmath>

#include "core/error.hpp"
#include "media/image_file.hpp"
#include "media/range_reader.hpp"
#include "media/rotation.hpp"

extern "C" {
#include <libavutil/buffer.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace roadveil::media {

namespace {
// A WebP whose extended header says it is animated (VP8X with its animation flag).
bool is_animated_webp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 21> head{};
  if (!in.read(head.data(), head.size())) return false;
  return std::memcmp(head.data(), "RIFF", 4) == 0 && std::memcmp(head.data() + 8, "WEBPVP8X", 8) == 0 && (head[20] & 0x02) != 0;
}
}  // namespace

int stream_rotation_degrees(const AVStream* stream) {
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (!matrix) return 0;
  return display_matrix_rotation_degrees(reinterpret_cast<const int32_t*>(matrix));
}

InputFile::InputFile(const std::filesystem::path& path, const DecodeOptions& options) : path_(path) {
  install_ffmpeg_log_handler();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a folder, not a media file");
  if (std::filesystem::file_size(path, ec) == 0) throw Error(path.string() + ": file is empty");
  // HEIC/HEIF has no decoder in FFmpeg 5.1, and an AVIF photo reads as a one-frame video (written as .jpg it
  // failed with "the image2 container cannot hold h264"): said plainly.
  if (is_heif_path(path))
    throw Error(path.string() + ": HEIC, HEIF and AVIF photos are not read: convert them to JPEG or PNG first "
                "(heif-convert, from Debian's libheif-examples, reads all three)");

  // A local file, never a URL or an image-sequence pattern: "img%d.jpg" is that one file.
  AVDictionary* open_options = nullptr;
  av_dict_set(&open_options, "pattern_type", "none", 0);
  const int err = avformat_open_input(&format_, local_file_url(path).c_str(), nullptr, &open_options);
  av_dict_free(&open_options);
  if (err < 0) {
    throw Error(path.string() + ": not a readable media file (" + av_error_text(err) + ")");
  }
  open_streams(options);
}

InputFile::InputFile(RangeReader& reader, const DecodeOptions& options) : path_(reader.name()), range_reader_(&reader) {
  install_ffmpeg_log_handler();
  if (reader.size() == 0) throw Error(path_.string() + ": object is empty");
  format_ = avformat_alloc_context();
  if (!format_) throw std::bad_alloc();
  format_->pb = reader.io();
  format_->flags |= AVFMT_FLAG_CUSTOM_IO;
  const int err = avformat_open_input(&format_, path_.string().c_str(), nullptr, nullptr);  // frees format_ on failure
  if (err < 0) {
    const std::string why = reader.error().empty() ? av_error_text(err) : reader.error();
    throw Error(path_.string() + ": not a readable media file (" + why + ")");
  }
  open_streams(options);
}

void InputFile::open_streams(const DecodeOptions& options) {
  const std::filesystem::path& path = path_;
  int err = avformat_find_stream_info(format_, nullptr);
  if (err < 0) {
    avformat_close_input(&format_);
    throw Error(path.string() + ": cannot read stream information (" + av_error_text(err) + ")");
  }
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    const AVStream* s = format_->streams[i];
    if (s->codecpar->codec_type == AVMEDIA_TYPE_ATTACHMENT && still_picture_codec(*s) != AV_CODEC_ID_NONE)
      attached_pictures_.push_back(static_cast<int>(i));
    if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    if (s->disposition & AV_DISPOSITION_ATTACHED_PIC) {
      attached_pictures_.push_back(static_cast<int>(i));
      continue;
    }
    if (video_index_ < 0) video_index_ = static_cast<int>(i);
  }
  if (video_index_ >= 0) {
    // Prefer FFmpeg's choice (e.g. the largest stream) among real video streams.
    const int best = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (best >= 0 && !(format_->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC)) video_index_ = best;
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVCodecParameters* par = format_->streams[i]->codecpar;
      if (static_cast<int>(i) == video_index_ || par->codec_type != AVMEDIA_TYPE_VIDEO ||
          (format_->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        continue;
      other_video_streams_.push_back(fmt::format("#{} {} {}x{}", i, avcodec_get_name(par->codec_id), par->width, par->height));
    }
  }
  if (video_index_ < 0) {
    avformat_close_input(&format_);
    throw Error(path.string() + ": contains no video stream");
  }
  AVStream* vs = format_->streams[video_index_];
  const AVCodec* codec = avcodec_find_decoder(vs->codecpar->codec_id);
  if (!codec) {
    const std::string name = avcodec_get_name(vs->codecpar->codec_id);
    avformat_close_input(&format_);
    throw Error(path.string() + ": no decoder for video codec " + name);
  }
  decoder_.reset(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder_.get(), vs->codecpar);
  decoder_->pkt_timebase = vs->time_base;
  decoder_->thread_count = options.threads;
  // Slice threads only: frame threads each hold a picture in flight and delay the output by one frame
  // per thread, and decoding is a small share of the work on its own pipeline thread, far faster than the
  // detection and the encoder after it (a 30 s 1080p clip: 679 -> 658 MB, as fast, the same frames).
  decoder_->thread_type = FF_THREAD_SLICE;
  err = avcodec_open2(decoder_.get(), codec, nullptr);
  if (err < 0) {
    avformat_close_input(&format_);
    throw Error(path.string() + ": cannot open the " + codec->name + " decoder (" + av_error_text(err) + ")");
  }
  if (decoder_->width <= 0 || decoder_->height <= 0 || decoder_->pix_fmt == AV_PIX_FMT_NONE) {
    avformat_close_input(&format_);
    if (is_animated_webp(path))
      throw Error(path.string() + ": an animated WebP, which FFmpeg 5.1 cannot decode: make it a video first (with "
                  "libwebp's anim_dump, Debian's webp package, into frames; then ffmpeg -i dump_%04d.png anim.mkv)");
    throw Error(path.string() + (is_image_path(path) ? ": no picture can be decoded (corrupt, or not the image its name says)"
                                                     : ": no video frame can be decoded (corrupt or empty video stream)"));
  }
  info_.width = decoder_->width;
  info_.height = decoder_->height;
  info_.pixel_format = unpacked_format(decoder_->pix_fmt);
  info_.time_base = vs->time_base;
  info_.frame_rate = av_guess_frame_rate(format_, vs, nullptr);
  info_.frame_count = vs->nb_frames;
  for (int i = 0, n = avformat_index_get_entries_count(vs); i < n; ++i)
    if (const AVIndexEntry* e = avformat_index_get_entry(vs, i); e && (e->flags & AVINDEX_DISCARD_FRAME))
      ++samples_outside_edit_list_;
  if (vs->duration != AV_NOPTS_VALUE && vs->duration > 0)
    info_.duration_seconds = vs->duration * av_q2d(vs->time_base);
  else if (format_->duration > 0)
    info_.duration_seconds = format_->duration / static_cast<double>(AV_TIME_BASE);
  if (info_.frame_count <= 0 && info_.duration_seconds > 0 && info_.frame_rate.num > 0)
    info_.frame_count = static_cast<std::int64_t>(std::llround(info_.duration_seconds * av_q2d(info_.frame_rate)));
  if (options.find_bitstream_rotation) adopt_bitstream_rotation(options);
  info_.rotation_degrees = stream_rotation_degrees(vs);
  if (const uint8_t* matrix = av_stream_get_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, nullptr))
    info_.mirrored = display_matrix_mirrors(reinterpret_cast<const int32_t*>(matrix));
  info_.sample_aspect = vs->sample_aspect_ratio.num > 0 ? vs->sample_aspect_ratio : decoder_->sample_aspect_ratio;
  info_.codec_name = codec->name;
  pending_ = make_packet();
}

void InputFile::adopt_bitstream_rotation(const DecodeOptions& options) {
  // A phone may say how its video is turned only in the H.264/HEVC stream (a display orientation SEI message),
  // not in the container: FFmpeg then attaches the turn to each decoded frame, never to the stream. Read from
  // the container alone, such a sideways video was searched sideways (a crowd's faces left visible: 2,087
  // regions instead of 14,441 with the same turn in the container) and written without its turn (it played
  // sideways). The first frame is decoded by a second opening of the file (this one stays at its start), and a
  // turn found is given to the stream: detection, verify and the output's container then see it as theirs.
  AVStream* vs = format_->streams[video_index_];
  const AVCodecID id = vs->codecpar->codec_id;
  if ((id != AV_CODEC_ID_H264 && id != AV_CODEC_ID_HEVC) || is_image_path(path_) ||
      av_stream_get_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, nullptr))
    return;
  DecodeOptions probe_options = options;
  probe_options.find_bitstream_rotation = false;
  probe_options.threads = 1;
  std::vector<std::int32_t> matrix;
  try {
    std::unique_ptr<RangeReader> second;
    std::unique_ptr<InputFile> probe;
    if (range_reader_) {
      second = range_reader_->reopen(1);
      if (!second) return;  // no version to pin: the stream's own turn only
      probe = std::make_unique<InputFile>(*second, probe_options);
    } else {
      probe = std::make_unique<InputFile>(path_, probe_options);
    }
    FramePtr frame = make_frame();
    PacketPtr packet = make_packet();
    for (int reads = 0; reads < 4096; ++reads) {
      const ReadResult r = probe->read(frame.get(), packet.get());
      if (r == ReadResult::End) break;
      if (r == ReadResult::Packet) {
        av_packet_unref(packet.get());
        continue;
      }
      if (const AVFrameSideData* sd = av_frame_get_side_data(frame.get(), AV_FRAME_DATA_DISPLAYMATRIX); sd && sd->size >= 36) {
        const auto* values = reinterpret_cast<const std::int32_t*>(sd->data);
        matrix.assign(values, values + 9);
      }
      break;
    }
  } catch (const Error& e) {
    spdlog::debug("{}: its first frame could not be read for its display orientation ({})", path_.string(), e.what());
    return;
  }
  if (matrix.empty()) return;
  uint8_t* data = av_stream_new_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(std::int32_t));
  if (!data) throw std::bad_alloc();
  std::memcpy(data, matrix.data(), 9 * sizeof(std::int32_t));
  spdlog::debug("{}: turned by its bitstream ({} degrees), not its container", path_.string(),
                display_matrix_rotation_degrees(matrix.data()));
}

AVPixelFormat unpacked_format(AVPixelFormat format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  if (!d) return format;
  if (d->flags & AV_PIX_FMT_FLAG_PAL) return AV_PIX_FMT_RGBA;  // the palette may be transparent
  if (d->flags & AV_PIX_FMT_FLAG_BITSTREAM) return AV_PIX_FMT_GRAY8;
  return format;
}

void InputFile::unpack(AVFrame* frame) {
  const auto source = static_cast<AVPixelFormat>(frame->format);
  const AVPixelFormat target = unpacked_format(source);
  if (target == source) return;
  // Pooled buffers: a frame handed on keeps its buffer until the encoder is done with it, then the pool
  // takes it back, so steady state allocates nothing. The pool's size is fixed by the first frame (a size
  // change is refused in receive() before this).
  constexpr int kAlign = 64;
  const int size = av_image_get_buffer_size(target, frame->width, frame->height, kAlign);
  if (size < 0) throw Error(path_.string() + ": cannot unpack " + av_get_pix_fmt_name(source) + " frames");
  if (!unpack_pool_) unpack_pool_ = av_buffer_pool_init(static_cast<std::size_t>(size) + kAlign, nullptr);
  unpack_sws_ = sws_getCachedContext(unpack_sws_, frame->width, frame->height, source, frame->width, frame->height,
                                     target, SWS_POINT, nullptr, nullptr, nullptr);
  if (!unpack_pool_ || !unpack_sws_) throw Error(path_.string() + ": cannot unpack " + av_get_pix_fmt_name(source) + " frames");
  if (!unpacked_) unpacked_ = make_frame();
  AVBufferRef* buffer = av_buffer_pool_get(unpack_pool_);
  if (!buffer) throw std::bad_alloc();
  av_frame_unref(unpacked_.get());
  unpacked_->buf[0] = buffer;
  av_image_fill_arrays(unpacked_->data, unpacked_->linesize, buffer->data, target, frame->width, frame->height, kAlign);
  unpacked_->format = target;
  unpacked_->width = frame->width;
  unpacked_->height = frame->height;
  sws_scale(unpack_sws_, frame->data, frame->linesize, 0, frame->height, unpacked_->data, unpacked_->linesize);
  av_frame_copy_props(unpacked_.get(), frame);
  av_frame_unref(frame);
  av_frame_move_ref(frame, unpacked_.get());
}

InputFile::~InputFile() {
  if (unpack_sws_) sws_freeContext(unpack_sws_);
  unpacked_.reset();
  av_buffer_pool_uninit(&unpack_pool_);  // frees itself once the last frame from it is released
  decoder_.reset();
  if (format_) avformat_close_input(&format_);
}

bool InputFile::receive(AVFrame* frame) {
  for (;;) {
    const int err = avcodec_receive_frame(decoder_.get(), frame);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return false;
    if (err < 0) {
      ++decode_errors_;
      continue;
    }
    if (frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT)) ++decode_errors_;
    unpack(frame);
    // Streams joined from recordings of different sizes (`cat a.ts b.ts`) change size mid-stream. Everything
    // downstream (detection, tracking, the encoder, the regions file) works in one frame size: larger frames
    // were cropped to the first size, smaller ones failed in the encoder. Refused, with the way out.
    if (frames_decoded_ == 0) {
      note_first_frame(*frame);
      first_width_ = frame->width;
      first_height_ = frame->height;
      first_format_ = frame->format;
    } else if (frame->width != first_width_ || frame->height != first_height_ || frame->format != first_format_) {
      const char* from = av_get_pix_fmt_name(static_cast<AVPixelFormat>(first_format_));
      const char* to = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame->format));
      throw Error(fmt::format("{}: the video changes from {}x{} {} to {}x{} {} at frame {}; roadveil needs one size and "
                              "pixel format per video: convert it first, e.g. ffmpeg -i IN -vf scale={}:{},format={} OUT.mp4",
                              path_.string(), first_width_, first_height_, from ? from : "?", frame->width, frame->height,
                              to ? to : "?", frames_decoded_, first_width_, first_height_, from ? from : "yuv420p"));
    }
    // Some containers (raw streams, AVI) carry no timestamps: number the frames so that the output is still
    // monotonic and keeps the cadence.
    std::int64_t pts = frame->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = frame->pts;
    if (pts == AV_NOPTS_VALUE || (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_)) {
      const std::int64_t step = frame->pkt_duration > 0 ? frame->pkt_duration
                                : last_duration_ > 0    ? last_duration_
                                : info_.frame_rate.num > 0
                                    ? std::max<std::int64_t>(1, av_rescale_q(1, av_inv_q(info_.frame_rate), info_.time_base))
                                    : 1;
      pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + step;
    }
    if (last_pts_ != AV_NOPTS_VALUE) last_duration_ = pts - last_pts_;
    last_pts_ = pts;
    frame->pts = pts;
    ++frames_decoded_;
    return true;
  }
}

ReadResult InputFile::read(AVFrame* frame, AVPacket* packet) {
  av_frame_unref(frame);
  for (;;) {
    if (receive(frame)) return ReadResult::VideoFrame;
    if (ended_) return ReadResult::End;
    if (draining_) {
      ended_ = true;
      continue;
    }
    av_packet_unref(pending_.get());
    const int err = av_read_frame(format_, pending_.get());
    if (err < 0) {
      if (err != AVERROR_EOF) {
        read_error_ = true;
        read_error_text_ = av_error_text(err);
      }
      avcodec_send_packet(decoder_.get(), nullptr);
      draining_ = true;
      continue;
    }
    note_packet_end(*pending_);
    if (pending_->stream_index != video_index_) {
      av_packet_unref(packet);
      av_packet_move_ref(packet, pending_.get());
      return ReadResult::Packet;
    }
    // Samples outside an MP4 edit list (a clip cut from a longer recording without re-encoding) are read and
    // decoded for their references but never shown: they are not frames the file promised.
    if (pending_->flags & AV_PKT_FLAG_DISCARD) ++discarded_packets_;
    // A keyframe that shows nothing is damage, not a cut mid-GOP: its packets are never counted as a cut's.
    else if (frames_decoded_ == 0 && !seeked_ && pending_->pts != AV_NOPTS_VALUE && !(pending_->flags & AV_PKT_FLAG_KEY) &&
             pts_before_first_frame_.size() < 100000)
      pts_before_first_frame_.push_back(pending_->pts);
    const int logged = mjpeg_errors_logged_on_this_thread();
    const int send = avcodec_send_packet(decoder_.get(), pending_.get());
    if ((send < 0 && send != AVERROR(EAGAIN)) || mjpeg_errors_logged_on_this_thread() != logged) ++decode_errors_;
  }
}

bool InputFile::read_other_packet(AVPacket* packet) {
  format_->streams[video_index_]->discard = AVDISCARD_ALL;
  for (;;) {
    av_packet_unref(packet);
    const int err = av_read_frame(format_, packet);
    if (err < 0) {
      if (err != AVERROR_EOF) {
        read_error_ = true;
        read_error_text_ = av_error_text(err);
      }
      return false;
    }
    note_packet_end(*packet);
    if (packet->stream_index != video_index_) return true;
  }
}

void InputFile::note_first_frame(const AVFrame& frame) {
  // Frames come out in presentation order: a packet earlier than the first frame out never shows. (Packets
  // sent before it and shown after it are the decoder's reordering delay.)
  const std::int64_t first = frame.best_effort_timestamp != AV_NOPTS_VALUE ? frame.best_effort_timestamp : frame.pts;
  if (first != AV_NOPTS_VALUE && !seeked_) {
    // In seconds, as doubles (crafted timestamps could overflow a difference); a packet over a minute before
    // the first frame is no group of pictures' (a wrapped MPEG-TS clock, garbage) and is not counted.
    const double tb = av_q2d(info_.time_base);
    for (const std::int64_t pts : pts_before_first_frame_) {
      const double before = (static_cast<double>(first) - static_cast<double>(pts)) * tb;
      if (pts >= first || before > 60) continue;
      ++leading_not_decoded_;
      leading_not_decoded_seconds_ = std::max(leading_not_decoded_seconds_, before);
    }
  }
  std::vector<std::int64_t>().swap(pts_before_first_frame_);
}

std::string InputFile::leading_packets_not_decoded() const {
  if (leading_not_decoded_ == 0) return {};
  return fmt::format("the first {} video packets ({:.2f} s) depend on pictures before the start of the file (a "
                     "recording or cut that begins mid-GOP) and show nothing, in any player: the output begins "
                     "with the first picture that decodes", leading_not_decoded_, leading_not_decoded_seconds_);
}

void InputFile::seek(std::int64_t pts, std::int64_t byte_position) {
  // A stream without an index (MPEG-TS, -PS: timestamps that may jump) is sought by timestamp from a guess,
  // and FFmpeg's TS demuxer takes the first packet marked key that it meets after it: a split run's part
  // began decoding at frame 48 for the keyframe at frame 0, and every .ts was refused ("cannot be split"). At
  // a packet's own position it starts exactly there.
  int err = -1;
  // MPEG-TS and -PS only: Ogg also has AVFMT_TS_DISCONT, and its demuxer keeps its page state across a seek
  // by position (only its own timestamp seek resets it).
  const char* format_name = format_->iformat->name;
  if (byte_position >= 0 && (std::strcmp(format_name, "mpegts") == 0 || std::strcmp(format_name, "mpeg") == 0))
    err = av_seek_frame(format_, -1, byte_position, AVSEEK_FLAG_BYTE);
  if (err < 0) {
    err = pts == INT64_MIN ? avformat_seek_file(format_, video_index_, INT64_MIN, INT64_MIN, INT64_MIN, 0)
                           : av_seek_frame(format_, video_index_, pts, AVSEEK_FLAG_BACKWARD);
    if (err < 0 && pts != INT64_MIN) avformat_seek_file(format_, video_index_, INT64_MIN, INT64_MIN, INT64_MIN, 0);
  }
  avcodec_flush_buffers(decoder_.get());
  av_packet_unref(pending_.get());
  draining_ = ended_ = false;
  seeked_ = true;
  last_pts_ = AV_NOPTS_VALUE;
  last_duration_ = 0;
}

namespace {
// Sound and pictures run continuously to where the data ends; a subtitle cue is stored at its start with its
// whole duration, and cover art is one picture.
bool is_sound_or_moving_pictures(const AVStream& st) {
  const AVMediaType type = st.codecpar->codec_type;
  return (type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO) && !(st.disposition & AV_DISPOSITION_ATTACHED_PIC);
}

}  // namespace

void InputFile::note_packet_end(const AVPacket& p) {
  const AVStream* st = format_->streams[p.stream_index];
  std::int64_t t = p.pts != AV_NOPTS_VALUE ? p.pts : p.dts;
  if (t == AV_NOPTS_VALUE) return;
  // The durations it is measured against are end times on the file's clock: MP4's movie header takes in an
  // empty edit before a late first frame, FFmpeg's Matroska segment duration and DURATION tags are where the
  // last packet ends. Measured from the stream's start instead, a valid file starting at 5 s (a recording cut
  // from a longer one, a remux with -copyts) was "the data ends at 2.0 s of the 7.0 s the file declares",
  // exit 3. From the start still, where that is later: a stream starting before 0 (B-frame delay cut by an
  // edit list).
  if (st->start_time != AV_NOPTS_VALUE && st->start_time < 0) t -= st->start_time;
  const double end = static_cast<double>(t + std::max<std::int64_t>(0, p.duration)) * av_q2d(st->time_base);
  if (!std::isfinite(end)) return;
  data_end_seconds_ = std::max(data_end_seconds_, end);
  if (is_sound_or_moving_pictures(*st)) av_data_end_seconds_ = std::max(av_data_end_seconds_, end);
}

std::string InputFile::video_tracks_text() const {
  std::string text = std::to_string(1 + other_video_streams_.size()) + " video tracks (#" + std::to_string(video_index_) +
                     " " + video().codec_name + " " + std::to_string(video().width) + "x" + std::to_string(video().height);
  for (const std::string& s : other_video_streams_) text += ", " + s;
  return text + ")";
}

namespace {
// Matroska's per-track DURATION tag as FFmpeg writes it ("00:00:08.000000000"), in seconds; < 0 without one.
double duration_tag_seconds(const AVStream& st) {
  const AVDictionaryEntry* e = av_dict_get(st.metadata, "DURATION", nullptr, 0);
  int h = 0, m = 0;
  double sec = 0;
  if (!e || std::sscanf(e->value, "%d:%d:%lf", &h, &m, &sec) != 3 || h < 0 || m < 0 || sec < 0) return -1;
  return 3600.0 * h + 60.0 * m + sec;
}
}  // namespace

// How long the file says it is, and where the data that counts against it ends. A subtitle cue is stored at
// its start with its whole duration: in a Matroska file cut at 0.14 s of 1.0 s, a cue from 0 to 0.8 s made
// the data reach 0.8 s (reported whole, exit 0). Where every audio and video track of a Matroska file
// declares its own duration (the DURATION tags FFmpeg writes), the longest of them is measured against the
// audio and video packets alone: the segment's duration takes in the subtitles' last cue, which may end
// after the pictures in a whole file. Otherwise the segment's (or movie header's) duration is measured
// against every packet.
InputFile::DeclaredEnd InputFile::declared_end() const {
  if (std::strstr(format_->iformat->name, "matroska")) {
    double longest = -1;
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVStream* st = format_->streams[i];
      if (!is_sound_or_moving_pictures(*st)) continue;
      const double d = duration_tag_seconds(*st);
      if (d < 0) {
        longest = -1;
        break;
      }
      longest = std::max(longest, d);
    }
    if (longest > 0) return {longest, av_data_end_seconds_};
  }
  return {static_cast<double>(format_->duration) / AV_TIME_BASE, data_end_seconds_};
}

double InputFile::seconds_missing() const {
  // Only a duration the container declares (MKV's segment duration, MP4's movie header) says how much data
  // there should be; durations FFmpeg estimates from the bitrate or from timestamps prove nothing.
  if (!ended_ || seeked_ || format_->duration <= 0 || format_->duration_estimation_method != AVFMT_DURATION_FROM_STREAM)
    return 0;
  const auto [declared, data_end] = declared_end();
  const double missing = declared - data_end;
  // A valid file's last packet ends at its duration, give or take a frame or an audio block.
  return missing > 0.5 + 0.02 * declared ? missing : 0;
}

std::int64_t InputFile::frames_to_show() const {
  if (info_.frame_count <= 0) return 0;
  return std::max<std::int64_t>(1, info_.frame_count - samples_outside_edit_list_ - leading_not_decoded_);
}

std::int64_t InputFile::frames_promised() const {
  const AVStream* video = format_->streams[video_index_];
  const std::int64_t samples = video->nb_frames;
  // An AVI frame's timestamp is its chunk's place, and the header counts every chunk, also the zero-size ones
  // (the previous frame shown again: FFmpeg's own AVI muxer writes one for each frame a constant rate
  // repeats) that no decoder sees: a valid file was reported "decoded 48 of 49 video frames (truncated
  // file?)". Where the last frame decoded is the last chunk, the file is whole.
  if (samples > 0 && ended_ && std::strcmp(format_->iformat->name, "avi") == 0 && last_pts_ != AV_NOPTS_VALUE) {
    const std::int64_t start = video->start_time == AV_NOPTS_VALUE ? 0 : video->start_time;
    if (last_pts_ - start + 1 >= samples) return frames_decoded_;
  }
  // A recording cut mid-GOP (an MP4 remuxed from a cut stream keeps every sample): its first packets show
  // nothing, in any player, and were reported as damage ("decoded 150 of 177 video frames").
  return samples > 0 ? std::max<std::int64_t>(0, samples - discarded_packets_ - leading_not_decoded_) : 0;
}

bool InputFile::damaged() const {
  if (decode_errors_ > 0 || read_error_) return true;
  // Containers with an index (MP4, MKV) know their frame count: fewer decoded means the data ran out.
  const std::int64_t promised = frames_promised();
  return (promised > 0 && frames_decoded_ < promised) || seconds_missing() > 0;
}

std::string InputFile::damage_report() const {
  std::string out;
  const std::int64_t promised = frames_promised();
  if (promised > 0 && frames_decoded_ < promised)
    out += "decoded " + std::to_string(frames_decoded_) + " of " + std::to_string(promised) +
           " video frames (truncated file?)";
  if (out.empty() && seconds_missing() > 0) {
    const auto [declared, data_end] = declared_end();
    out += fmt::format("the data ends at {:.1f} s of the {:.1f} s the file declares (truncated file?)", data_end,
                       declared);
  }
  if (decode_errors_ > 0) {
    if (!out.empty()) out += "; ";
    out += std::to_string(decode_errors_) + " damaged video packets or frames";
  }
  if (read_error_) {
    if (!out.empty()) out += "; ";
    out += "reading stopped early: " + read_error_text_;
  }
  return out;
}

}  // namespace roadveil::media
