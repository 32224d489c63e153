#include "media/output_file.hpp"

#include <fstream>
#include <string_view>

#include "core/byte_source.hpp"
#include "core/utf8.hpp"
#include "media/mp4_boxes.hpp"
#include "media/photo_metadata.hpp"
#include "media/stream_pictures.hpp"
#include "media/range_reader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <array>
#include <map>
#include <cstring>
#include <vector>
#include <sched.h>
#include <strings.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/temporary_file.hpp"
#include "media/hdr_metadata.hpp"
#include "media/image_file.hpp"

extern "C" {
#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace roadveil::media {

// FFmpeg 5.x's Matroska muxer does not add an Opus track's codec delay back to its packets (the demuxer takes
// it off); later versions do (OutputFile::timestamp_offset_).
constexpr bool kMatroskaMuxerDropsCodecDelay = LIBAVFORMAT_VERSION_MAJOR < 60;

namespace {

// Tags of the input's video stream that describe its encoding, not its content: the re-encoded stream kept
// "encoder=Lavc libx265" as H.264, and mkvmerge's statistics (BPS, NUMBER_OF_BYTES, ...) of the old bitstream.
// mkvmerge writes them with a language ("BPS-eng") or without.
void drop_encoding_tags(AVDictionary*& tags) {
  // ALPHA_MODE: a WebM's VP9 with an alpha channel, which the re-encoded video does not have.
  static constexpr std::array<std::string_view, 9> kEncodingTags = {
      "encoder", "BPS", "DURATION", "NUMBER_OF_FRAMES", "NUMBER_OF_BYTES", "_STATISTICS_WRITING_APP",
      "_STATISTICS_WRITING_DATE_UTC", "_STATISTICS_TAGS", "ALPHA_MODE"};
  std::vector<std::string> stale;
  for (const AVDictionaryEntry* e = nullptr; (e = av_dict_get(tags, "", e, AV_DICT_IGNORE_SUFFIX));) {
    const std::string_view key = e->key;
    for (const std::string_view tag : kEncodingTags) {
      const bool same = key.size() >= tag.size() && ::strncasecmp(key.data(), tag.data(), tag.size()) == 0;
      if (same && (key.size() == tag.size() || key[tag.size()] == '-')) stale.emplace_back(key);
    }
  }
  for (const std::string& key : stale) av_dict_set(&tags, key.c_str(), nullptr, 0);
}

const AVCodec* pick_encoder(const EncodeOptions& options, AVCodecID source, const AVOutputFormat* ofmt,
                            const std::string& target_name) {
  const bool hevc = options.codec == VideoCodecChoice::Hevc ||
                    (options.codec == VideoCodecChoice::SameFamily && source == AV_CODEC_ID_HEVC);
  const char* wanted = hevc ? "libx265" : "libx264";
  const AVCodec* codec = avcodec_find_encoder_by_name(wanted);
  if (!codec) codec = avcodec_find_encoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  if (!codec) throw Error(std::string("no ") + (hevc ? "HEVC" : "H.264") + " encoder in this FFmpeg build");
  // Containers that cannot hold H.264/HEVC (.webm, .gif, .mpg) get their own default codec: these outputs
  // failed with "cannot write the container header (Invalid argument)".
  // A muxer that keeps no codec list answers < 0: H.264 goes in only when the muxer has no default of its
  // own or it is MPEG-PS (.mpg carries H.264 streams; its default MPEG-1 allows only broadcast frame rates).
  // GIF's default is GIF: H.264 there failed at the header.
  // MPEG-TS keeps no list either and defaults to MPEG-2, yet H.264/HEVC are what it carries today (broadcast,
  // dashcams): .ts outputs were MPEG-2, and failed at frame rates MPEG-2 does not allow (10 fps).
  const int fits = avformat_query_codec(ofmt, codec->id, FF_COMPLIANCE_NORMAL);
  if (fits == 1 || (fits < 0 && (ofmt->video_codec == AV_CODEC_ID_NONE || ofmt->video_codec == codec->id ||
                                 ofmt->video_codec == AV_CODEC_ID_MPEG1VIDEO || std::strcmp(ofmt->name, "mpegts") == 0)))
    return codec;
  // Only the other codecs that are known to work here: VP9 (.webm) and GIF. Others a container defaults to
  // take only broadcast sizes and rates (MPEG-2 in .vob and .mxf, DV) and failed with "cannot open the
  // mpeg2video encoder (Invalid argument)".
  const AVCodec* fitting = ofmt->video_codec == AV_CODEC_ID_VP9 ? avcodec_find_encoder_by_name("libvpx-vp9")
                           : ofmt->video_codec == AV_CODEC_ID_GIF ? avcodec_find_encoder(AV_CODEC_ID_GIF)
                                                                  : nullptr;
  if (!fitting) {
    const bool known = ofmt->video_codec == AV_CODEC_ID_VP9 || ofmt->video_codec == AV_CODEC_ID_GIF;
    throw Error(target_name + ": the " + ofmt->name + " container cannot hold " + avcodec_get_name(codec->id) +
                (known ? std::string(" and this FFmpeg has no ") + avcodec_get_name(ofmt->video_codec) + " encoder"
                       : std::string(", and roadveil writes no other video codec into it")) +
                ": use .mp4, .mkv or .mov");
  }
  // Said where the codec was asked for (--codec hevc -o x.webm wrote VP9 without a word).
  spdlog::log(options.codec == VideoCodecChoice::Hevc ? spdlog::level::warn : spdlog::level::info,
              "{}: the {} container cannot hold {}: encoding with {}", target_name, ofmt->name,
              avcodec_get_name(codec->id), fitting->name);
  return fitting;
}

bool is_full_range_yuv(AVPixelFormat f) {
  return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P || f == AV_PIX_FMT_YUVJ440P ||
         f == AV_PIX_FMT_YUVJ411P;
}

}  // namespace

bool is_rgb_like(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  return d && (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL));
}

ConversionTags conversion_tags(AVPixelFormat from, AVPixelFormat to) {
  ConversionTags tags;
  if (is_rgb_like(to)) return tags;  // RGB out: the tags say nothing about a matrix to undo
  if (is_rgb_like(from)) {
    tags.colorspace = AVCOL_SPC_BT709;  // the matrix the conversion uses (OutputFile sets it)
    tags.range = is_full_range_yuv(to) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  } else if (is_full_range_yuv(from) != is_full_range_yuv(to)) {
    // swscale takes the J formats as full range and the others as limited, and converts between them.
    tags.range = is_full_range_yuv(to) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  }
  return tags;
}

namespace {

// H.264/HEVC encoders need even sides for subsampled chroma. An odd-sized source keeps its exact size by
// encoding without subsampling on that axis (4:4:4), which every software decoder plays.
bool fits_size(AVPixelFormat f, int width, int height) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  return d && !((width & 1) && d->log2_chroma_w) && !((height & 1) && d->log2_chroma_h);
}

AVPixelFormat pick_pixel_format(const AVCodec* codec, AVPixelFormat source, int width, int height) {
  if (!codec->pix_fmts) return source;
  std::vector<AVPixelFormat> usable;
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (fits_size(*p, width, height)) usable.push_back(*p);
  if (usable.empty()) return source;
  if (std::find(usable.begin(), usable.end(), source) != usable.end()) return source;
  usable.push_back(AV_PIX_FMT_NONE);
  return avcodec_find_best_pix_fmt_of_list(usable.data(), source, 0, nullptr);
}

// Side data that describes how to show the picture, which stays true after re-encoding.
bool is_display_side_data(AVPacketSideDataType t) {
  return t == AV_PKT_DATA_DISPLAYMATRIX || t == AV_PKT_DATA_STEREO3D || t == AV_PKT_DATA_SPHERICAL ||
         t == AV_PKT_DATA_MASTERING_DISPLAY_METADATA || t == AV_PKT_DATA_CONTENT_LIGHT_LEVEL;
}

void copy_side_data(const AVStream* in, AVStream* out, bool display_only) {
  for (int i = 0; i < in->nb_side_data; ++i) {
    const AVPacketSideData& sd = in->side_data[i];
    if (display_only && !is_display_side_data(sd.type)) continue;
    uint8_t* dst = av_stream_new_side_data(out, sd.type, sd.size);
    if (dst) std::memcpy(dst, sd.data, sd.size);
  }
}

// FFmpeg's MPEG program stream muxers (.mpg, .vob and the DVD/VCD variants).
bool is_program_stream_muxer(std::string_view name) {
  return name == "mpeg" || name == "vob" || name == "dvd" || name == "svcd" || name == "vcd";
}

// Whether a muxer that keeps no codec list (avformat_query_codec < 0) holds a copied stream, where its code
// says so: GIF holds one GIF picture stream and nothing else; MPEG program streams (.mpg, .vob) hold only
// MPEG audio, AC-3, DTS and big-endian or DVD PCM (FFmpeg's mpegenc refuses any other audio at the header).
// Unknown otherwise. Copying AAC into .gif or .mpg failed with "cannot write the container header".
// What FFmpeg 5.1's muxers do with a stream where avformat_query_codec answers nothing (muxers that keep no
// codec list) or answers wrongly; nullopt where its answer holds. Measured by writing each codec with
// `ffmpeg -c copy` into each container.
std::optional<bool> muxer_holds(const AVOutputFormat* ofmt, const AVCodecParameters& par) {
  const std::string name = ofmt->name;
  const AVCodecID id = par.codec_id;
  if (name == "gif") return par.codec_type == AVMEDIA_TYPE_VIDEO;
  if (is_program_stream_muxer(name)) {
    if (par.codec_type != AVMEDIA_TYPE_AUDIO) return std::nullopt;
    static constexpr std::array<AVCodecID, 7> kAudio = {AV_CODEC_ID_MP1, AV_CODEC_ID_MP2, AV_CODEC_ID_MP3, AV_CODEC_ID_AC3,
                                                        AV_CODEC_ID_DTS, AV_CODEC_ID_PCM_S16BE, AV_CODEC_ID_PCM_DVD};
    return std::find(kAudio.begin(), kAudio.end(), id) != kAudio.end();
  }
  // MPEG-TS writes any other audio (PCM, FLAC, Vorbis, ALAC) as a private data stream no player plays.
  if (name == "mpegts" && par.codec_type == AVMEDIA_TYPE_AUDIO) {
    static constexpr std::array<AVCodecID, 10> kAudio = {AV_CODEC_ID_MP2, AV_CODEC_ID_MP3, AV_CODEC_ID_AAC, AV_CODEC_ID_AAC_LATM,
                                                         AV_CODEC_ID_AC3, AV_CODEC_ID_EAC3, AV_CODEC_ID_DTS, AV_CODEC_ID_TRUEHD,
                                                         AV_CODEC_ID_OPUS, AV_CODEC_ID_S302M};
    return std::find(kAudio.begin(), kAudio.end(), id) != kAudio.end();
  }
  // MP4 lists FLAC and TrueHD and takes them only as an experimental feature; MOV lists them and Opus and
  // refuses all three ("only supported in MP4"): the whole run failed at the header.
  if ((name == "mp4" || name == "mov") && (id == AV_CODEC_ID_FLAC || id == AV_CODEC_ID_TRUEHD)) return false;
  if (name == "mov" && id == AV_CODEC_ID_OPUS) return false;
  return std::nullopt;
}

// Whether the muxer takes the stream: its own list (avformat_query_codec), corrected by muxer_holds; a muxer
// without a list is trusted with audio and video, not with data and subtitles.
bool muxer_takes(const AVOutputFormat* ofmt, const AVCodecParameters& par) {
  if (const std::optional<bool> known = muxer_holds(ofmt, par)) return *known;
  const int ok = avformat_query_codec(ofmt, par.codec_id, FF_COMPLIANCE_NORMAL);
  return ok == 1 || (ok < 0 && par.codec_type != AVMEDIA_TYPE_SUBTITLE && par.codec_type != AVMEDIA_TYPE_DATA);
}

// The containers roadveil writes that hold this stream for sure, as extensions (".mkv or .mov"), or "".
std::string containers_holding(const AVCodecParameters& par);

std::string audio_refusal(const std::string& target_name, const AVOutputFormat* ofmt, const AVCodecParameters& par,
                          const std::string& what) {
  const std::string fitting = containers_holding(par);
  return target_name + ": the " + std::string(ofmt->name) + " container cannot hold " + what +
         (fitting.empty() ? std::string(", nor can any other container roadveil writes") : "; write " + fitting + " instead") +
         " (or leave the sound out first: ffmpeg -i IN -map 0 -map -0:a -c copy IN-silent.EXT)";
}

std::string containers_holding(const AVCodecParameters& par) {
  // A QuickTime timecode track: MOV and MP4 write it anew from the video's timecode tag (see the loop below).
  if (par.codec_tag == MKTAG('t', 'm', 'c', 'd')) return ".mov or .mp4";
  // The containers players take best first; AVI and MPEG-TS only where none of those holds the stream: a
  // cheap dashcam's AVI with IMA ADPCM sound was told that no container roadveil writes holds it, where .avi
  // does (exploratory test of 2026-12-07).
  static const std::array<std::pair<const char*, const char*>, 3> preferred = {
      {{"matroska", ".mkv"}, {"mov", ".mov"}, {"mp4", ".mp4"}}};
  static const std::array<std::pair<const char*, const char*>, 2> others = {{{"avi", ".avi"}, {"mpegts", ".ts"}}};
  std::vector<std::string> fit;
  const auto add_fitting = [&](const auto& candidates) {
    for (const auto& [muxer, ext] : candidates) {
      const AVOutputFormat* f = av_guess_format(muxer, nullptr, nullptr);
      if (f && avformat_query_codec(f, par.codec_id, FF_COMPLIANCE_NORMAL) == 1 && muxer_takes(f, par)) fit.emplace_back(ext);
    }
  };
  add_fitting(preferred);
  if (fit.empty()) add_fitting(others);
  std::string text;
  for (std::size_t i = 0; i < fit.size(); ++i) text += (i == 0 ? "" : i + 1 == fit.size() ? " or " : ", ") + fit[i];
  return text;
}

// Containers that store a display rotation: FFmpeg 5.1 writes the display matrix only into MP4/MOV track
// headers (Matroska, AVI, MPEG-TS and WebM have no place for it in this version).
// FFmpeg's MP4/MOV muxer and its kin (.m4v is "ipod", .3gp, .3g2, ...): one writer, one set of abilities.
bool is_mp4_family(const AVOutputFormat* ofmt) {
  for (const char* name : {"mp4", "mov", "ipod", "3gp", "3g2", "ismv", "f4v"})
    if (std::strcmp(ofmt->name, name) == 0) return true;
  return false;
}

bool stores_rotation(const AVOutputFormat* ofmt) { return is_mp4_family(ofmt); }



// MPEG-TS and MPEG-PS timestamps are a running clock (a broadcast's or a camera's), with a start somewhere:
// before 0 too, where the 33-bit clock wrapped early in the file (FFmpeg gives the frames before the wrap
// negative times).
bool starts_on_a_running_clock(const InputFile& input) {
  const AVFormatContext* f = input.format_context();
  if (!f->iformat || f->start_time == AV_NOPTS_VALUE || f->start_time == 0) return false;
  return std::strcmp(f->iformat->name, "mpegts") == 0 || std::strcmp(f->iformat->name, "mpeg") == 0;
}

}  // namespace

std::int64_t part_clock_bias(const InputFile& input) {
  const std::int64_t start = input.format_context()->start_time;
  return start != AV_NOPTS_VALUE && start < 0 ? -start : 0;
}

namespace {

// Output containers that carry such a clock as it is (the MPEG-TS and MPEG-PS muxers and their DVD/VCD kin).
bool keeps_a_running_clock(const AVOutputFormat* ofmt) {
  return std::string_view(ofmt->name) == "mpegts" || is_program_stream_muxer(ofmt->name);
}

std::string lower_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

void refuse_audio_the_output_cannot_hold(const InputFile& input, const std::filesystem::path& output) {
  const AVOutputFormat* ofmt = av_guess_format(nullptr, output.string().c_str(), nullptr);
  if (!ofmt) return;  // OutputFile names the extension
  const AVFormatContext* in = input.format_context();
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVCodecParameters& par = *in->streams[i]->codecpar;
    if (par.codec_type != AVMEDIA_TYPE_AUDIO || muxer_takes(ofmt, par)) continue;
    throw Error(audio_refusal(output.string(), ofmt, par, "audio stream #" + std::to_string(i) + " (" + avcodec_get_name(par.codec_id) + ")"));
  }
}

OutputFile::OutputFile(const std::filesystem::path& target, const InputFile& input, const EncodeOptions& options,
                       const std::vector<ReplacementPicture>& pictures)
    : target_(target), temp_(target), input_(input) {
  // A constructor that throws runs no destructor: whatever of the format context (streams, the opened
  // temporary file) was made before the throw is closed and removed here, not leaked.
  struct CloseOnThrow {
    OutputFile* self;
    bool done = false;
    ~CloseOnThrow() {
      if (!done) self->close_and_remove();
    }
  } close_on_throw{this};
  const std::string target_name = target.string();
  const AVOutputFormat* ofmt = av_guess_format(nullptr, target_name.c_str(), nullptr);
  if (!ofmt) throw Error(target_name + ": cannot tell the output container from the extension '" +
                         target.extension().string() + "' (use .mp4, .mov, .mkv or .avi)");
  int err = avformat_alloc_output_context2(&format_, ofmt, nullptr, temp_.path().c_str());
  if (err < 0 || !format_) throw Error(target_name + ": cannot create output (" + av_error_text(err) + ")");
  // What the video is encoded for: this file, or the final output this file is a part of.
  const std::filesystem::path& final_target = options.encode_for.empty() ? target : options.encode_for;
  const AVOutputFormat* final_fmt = options.encode_for.empty() ? ofmt : av_guess_format(nullptr, final_target.c_str(), nullptr);
  if (!final_fmt) {
    avformat_free_context(format_);
    format_ = nullptr;
    throw Error(final_target.string() + ": cannot tell the output container from the extension '" +
                final_target.extension().string() + "' (use .mp4, .mov, .mkv or .avi)");
  }

  // A sideways-stored video keeps its pixels as stored (the regions file and verify speak of them); only its
  // display matrix turns it upright, and only MP4/MOV can carry that. Elsewhere it would play sideways.
  if (const int turn = input.video().rotation_degrees; (turn != 0 || input.video().mirrored) && !stores_rotation(final_fmt)) {
    avformat_free_context(format_);
    format_ = nullptr;
    // Both directions named: tools disagree on the sign (ffprobe prints a 90-degree clockwise turn as -90).
    const std::string shown = turn == 0 ? std::string("mirrored")
                                        : fmt::format("turned {} degrees clockwise{}{}", turn,
                                                      turn == 180 ? "" : fmt::format(" ({} counter-clockwise)", 360 - turn),
                                                      input.video().mirrored ? " and mirrored" : "");
    throw Error(fmt::format("{}: is shown {} (a display matrix) and the {} container of {} cannot store that: the output "
                            "would play {}. Write .mp4 or .mov, which keep it, or turn the pixels first (ffmpeg -i IN "
                            "-c:a copy upright{})",
                            input.path().string(), shown, final_fmt->name, final_target.string(),
                            turn == 0 ? "unmirrored" : "sideways", lower_extension(final_target)));
  }
  const AVFormatContext* in = input.format_context();
  av_dict_copy(&format_->metadata, in->metadata, 0);
  // FFmpeg's MP4/MOV demuxer reports the input's file type box (its brands) as tags. They describe the
  // input's container, not the output's, which writes its own: copied, MP4/MOV wrote them again as metadata
  // keys that readers take over the real ones (a .mov made from an .mp4 read as major brand "isom").
  for (const char* brand : {"major_brand", "minor_version", "compatible_brands"}) av_dict_set(&format_->metadata, brand, nullptr, 0);
  // FFmpeg 5.1's 3GPP muxers write no tags at all (ffmpeg -c copy loses them too): said, not lost silently.
  if (!options.video_only && (std::strcmp(final_fmt->name, "3gp") == 0 || std::strcmp(final_fmt->name, "3g2") == 0)) {
    std::string keys;
    int count = 0;
    for (const AVDictionaryEntry* t = nullptr; (t = av_dict_get(format_->metadata, "", t, AV_DICT_IGNORE_SUFFIX));)
      if (std::strcmp(t->key, "encoder") != 0 && count++ < 4) keys += std::string(keys.empty() ? "" : ", ") + t->key;
    if (count > 0)
      dropped_.push_back({-1, fmt::format("the file's {} tag(s) ({}{}): FFmpeg's {} muxer writes none (.mp4 and .mov keep them)",
                                          count, keys, count > 4 ? ", ..." : "", final_fmt->name)});
  }
  // Chapters (a camera's markers, an edit's scenes), with their titles, as ffmpeg copies them; MP4, MOV and
  // Matroska write them, other containers have no place for them. avformat_free_context frees them.
  // Not into a video-only file (a split run's part, a mask video): the chapters are the whole file's. A
  // chapter that starts before zero or ends before it starts is dropped: Matroska refuses the whole file.
  if (in->nb_chapters > 0 && !options.video_only) {
    format_->chapters = static_cast<AVChapter**>(av_calloc(in->nb_chapters, sizeof(AVChapter*)));
    if (!format_->chapters) throw std::bad_alloc();
    for (unsigned i = 0; i < in->nb_chapters; ++i) {
      const AVChapter* c = in->chapters[i];
      if (c->start < 0 || c->end == AV_NOPTS_VALUE || c->end < c->start) {
        dropped_.push_back({-1, fmt::format("chapter {} (it starts before zero or ends before it starts)", i + 1)});
        continue;
      }
      auto* copy = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
      if (!copy) throw std::bad_alloc();
      copy->id = c->id;
      copy->time_base = c->time_base;
      copy->start = c->start;
      copy->end = c->end;
      av_dict_copy(&copy->metadata, c->metadata, 0);
      format_->chapters[format_->nb_chapters++] = copy;
    }
  }
  stream_map_.assign(in->nb_streams, -1);

  // Video: the re-encoded main stream.
  const AVStream* vin = input.video_stream();
  const AVCodec* codec = pick_encoder(options, vin->codecpar->codec_id, final_fmt, final_target.string());
  encoder_name_ = codec->name;
  encoder_.reset(avcodec_alloc_context3(codec));
  AVCodecContext* enc = encoder_.get();
  const AVCodecContext* dec = input.decoder();
  const AVPixelFormat source_format = options.source_pixel_format >= 0
                                          ? static_cast<AVPixelFormat>(options.source_pixel_format)
                                          : input.video().pixel_format;  // what read() hands on
  enc->width = dec->width;
  enc->height = dec->height;
  enc->pix_fmt = pick_pixel_format(codec, source_format, dec->width, dec->height);
  enc->sample_aspect_ratio = input.video().sample_aspect;  // the shape detection searched it in
  // The encoder runs in the input stream's time base so that every source timestamp survives unchanged
  // (variable frame rate included); the frame rate only guides rate control.
  enc->time_base = vin->time_base;
  const AVRational rate = input.video().frame_rate;
  if (rate.num > 0 && rate.den > 0) enc->framerate = rate;
  // Except into AVI, which has no timestamps, only a frame rate: in a time base of 1/600 (a phone's MP4) each
  // frame became one chunk and every other tick an empty one (1,195 index entries for 60 frames, a header
  // saying 600 fps, a file 50% bigger). There the encoder counts frames at the input's rate (as ffmpeg does);
  // a frame that would land on the one before moves to the next tick, so that none is lost.
  if (std::strcmp(final_fmt->name, "avi") == 0 && rate.num > 0 && rate.den > 0 && av_cmp_q(av_inv_q(rate), vin->time_base) != 0) {
    enc->time_base = av_inv_q(rate);
    retime_from_ = vin->time_base;
  }
  enc->color_range = dec->color_range;
  enc->color_primaries = dec->color_primaries;
  enc->color_trc = dec->color_trc;
  enc->colorspace = dec->colorspace;
  enc->chroma_sample_location = dec->chroma_sample_location;
  // Converted for the encoder, the pixels are what the conversion made, and the tags must say so: RGB (an
  // FFV1 or PNG video, tagged "GBR") became BT.709 limited-range YUV, and full-range JPEG YUV (MJPEG) limited
  // range for VP9. The decoder's tags were kept: red came out pink (YUV read as GBR) or washed out.
  if (enc->pix_fmt != source_format) {
    const ConversionTags tags = conversion_tags(source_format, enc->pix_fmt);
    if (tags.colorspace != AVCOL_SPC_UNSPECIFIED) enc->colorspace = tags.colorspace;
    if (tags.range != AVCOL_RANGE_UNSPECIFIED) enc->color_range = tags.range;
  }
  enc->thread_count = options.threads;
  if (final_fmt->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  // AVI stores no presentation timestamps: with reordered (B) frames players would show frames shifted.
  if (std::strcmp(final_fmt->name, "avi") == 0) enc->max_b_frames = 0;
  AVDictionary* enc_opts = nullptr;
  const bool x26x = codec->id == AV_CODEC_ID_H264 || codec->id == AV_CODEC_ID_HEVC;
  if (x26x) {
    av_dict_set(&enc_opts, "preset", options.preset.c_str(), 0);
    av_dict_set_int(&enc_opts, "crf", options.crf, 0);
  } else if (std::strcmp(codec->name, "libvpx-vp9") == 0) {
    // Constant quality, as x264's CRF (VP9's scale is 0-63; 31 is its recommended 1080p setting).
    av_dict_set_int(&enc_opts, "crf", std::clamp(options.crf + 13, 0, 63), 0);
    av_dict_set(&enc_opts, "b", "0", 0);
    av_dict_set(&enc_opts, "deadline", "good", 0);
    av_dict_set(&enc_opts, "cpu-used", "4", 0);
  } else if (codec->id == AV_CODEC_ID_MPEG1VIDEO || codec->id == AV_CODEC_ID_MPEG2VIDEO) {
    enc->flags |= AV_CODEC_FLAG_QSCALE;  // constant quantiser: these encoders have no CRF
    enc->global_quality = FF_QP2LAMBDA * 3;
  }
  // Interlaced sources stay interlaced: coding the fields as one progressive picture would blur motion and
  // tell players not to deinterlace (the output was flagged progressive). x264 codes fields (PAFF/MBAFF);
  // each frame's top_field_first reaches it from the decoder.
  const AVFieldOrder field_order = vin->codecpar->field_order;
  const bool interlaced = field_order == AV_FIELD_TT || field_order == AV_FIELD_BB || field_order == AV_FIELD_TB ||
                          field_order == AV_FIELD_BT;
  if (interlaced && codec->id == AV_CODEC_ID_H264) {
    enc->flags |= AV_CODEC_FLAG_INTERLACED_DCT | AV_CODEC_FLAG_INTERLACED_ME;
    enc->field_order = field_order;
  } else if (interlaced) {
    spdlog::warn("{}: the source is interlaced and the {} encoder codes progressive pictures: use --codec h264 to "
                 "keep the fields", target_name, codec->name);
  }
  // HDR10 static metadata (mastering display, content light level) is a property of the picture that the
  // encoder must repeat in its bitstream; FFmpeg 5.1's x264/x265 wrappers do not take it from the frames.
  const HdrStaticMetadata hdr = hdr_static_metadata(input);
  std::string x265_params = "log-level=error";
  // x264's lookahead thread buffers frames of its own (sync-lookahead: by default its thread count plus its
  // B-frames): ~30 MB at 1080p, for parallelism that a machine busy with detection does not have. Without it
  // x264 decides frame types in its encoding threads; the output bytes are the same (a 30 s 1080p clip:
  // 748 -> 718 MB, identical file).
  std::string x264_params = "sync-lookahead=0";
  // A 30 s 1080p clip: 624 -> 597 MB with 6 frames instead of veryfast's 10, as fast; x264 alone (ffmpeg,
  // CRF 16-23) then spends 1-2% more bits for the same PSNR. 720p and smaller keep the preset's 10.
  const int lookahead = x264_lookahead_within(options.preset, enc->width, enc->height);
  if (lookahead >= 0) x264_params += fmt::format(":rc-lookahead={}", lookahead);
  // The encoder keeps the input's time base (every timestamp exact) and x264 writes it into the stream's
  // timing info as its tick: a 29.97 fps MP4 (1/30000) came out declaring 30,000 frames a second in its own
  // headers (a raw stream taken out of it lasted 0.00005 s; ffprobe gave its packets no duration). A video of
  // one frame rate (the average is the rate every timestamp fits) is declared at that rate, as ffmpeg's
  // outputs are; the timestamps stay the input's. Variable frame rates (also a phone's that averages 29.97 fps
  // where its rate is 30) keep the time base's tick.
  if (enc->framerate.num > 0 && enc->framerate.den > 0 && av_q2d(vin->time_base) * av_q2d(enc->framerate) < 0.5 &&
      vin->avg_frame_rate.num > 0 && vin->avg_frame_rate.den > 0 && vin->r_frame_rate.num > 0 && vin->r_frame_rate.den > 0 &&
      std::abs(av_q2d(vin->avg_frame_rate) / av_q2d(vin->r_frame_rate) - 1.0) < 1e-5)  // 30 against 29.97: 1e-3
    x264_params += ":force-cfr=1";
  if (hdr.any() && x26x) {
    const std::string params = hdr.encoder_params(codec->id == AV_CODEC_ID_HEVC);
    if (codec->id == AV_CODEC_ID_HEVC) x265_params += ":" + params;
    else x264_params += ":" + params;
  }
  if (std::strcmp(codec->name, "libx265") == 0) av_dict_set(&enc_opts, "x265-params", x265_params.c_str(), 0);
  if (std::strcmp(codec->name, "libx264") == 0) av_dict_set(&enc_opts, "x264-params", x264_params.c_str(), 0);
  err = avcodec_open2(enc, codec, &enc_opts);
  av_dict_free(&enc_opts);
  if (x26x) crf_ = options.crf;  // VP9's and MPEG-1/2's quality scales are others
  // The source's size is known frame by frame from its packets, except where packets and pictures do not
  // pair up: H.264 coded as separate fields (two packets, one picture) and VP9 superframes (hidden reference
  // frames) would count about half the source, and the CRF would rise where it need not. Those keep the CRF.
  const AVCodecID source_codec = vin->codecpar->codec_id;
  const bool sizes_pair_up = !interlaced && source_codec != AV_CODEC_ID_VP9 && source_codec != AV_CODEC_ID_VP8;
  if (err >= 0 && std::strcmp(codec->name, "libx264") == 0 && options.crf_ceiling > options.crf &&
      !options.encoded_video && sizes_pair_up) {
    // The first decision after 1 s of video, then every 2 to 5 s (whole groups of pictures of the source).
    // A container's frame rate can be nonsense (1000 or 90000): windows stay within 1-120 fps worth.
    const double fps = std::clamp(rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 25.0, 1.0, 120.0);
    CrfControl::Settings control;
    control.floor = options.crf;
    control.ceiling = options.crf_ceiling;
    control.first_window = std::max(12, static_cast<int>(std::lround(fps)));
    control.window = std::max(24, static_cast<int>(std::lround(2.0 * fps)));
    control.max_window = std::max(control.window, static_cast<int>(std::lround(5.0 * fps)));
    crf_control_.emplace(control);
  }
  if (err < 0) {
    close_and_remove();
    throw Error(target_name + ": cannot open the " + codec->name + " encoder for " + std::to_string(enc->width) +
                "x" + std::to_string(enc->height) + " " + av_get_pix_fmt_name(enc->pix_fmt) + " (" +
                av_error_text(err) + ")");
  }
  // Every other stream: copied packet for packet where the container can hold it, in the input's order around
  // the video (an input whose sound comes first kept it first: scripts that pick streams by number get what
  // they picked in the input).
  auto copy_other_stream = [&](unsigned i) {
    const AVStream* s = in->streams[i];
    const AVCodecParameters* par = s->codecpar;
    const char* type = av_get_media_type_string(par->codec_type);
    // A data track has no codec id, only its four-character tag ("tmcd"): name it by that ("none" said nothing).
    char tag[AV_FOURCC_MAX_STRING_SIZE] = {};
    const std::string codec_name = par->codec_id == AV_CODEC_ID_NONE && par->codec_tag
                                       ? av_fourcc_make_string(tag, par->codec_tag)
                                       : avcodec_get_name(par->codec_id);
    const std::string what = std::string(type ? type : "unknown") + " stream #" + std::to_string(i) + " (" + codec_name + ")";
    // A QuickTime timecode track is written anew by the MP4/MOV muxer from the video track's "timecode" tag,
    // copied above: the output has one; it was reported dropped ("nor can any other container").
    const bool mov_family = std::strcmp(ofmt->name, "mov") == 0 || std::strcmp(ofmt->name, "mp4") == 0;
    if (par->codec_tag == MKTAG('t', 'm', 'c', 'd') && mov_family && av_dict_get(vin->metadata, "timecode", nullptr, 0))
      return;
    // An MP4's chapter track (the titles as text samples), which FFmpeg reads as the file's chapters (copied
    // above, and written as the output container writes chapters) and leaves unread: it was reported
    // dropped into .mkv (".mp4 can") while the chapters themselves were lost.
    if (par->codec_type == AVMEDIA_TYPE_DATA && par->codec_id == AV_CODEC_ID_BIN_DATA && s->discard == AVDISCARD_ALL &&
        in->nb_chapters > 0)
      return;
    if (still_picture_codec(*s) != AV_CODEC_ID_NONE ||
        (par->codec_type == AVMEDIA_TYPE_VIDEO && (s->disposition & AV_DISPOSITION_ATTACHED_PIC))) {
      // A picture could show a face or a plate: only its anonymized version may go out, and only Matroska keeps
      // it (as an attachment). FFmpeg 5.1's MP4/MOV muxer writes cover art only without the custom metadata
      // tags (use_metadata_tags, below) that keep GPS and camera tags, and those matter more here.
      const std::string picture = "attached picture #" + std::to_string(i) + " (" + avcodec_get_name(still_picture_codec(*s)) + ")";
      const auto pic = std::find_if(pictures.begin(), pictures.end(),
                                    [&](const ReplacementPicture& p) { return p.input_index == static_cast<int>(i); });
      if (pic == pictures.end()) {
        dropped_.push_back({static_cast<int>(i), picture + ": not anonymized"});
        return;
      }
      if (std::strcmp(ofmt->name, "matroska") != 0) {
        dropped_.push_back({static_cast<int>(i), picture + ": the " + std::string(ofmt->name) +
                                                     " output cannot keep it with the file's metadata (use .mkv)"});
        return;
      }
      AVStream* out = avformat_new_stream(format_, nullptr);
      out->codecpar->codec_type = AVMEDIA_TYPE_ATTACHMENT;
      out->codecpar->codec_id = pic->codec;
      out->codecpar->extradata = static_cast<uint8_t*>(av_mallocz(pic->bytes.size() + AV_INPUT_BUFFER_PADDING_SIZE));
      if (!out->codecpar->extradata) throw std::bad_alloc();
      std::memcpy(out->codecpar->extradata, pic->bytes.data(), pic->bytes.size());
      out->codecpar->extradata_size = static_cast<int>(pic->bytes.size());
      av_dict_copy(&out->metadata, s->metadata, 0);
      const bool png = pic->codec == AV_CODEC_ID_PNG;
      av_dict_set(&out->metadata, "mimetype", png ? "image/png" : "image/jpeg", 0);
      // The name says what the attachment now holds: a BMP or WebP written back as PNG is "x.png", not "x.bmp".
      const AVDictionaryEntry* name = av_dict_get(out->metadata, "filename", nullptr, 0);
      std::filesystem::path filename = name ? name->value : (png ? "cover.png" : "cover.jpg");
      std::string ext = filename.extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (png ? ext != ".png" : (ext != ".jpg" && ext != ".jpeg" && ext != ".jpe" && ext != ".jfif"))
        filename.replace_extension(png ? ".png" : ".jpg");
      av_dict_set(&out->metadata, "filename", filename.string().c_str(), 0);
      return;
    }
    // Matroska keeps attachments (fonts for subtitles) as streams; other containers have no place for them.
    const bool attachment_ok = par->codec_type == AVMEDIA_TYPE_ATTACHMENT && std::strcmp(ofmt->name, "matroska") == 0;
    if (par->codec_type == AVMEDIA_TYPE_UNKNOWN || (par->codec_type == AVMEDIA_TYPE_ATTACHMENT && !attachment_ok)) {
      dropped_.push_back({static_cast<int>(i), what + ": the " + std::string(ofmt->name) + " container cannot hold it"});
      return;
    }
    // Matroska attachments are meant for subtitle fonts, but may hold anything: another camera's video, a picture
    // in a format not recognised as one (AVIF, HEIC). Only fonts and text go out (text with any base64 JPEG or
    // PNG in it zeroed, as in photos' XMP); the rest could show what the video hides, and roadveil cannot look.
    const AttachmentKind attachment = par->codec_type == AVMEDIA_TYPE_ATTACHMENT ? attachment_kind(*par) : AttachmentKind::Other;
    if (attachment_ok && attachment == AttachmentKind::Other) {
      const AVDictionaryEntry* name = av_dict_get(s->metadata, "filename", nullptr, 0);
      const AVDictionaryEntry* mime = av_dict_get(s->metadata, "mimetype", nullptr, 0);
      dropped_.push_back({static_cast<int>(i), fmt::format("attachment #{} ({}, {}): neither a font nor text; it could hold "
                                                           "pictures or video that cannot be anonymized", i,
                                                           name ? name->value : "no name", mime ? mime->value : "no type")});
      return;
    }
    // Subtitles drawn as pictures (DVD, Blu-ray, DVB) are pictures roadveil does not look into, as an attachment
    // that is no font or text: they could show what the video hides.
    if (is_bitmap_subtitle(*par)) {
      dropped_.push_back({static_cast<int>(i), what + ": subtitles drawn as pictures, which roadveil does not look into; "
                                                      "they could show what the video hides"});
      return;
    }
    if (!attachment_ok && !muxer_takes(ofmt, *par)) {
      // The advice names only containers that do hold this codec (it once suggested .mkv/.mov for streams
      // neither can hold).
      const std::string fitting = containers_holding(*par);
      // Sound is the file's as much as its picture: an AAC track into WebM, a FLAC one into MP4 went with a
      // warning and exit 0, the output silent. Refused, with the containers that hold it; subtitles and data
      // streams, which players do without, still go with a warning.
      if (par->codec_type == AVMEDIA_TYPE_AUDIO) throw Error(audio_refusal(target_name, ofmt, *par, what));
      dropped_.push_back({static_cast<int>(i),
                          what + ": the " + std::string(ofmt->name) + " container cannot hold this codec" +
                              (fitting.empty() ? std::string(" (nor can any other container roadveil writes)")
                                               : " (" + fitting + " can)")});
      return;
    }
    AVStream* out = avformat_new_stream(format_, nullptr);
    avcodec_parameters_copy(out->codecpar, par);
    if (attachment == AttachmentKind::Text && out->codecpar->extradata)
      if (const int removed = remove_base64_data(out->codecpar->extradata, static_cast<std::size_t>(out->codecpar->extradata_size)))
        dropped_.push_back({-1, fmt::format("{} base64 picture(s) or data inside attachment #{} (zeroed: they could show "
                                            "what the video hides; the rest of it is kept)", removed, i)});
    if (may_carry_pictures(*par)) {
      int removed = 0;
      if (out->codecpar->extradata_size > 0) {
        std::vector<std::uint8_t> header(out->codecpar->extradata, out->codecpar->extradata + out->codecpar->extradata_size);
        removed = (par->codec_type == AVMEDIA_TYPE_SUBTITLE ? remove_ass_graphics(header) : 0) +
                  remove_stream_pictures(header.data(), header.size());
        if (removed > 0) {
          av_freep(&out->codecpar->extradata);
          out->codecpar->extradata = static_cast<uint8_t*>(av_mallocz(header.size() + AV_INPUT_BUFFER_PADDING_SIZE));
          if (!out->codecpar->extradata) throw std::bad_alloc();
          std::memcpy(out->codecpar->extradata, header.data(), header.size());
          out->codecpar->extradata_size = static_cast<int>(header.size());
        }
      }
      scrubbed_.push_back({static_cast<int>(i), what, removed});
    }
    // The input's codec tag can be wrong for another container (e.g. AVI fourcc into MP4): let the muxer pick.
    if (av_codec_get_id(ofmt->codec_tag, par->codec_tag) != par->codec_id) out->codecpar->codec_tag = 0;
    out->time_base = s->time_base;
    out->disposition = s->disposition;
    av_dict_copy(&out->metadata, s->metadata, 0);
    copy_side_data(s, out, false);
    stream_map_[i] = out->index;
  };
  const unsigned video_index = static_cast<unsigned>(input.video_index());
  if (!options.video_only)
    for (unsigned i = 0; i < video_index; ++i) copy_other_stream(i);
  video_out_ = avformat_new_stream(format_, nullptr);
  avcodec_parameters_from_context(video_out_->codecpar, enc);
  if (const AVCodecParameters* given = options.encoded_video) {
    if (given->codec_id != enc->codec_id || given->width != enc->width || given->height != enc->height) {
      close_and_remove();
      throw Error(fmt::format("{}: the encoded video is {} {}x{}, where these settings make {} {}x{}", target_name,
                              avcodec_get_name(given->codec_id), given->width, given->height,
                              avcodec_get_name(enc->codec_id), enc->width, enc->height));
    }
    // Its own SPS/PPS (the same settings make the same ones; the encoder's SEI may name other thread counts).
    // Without global headers (MPEG-TS) they are in the packets, as the encoder put them.
    av_freep(&video_out_->codecpar->extradata);
    video_out_->codecpar->extradata_size = 0;
    if (given->extradata_size > 0 && (final_fmt->flags & AVFMT_GLOBALHEADER)) {
      video_out_->codecpar->extradata =
          static_cast<uint8_t*>(av_mallocz(static_cast<std::size_t>(given->extradata_size) + AV_INPUT_BUFFER_PADDING_SIZE));
      if (!video_out_->codecpar->extradata) throw std::bad_alloc();
      std::memcpy(video_out_->codecpar->extradata, given->extradata, static_cast<std::size_t>(given->extradata_size));
      video_out_->codecpar->extradata_size = given->extradata_size;
    }
    // Parts are MP4, which stores H.264/HEVC with length prefixes (avcC/hvcC) whatever the encoder wrote; AVI
    // and MPEG-TS want start codes with the parameter sets in the stream, as the encoder writes them for these
    // containers ("H.264 bitstream malformed, no startcode found").
    const bool length_prefixed = given->extradata_size > 0 && given->extradata[0] == 1;
    if (!(final_fmt->flags & AVFMT_GLOBALHEADER) && length_prefixed &&
        (given->codec_id == AV_CODEC_ID_H264 || given->codec_id == AV_CODEC_ID_HEVC)) {
      const char* name = given->codec_id == AV_CODEC_ID_H264 ? "h264_mp4toannexb" : "hevc_mp4toannexb";
      const AVBitStreamFilter* filter = av_bsf_get_by_name(name);
      AVBSFContext* bsf = nullptr;
      if (filter && av_bsf_alloc(filter, &bsf) >= 0) to_annexb_.reset(bsf);
      if (!to_annexb_ || avcodec_parameters_copy(to_annexb_->par_in, given) < 0 || av_bsf_init(to_annexb_.get()) < 0) {
        close_and_remove();
        throw Error(target_name + ": cannot convert the parts' " + avcodec_get_name(given->codec_id) + " for the " +
                    ofmt->name + " container (" + name + ")");
      }
    }
  }
  video_out_->time_base = enc->time_base;
  video_out_->avg_frame_rate = vin->avg_frame_rate;
  video_out_->r_frame_rate = vin->r_frame_rate;
  video_out_->sample_aspect_ratio = enc->sample_aspect_ratio;
  video_out_->disposition = vin->disposition;
  av_dict_copy(&video_out_->metadata, vin->metadata, 0);
  drop_encoding_tags(video_out_->metadata);
  av_dict_set(&video_out_->metadata, "encoder", fmt::format("{} {}", LIBAVCODEC_IDENT, codec->name).c_str(), 0);
  copy_side_data(vin, video_out_, true);
  // Also in the container (Matroska's colour elements): players read it there before the first frame.
  hdr.add_to(video_out_);
  if (codec->id == AV_CODEC_ID_HEVC && (lower_extension(target) == ".mp4" || lower_extension(target) == ".mov"))
    video_out_->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');  // plays on Apple devices
  stream_map_[input.video_index()] = video_out_->index;

  if (!options.video_only)
    for (unsigned i = video_index + 1; i < in->nb_streams; ++i) copy_other_stream(i);

  // A transport stream's program (service id, name and provider: a broadcast capture's channel, the name a
  // camera gives its recordings) stays the input's, where FFmpeg's muxer would write its own "Service01" by
  // "FFmpeg" (as `ffmpeg -c copy` does): the program that holds the video, with every stream written in it.
  // One program only: several services' names together can overflow the one section FFmpeg 5.1's muxer
  // writes them in, and the header fails ("Cannot allocate memory"; two 255-character names did, in review).
  // A name of more than 254 bytes (the muxer's limit with its UTF-8 marker: the demuxer's UTF-8 of a DVB
  // string can be longer than the string) is left to the muxer's default rather than failing the file.
  if (std::strcmp(ofmt->name, "mpegts") == 0) {
    const AVProgram* video_program = nullptr;
    for (unsigned p = 0; p < in->nb_programs && !video_program; ++p)
      for (unsigned k = 0; k < in->programs[p]->nb_stream_indexes; ++k)
        if (in->programs[p]->stream_index[k] == video_index) video_program = in->programs[p];
    if (AVProgram* copy = video_program ? av_new_program(format_, video_program->id) : nullptr) {
      for (const char* key : {"service_name", "service_provider"})
        if (const AVDictionaryEntry* e = av_dict_get(video_program->metadata, key, nullptr, 0); e && std::strlen(e->value) <= 254)
          av_dict_set(&copy->metadata, key, e->value, 0);
      for (unsigned i = 0; i < format_->nb_streams; ++i) av_program_add_stream_index(format_, video_program->id, i);
    }
  }

  if (!(ofmt->flags & AVFMT_NOFILE)) {
    err = avio_open(&format_->pb, local_file_url(temp_.path()).c_str(), AVIO_FLAG_WRITE);
    if (err < 0) {
      close_and_remove();
      throw Error(target_name + ": cannot write in " + target.parent_path().string() + " (" + av_error_text(err) + ")");
    }
  }
  AVDictionary* mux_opts = nullptr;
  // Keep user tags (GPS location, camera make) that MP4 otherwise only writes for a fixed set of keys: in the
  // whole family (an .m4v or .3gp output lost a phone's location and model, and .3gp its title, silently).
  if (is_mp4_family(ofmt)) av_dict_set(&mux_opts, "movflags", "+use_metadata_tags", 0);
  // FFmpeg's muxer writes Blu-ray/AVCHD's 192-byte packets (a timestamp before each) when the name it is given
  // ends in .m2ts, and that name is the temporary one: a camcorder's .m2ts came out as plain 188-byte TS under
  // its name (found in review).
  if (std::strcmp(ofmt->name, "mpegts") == 0 && lower_extension(target) == ".m2ts") av_dict_set(&mux_opts, "mpegts_m2ts_mode", "1", 0);
  if (!options.encode_for.empty() && is_mp4_family(ofmt)) {
    // A split run's part: its first frame's time is an empty edit in the movie's time scale, 1000 by default,
    // and came back from the join rounded to the millisecond (a 29.97 fps part starting at 0.8008 s began at
    // 0.800, every frame after a cut 24 ticks early); in the video's own time scale it is exact.
    if (video_out_->time_base.den > 0) av_dict_set_int(&mux_opts, "movie_timescale", video_out_->time_base.den, 0);
    // A part is one video stream: the input's timecode tag made the MP4/MOV muxer add a timecode track, and the
    // join refused the part ("not a part written by roadveil"). The join writes the input's own.
    av_dict_set(&mux_opts, "write_tmcd", "0", 0);
  }
  err = avformat_write_header(format_, &mux_opts);
  av_dict_free(&mux_opts);
  // Matroska keeps an Opus track's pre-skip as its codec delay, and FFmpeg 5.1's demuxer takes that delay off
  // every packet's timestamp (its first packet starts 6.5 ms before zero) while its muxer does not put it
  // back: the negative first packet made the muxer move every stream later by it, the video 7 ms later at
  // each pass. The packets of such a track are written with the delay added back, as they were stored.
  timestamp_offset_.assign(format_->nb_streams, 0);
  // MPEG-TS and MPEG-PS carry a running clock, not a presentation that starts at zero: a recording cut from a
  // camera's stream starts at e.g. 3601 s. Written as it is into MP4, Matroska or AVI, that clock became an
  // hour-long empty edit (a 2 s clip declared 3603 s long); ffmpeg takes the input's start time off every
  // stream, and so does this (the streams keep their offsets to each other). A TS or PS output keeps the
  // clock; so do the parts of a split run (MP4 holding the input's timestamps until they are joined), and the
  // join takes the start off as one run would. The regions file, review and render speak of the input's
  // frames (their own timestamps); verify counts the output's frames from its start. A clock that wrapped
  // near the start begins before 0: left so, MP4 and MOV hid the frames and sound before 0 behind an edit
  // list (a TS wrapping 0.62 s in lost its first 16 frames and 0.62 s of audio to players, exit 0).
  if (err >= 0 && options.encode_for.empty() && starts_on_a_running_clock(input) && !keeps_a_running_clock(ofmt)) {
    const std::int64_t start = input.format_context()->start_time;
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      timestamp_offset_[i] -= av_rescale_q(start, AV_TIME_BASE_Q, format_->streams[i]->time_base);
  }
  // A split run's part keeps the input's clock for the join, but an MP4 hides what comes before 0 behind an edit
  // list: the part of a clock that wrapped near its start lost its first frame at the join, and its video came
  // out 61 ms early against the sound. Its times are moved up by the start; the join takes that off again.
  if (err >= 0 && !options.encode_for.empty())
    if (const std::int64_t bias = part_clock_bias(input); bias > 0)
      for (unsigned i = 0; i < format_->nb_streams; ++i)
        timestamp_offset_[i] += av_rescale_q(bias, AV_TIME_BASE_Q, format_->streams[i]->time_base);
  // Only for the FFmpeg whose muxer leaves the delay out (5.x: its ts_offset line is commented out); a muxer
  // that adds it itself would get it twice.
  if (kMatroskaMuxerDropsCodecDelay && err >= 0 && (std::strcmp(ofmt->name, "matroska") == 0 || std::strcmp(ofmt->name, "webm") == 0))
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVStream* st = format_->streams[i];
      if (st->codecpar->codec_id != AV_CODEC_ID_OPUS || st->codecpar->initial_padding <= 0) continue;
      // As the demuxer converts it: samples at 48 kHz to nanoseconds (the CodecDelay element) to the track's time base.
      const std::int64_t ns = av_rescale_q(st->codecpar->initial_padding, {1, 48000}, {1, 1000000000});
      timestamp_offset_[i] += av_rescale_q(ns, {1, 1000000000}, st->time_base);
    }
  if (err < 0) {
    // Muxers that do not list their codecs (GIF, MPEG-PS) refuse one only here: say which codecs it was given
    // (MPEG-PS takes H.264 but not AAC audio).
    std::string streams;
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVCodecParameters* par = format_->streams[i]->codecpar;
      const char* type = av_get_media_type_string(par->codec_type);
      streams += std::string(streams.empty() ? "" : ", ") + avcodec_get_name(par->codec_id) + " " + (type ? type : "data");
    }
    close_and_remove();
    throw Error(target_name + ": cannot write the container header (" + av_error_text(err) + "): the " + ofmt->name +
                " container may not hold one of " + streams +
                "; roadveil writes .mp4, .mkv, .mov, .avi and .ts (H.264/HEVC) and .webm (VP9)");
  }
  header_written_ = true;
  if (!options.video_only && options.encode_for.empty()) keep_foreign_boxes(ofmt);
  packet_ = make_packet();
  if (enc->pix_fmt != source_format) {
    converted_ = make_frame();
    converted_->format = enc->pix_fmt;
    converted_->width = enc->width;
    converted_->height = enc->height;
    if (av_frame_get_buffer(converted_.get(), 0) < 0) throw std::bad_alloc();
    sws_ = sws_getContext(dec->width, dec->height, source_format, enc->width, enc->height, enc->pix_fmt,
                          SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
    if (!sws_) throw Error(target_name + ": cannot convert " + av_get_pix_fmt_name(source_format) + " for the encoder");
    if (is_rgb_like(source_format) && !is_rgb_like(enc->pix_fmt)) {
      // RGB into YUV with the BT.709 matrix the output is tagged with (swscale's default is BT.601).
      const int* table = sws_getCoefficients(SWS_CS_ITU709);
      sws_setColorspaceDetails(sws_, table, 1, table, enc->color_range == AVCOL_RANGE_JPEG ? 1 : 0, 0, 1 << 16, 1 << 16);
    }
    spdlog::debug("{}: the {} encoder cannot take {}: converting to {}", target_name, codec->name,
                  av_get_pix_fmt_name(source_format), av_get_pix_fmt_name(enc->pix_fmt));
  }
  close_on_throw.done = true;
}

OutputFile::~OutputFile() {
  if (!finished_) close_and_remove();
  if (sws_) sws_freeContext(sws_);
}

void OutputFile::close_and_remove() {
  if (format_) {
    if (format_->pb && !(format_->oformat->flags & AVFMT_NOFILE)) avio_closep(&format_->pb);
    avformat_free_context(format_);
    format_ = nullptr;
  }
  temp_.remove();
}

void OutputFile::write_video(AVFrame* frame) {
  AVFrame* send = frame;
  if (converted_) {
    if (av_frame_make_writable(converted_.get()) < 0) throw std::bad_alloc();
    sws_scale(sws_, frame->data, frame->linesize, 0, frame->height, converted_->data, converted_->linesize);
    av_frame_copy_props(converted_.get(), frame);
    send = converted_.get();
  }
  send->pict_type = AV_PICTURE_TYPE_NONE;  // let the encoder place key frames
  const std::int64_t input_pts = send->pts;
  std::int64_t duration = 0;
  if (retime_from_.den > 0 && input_pts != AV_NOPTS_VALUE) {
    std::int64_t pts = av_rescale_q(input_pts, retime_from_, encoder_->time_base);
    if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) pts = last_pts_ + 1;
    send->pts = pts;
    duration = 1;
  } else {
    duration = frame->pkt_duration > 0                                        ? frame->pkt_duration
               : (last_pts_ != AV_NOPTS_VALUE && frame->pts > last_pts_) ? frame->pts - last_pts_
                                                                           : 0;
  }
  last_pts_ = send->pts;
  durations_.emplace_back(send->pts, duration);
  if (crf_control_) crf_control_->frame_sent(send->pts, frame->pkt_size, frame->key_frame != 0);
  const int err = avcodec_send_frame(encoder_.get(), send);
  send->pts = input_pts;  // the caller's frame keeps its own (the encoder took a reference with the new one)
  if (err < 0) throw Error(target_.string() + ": encoding failed (" + av_error_text(err) + ")");
  ++frames_written_;
  drain_encoder();
}

void OutputFile::drain_encoder() {
  for (;;) {
    const int err = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
    if (err < 0) throw Error(target_.string() + ": encoding failed (" + av_error_text(err) + ")");
    // Encoders with delay do not carry frame durations to their packets; without one the container's last
    // frame would last zero time and the duration would shrink.
    if (packet_->duration <= 0) {
      for (auto it = durations_.begin(); it != durations_.end(); ++it) {
        if (it->first == packet_->pts) {
          packet_->duration = it->second;
          durations_.erase(it);
          break;
        }
      }
    }
    while (durations_.size() > 64) durations_.pop_front();
    if (crf_control_) {
      if (const auto crf = crf_control_->packet_received(packet_->pts, packet_->size)) {
        // FFmpeg's libx264 wrapper hands a changed "crf" to x264_encoder_reconfig with the next frame.
        av_opt_set_double(encoder_->priv_data, "crf", *crf, 0);
        spdlog::debug("{}: CRF {:.1f} from the frame after {}, for an output no bigger than the source",
                      target_.string(), *crf, frames_written_);
      }
    }
    packet_->stream_index = video_out_->index;
    av_packet_rescale_ts(packet_.get(), encoder_->time_base, video_out_->time_base);
    offset_timestamps(packet_.get());
    const int werr = av_interleaved_write_frame(format_, packet_.get());
    if (werr < 0) throw Error(target_.string() + ": writing failed (" + av_error_text(werr) + ")");
  }
}

void OutputFile::write_encoded_video(AVPacket* packet, AVRational time_base) {
  av_packet_rescale_ts(packet, time_base, video_out_->time_base);
  packet->stream_index = video_out_->index;
  offset_timestamps(packet);
  auto write = [&](AVPacket* p) {
    p->stream_index = video_out_->index;
    p->pos = -1;
    const int err = av_interleaved_write_frame(format_, p);
    if (err < 0) throw Error(target_.string() + ": writing failed (" + av_error_text(err) + ")");
  };
  if (!to_annexb_) {
    write(packet);
  } else {
    // One packet in, one out: the filter only rewrites the start of each NAL unit and adds parameter sets.
    int err = av_bsf_send_packet(to_annexb_.get(), packet);
    while (err >= 0) {
      err = av_bsf_receive_packet(to_annexb_.get(), packet);
      if (err >= 0) write(packet);
    }
    if (err != AVERROR(EAGAIN)) throw Error(target_.string() + ": converting the parts' video failed (" + av_error_text(err) + ")");
  }
  ++frames_written_;
}

void OutputFile::keep_foreign_boxes(const AVOutputFormat* ofmt) {
  const AVFormatContext* in = input_.format_context();
  if (!in->iformat || !std::string_view(in->iformat->name).starts_with("mov,mp4")) return;
  std::vector<Mp4Box> boxes;
  std::shared_ptr<ByteSource> source;
  try {
    source = input_.range_reader() ? input_.range_reader()->source() : std::make_shared<FileByteSource>(input_.path());
    // An object in a bucket is read a box header per request: a fragmented file's thousands of fragments
    // are not walked there.
    boxes = foreign_mp4_boxes(*source, input_.range_reader() ? 64 : 100000);
  } catch (const std::exception& e) {
    spdlog::debug("{}: boxes not listed ({})", input_.path().string(), e.what());
    return;
  }
  const bool mp4_family = is_mp4_family(ofmt);
  std::int64_t kept = 0;
  for (const Mp4Box& box : boxes) {
    const std::string what = fmt::format("the {}'{}' box{} ({} bytes of data FFmpeg does not read: a camera's GPS log or "
                                         "records?)", box.parent.empty() ? "top-level " : "", box_type_text(box.type),
                                         box.parent.empty() ? "" : " inside '" + box.parent + "'", box.size);
    if (!box.parent.empty()) {
      // A child of moov may point into mdat, whose offsets the new file does not keep.
      dropped_.push_back({-1, what + ": it may refer to the input's layout, so it cannot be copied"});
    } else if (!mp4_family) {
      dropped_.push_back({-1, what + ": the " + std::string(ofmt->name) + " container has no place for it (.mp4 and .mov keep it)"});
    } else if (kept + box.size > kMaxAppendedBoxBytes) {
      dropped_.push_back({-1, what + ": more than " + std::to_string(kMaxAppendedBoxBytes >> 20) + " MiB of such boxes"});
    } else {
      try {
        std::string bytes = source->read(box.offset, box.size);
        // Only text goes out (an NMEA log, XMP after a uuid box's 16-byte id), with its base64 data zeroed:
        // binary data could hold a thumbnail, a preview or another camera's stream of what the video hides,
        // in a format nothing here can look inside (as for Matroska attachments).
        const std::size_t header = static_cast<std::size_t>(box.header) + (box.type == "uuid" ? 16u : 0u);
        if (bytes.size() < header || !is_plain_text(std::string_view(bytes).substr(header))) {
          dropped_.push_back({-1, what + ": binary data, which could hold a picture or video of what the video hides "
                                         "and cannot be looked inside"});
          continue;
        }
        auto* data = reinterpret_cast<std::uint8_t*>(bytes.data()) + header;
        if (const int removed = remove_base64_data(data, bytes.size() - header); removed > 0)
          dropped_.push_back({-1, fmt::format("{} base64 picture(s) or data inside the top-level '{}' box (zeroed: they "
                                              "could show what the video hides; the rest of the box is kept)", removed,
                                              box_type_text(box.type))});
        appended_boxes_.push_back(std::move(bytes));
        kept += box.size;
        spdlog::debug("{}: the top-level '{}' box ({} bytes) is copied as it is", input_.path().string(), box_type_text(box.type), box.size);
      } catch (const std::exception& e) {
        dropped_.push_back({-1, what + ": " + e.what()});
      }
    }
  }
}

void OutputFile::offset_timestamps(AVPacket* packet) const {
  if (packet->stream_index < 0 || static_cast<std::size_t>(packet->stream_index) >= timestamp_offset_.size()) return;
  if (const std::int64_t offset = timestamp_offset_[static_cast<std::size_t>(packet->stream_index)]; offset != 0) {
    if (packet->pts != AV_NOPTS_VALUE) packet->pts += offset;
    if (packet->dts != AV_NOPTS_VALUE) packet->dts += offset;
  }
}

void OutputFile::write_packet(AVPacket* packet) {
  const int in_index = packet->stream_index;
  if (in_index < 0 || in_index >= static_cast<int>(stream_map_.size()) || stream_map_[in_index] < 0) {
    av_packet_unref(packet);
    return;
  }
  AVStream* out = format_->streams[stream_map_[in_index]];
  av_packet_rescale_ts(packet, input_.format_context()->streams[in_index]->time_base, out->time_base);
  packet->stream_index = out->index;
  offset_timestamps(packet);
  packet->pos = -1;
  for (ScrubbedStream& scrubbed : scrubbed_)
    if (scrubbed.input_index == in_index && packet->data && packet->size > 0) {
      // Zeroing may not touch a buffer the demuxer shares; a packet of these streams is small and rare.
      if (av_packet_make_writable(packet) < 0) throw std::bad_alloc();
      scrubbed.pictures += remove_stream_pictures(packet->data, static_cast<std::size_t>(packet->size));
    }
  const int err = av_interleaved_write_frame(format_, packet);
  if (err < 0) throw Error(target_.string() + ": writing a copied packet failed (" + av_error_text(err) + ")");
}

std::vector<std::string> OutputFile::scrubbed_pictures() const {
  std::vector<std::string> said;
  for (const ScrubbedStream& s : scrubbed_)
    if (s.pictures > 0)
      said.push_back(fmt::format("{} picture(s) or base64 data inside {} zeroed (they could show what the video hides; "
                                 "the rest of the stream is kept)", s.pictures, s.what));
  return said;
}

void OutputFile::finish() {
  int err = avcodec_send_frame(encoder_.get(), nullptr);
  if (err < 0 && err != AVERROR_EOF) throw Error(target_.string() + ": flushing the encoder failed");
  drain_encoder();
  err = av_write_trailer(format_);
  if (err < 0) throw Error(target_.string() + ": writing the container index failed (" + av_error_text(err) + ")");
  if (format_->pb && !(format_->oformat->flags & AVFMT_NOFILE)) {
    avio_flush(format_->pb);
    if (format_->pb->error < 0) throw Error(target_.string() + ": writing failed (disk full?)");
    avio_closep(&format_->pb);
  }
  avformat_free_context(format_);
  format_ = nullptr;
  if (!appended_boxes_.empty()) {
    // After the muxer's moov: top-level boxes may come in any order after ftyp, and these hold no offsets.
    std::ofstream out(temp_.path(), std::ios::binary | std::ios::app);
    for (const std::string& box : appended_boxes_) out.write(box.data(), static_cast<std::streamsize>(box.size()));
    out.flush();
    if (!out) throw Error(target_.string() + ": writing failed (disk full?)");
  }
  if (const std::error_code ec = temp_.move_into_place())
    throw Error(target_.string() + ": cannot move the finished file into place (" + ec.message() + ")");
  finished_ = true;
}

int one_encoder_thread_per_core(int height) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return 0;
  const int cores = CPU_COUNT(&cpus);
  if (cores <= 0) return 0;
  const int rows = (std::max(height, 1) + 15) / 16;
  return std::clamp(std::min(cores, rows / 2), 1, 128);  // 128: X264_THREAD_MAX
}

int x264_lookahead_within(const std::string& preset, int width, int height, std::size_t memory) {
  // x264's presets (x264 common/base.c: rc.i_lookahead).
  static const std::map<std::string, int> kPresetLookahead = {
      {"ultrafast", 0}, {"superfast", 0}, {"veryfast", 10}, {"faster", 20}, {"fast", 30},
      {"medium", 40},   {"slow", 50},     {"slower", 60},   {"veryslow", 60}};
  const auto it = kPresetLookahead.find(preset);
  if (memory == 0 || it == kPresetLookahead.end() || it->second > kPresetLookahead.at("veryfast") || width <= 0 ||
      height <= 0)
    return -1;
  // An input frame in x264's lookahead: the picture with 32 pixels of padding on each side (luma and
  // interleaved chroma, 1.5 bytes a pixel) and four half-resolution luma planes for its motion estimates
  // (another byte a pixel): ~2.9 bytes a pixel, 5.9 MB at 1920x1080 (6 MB mappings in /proc/PID/smaps).
  const double frame_bytes = 2.9 * static_cast<double>(width) * static_cast<double>(height);
  const int fits = std::max(4, static_cast<int>(static_cast<double>(memory) / frame_bytes));
  return fits < it->second ? fits : -1;
}

}  // namespace roadveil::media
