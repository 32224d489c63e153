#pragma once
// RAII owners for FFmpeg objects and error text, shared by every stage that touches FFmpeg.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}
#include <filesystem>
#include <memory>
#include <string>

namespace roadveil::media {

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
struct BitstreamFilterDeleter {
  void operator()(AVBSFContext* c) const { av_bsf_free(&c); }
};
using BitstreamFilterPtr = std::unique_ptr<AVBSFContext, BitstreamFilterDeleter>;

FramePtr make_frame();
PacketPtr make_packet();

std::string av_error_text(int errnum);

// The name to give FFmpeg for a local file: "file:" + the path, so that a name like "pipe:clip.mp4",
// "concat:a|b" or "http:x" is opened as the file it names, never as a protocol.
std::string local_file_url(const std::filesystem::path& path);

// Routes FFmpeg's own log lines through our logger at a level that keeps a normal run quiet.
void install_ffmpeg_log_handler();

// Errors the MJPEG/JPEG decoder logged on this thread so far (with the handler installed). That decoder
// conceals damaged scan data (bit flips, a scan cut short) and returns the frame with no error and no flag:
// its log is the only sign. It decodes on the calling thread (no frame threads), so a count taken before and
// after a decode call tells whether that call met damage.
int mjpeg_errors_logged_on_this_thread();

}  // namespace roadveil::media
