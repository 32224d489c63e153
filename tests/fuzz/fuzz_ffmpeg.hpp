#pragma once
// What the harnesses that decode and encode with FFmpeg share: its log silenced once per process (every
// rejected input would print, and a fuzz run makes millions).
extern "C" {
#include <libavutil/log.h>
}

namespace roadveil::fuzz {

inline void quiet_ffmpeg_log() {
  static const bool quiet = [] {
    av_log_set_level(AV_LOG_QUIET);
    return true;
  }();
  (void)quiet;
}

}  // namespace roadveil::fuzz
