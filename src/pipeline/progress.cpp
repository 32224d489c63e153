#include "pipeline/progress.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace roadveil::pipeline {

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(bool enabled, std::string label, std::int64_t total_frames)
    : enabled_(enabled), label_(std::move(label)), total_(total_frames), start_(std::chrono::steady_clock::now()) {
  if (label_.size() > 30) label_ = "..." + label_.substr(label_.size() - 27);
}

Progress::~Progress() { done(); }

void Progress::update(std::int64_t frames) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  draw(frames, false);
}

void Progress::draw(std::int64_t frames, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fps = elapsed > 0 ? frames / elapsed : 0;
  std::string line;
  if (total_ > 0) {
    const double f = std::min(1.0, static_cast<double>(frames) / static_cast<double>(total_));
    const int width = 24, filled = static_cast<int>(f * width);
    const double eta = fps > 0 ? (total_ - frames) / fps : -1;
    line = fmt::format("\r{} [{}{}] {:3.0f}% {}/{} frames {:.1f} fps ETA {}", label_, std::string(filled, '#'),
                       std::string(width - filled, '.'), f * 100, frames, total_, fps, final ? "0:00" : format_duration(eta));
  } else {
    line = fmt::format("\r{} {} frames {:.1f} fps", label_, frames, fps);
  }
  std::fputs(line.c_str(), stderr);
  std::fputs("\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::done() {
  if (enabled_ && drawn_) {
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
  }
  drawn_ = false;
  enabled_ = false;
}

}  // namespace roadveil::pipeline
