#include "media/ffmpeg_util.hpp"

#include <cstring>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>
#include <new>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
}

namespace roadveil::media {

FramePtr make_frame() {
  AVFrame* f = av_frame_alloc();
  if (!f) throw std::bad_alloc();
  return FramePtr(f);
}

PacketPtr make_packet() {
  AVPacket* p = av_packet_alloc();
  if (!p) throw std::bad_alloc();
  return PacketPtr(p);
}

std::string av_error_text(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(errnum, buf, sizeof buf);
  return buf;
}

namespace {
thread_local int t_mjpeg_errors = 0;

void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level <= AV_LOG_ERROR && avcl && *static_cast<const AVClass* const*>(avcl) == avcodec_get_class()) {
    const auto* ctx = static_cast<const AVCodecContext*>(avcl);
    // The picture's damage, not its metadata's: a photo whose EXIF block FFmpeg cannot parse ("mjpeg: error
    // decoding EXIF data", a bad IFD offset or count) decodes to the same pixels, and was reported damaged
    // (exit 3). roadveil reads and cleans the EXIF block itself (media/photo_metadata.hpp).
    if (ctx->codec_id == AV_CODEC_ID_MJPEG && ctx->codec && av_codec_is_decoder(ctx->codec) && !std::strstr(fmt, "EXIF"))
      ++t_mjpeg_errors;
  }
  if (level > av_log_get_level()) return;
  char line[1024];
  static int print_prefix = 1;
  av_log_format_line(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  // FFmpeg's warnings about damaged input are details of one clear error we report ourselves: keep them at
  // debug level so that a user sees one message, and --verbose shows the detail.
  spdlog::debug("ffmpeg: {}", text);
}
}  // namespace

void install_ffmpeg_log_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(log_callback);
  });
}

int mjpeg_errors_logged_on_this_thread() { return t_mjpeg_errors; }

std::string local_file_url(const std::filesystem::path& path) { return "file:" + path.string(); }

}  // namespace roadveil::media
