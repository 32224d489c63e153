#include "pipeline/progress.hpp"

#include <fmt/format.h>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

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

std::string progress_line(const std::string& label, std::int64_t frames, std::int64_t total, double fps, const std::string& eta,
                          int columns) {
  // One column short of the terminal's width: a line that fills it wraps on some terminals, and every redraw
  // of a wrapped line left a row behind (22 rows for a 9 s clip on 80 columns). What gives way: the bar
  // narrows, the word "frames" goes, the label is cut at its start (down to 12 characters), the bar goes.
  const std::size_t room = static_cast<std::size_t>(std::max(columns - 1, 20));
  const auto compose = [&](const std::string& name, int bar, bool word) {
    if (total <= 0) return fmt::format("{} {}{} {:.1f} fps", name, frames, word ? " frames" : "", fps);
    const double f = std::min(1.0, static_cast<double>(frames) / static_cast<double>(total));
    const int filled = static_cast<int>(f * bar);
    const std::string shown = bar > 0 ? fmt::format(" [{}{}]", std::string(filled, '#'), std::string(bar - filled, '.')) : "";
    return fmt::format("{}{} {:3.0f}% {}/{}{} {:.1f} fps ETA {}", name, shown, f * 100, frames, total, word ? " frames" : "", fps, eta);
  };
  const auto cut = [&](std::size_t keep) {  // the label's end, "..." before it
    if (label.size() <= keep) return label;
    std::string name = "...";
    name.append(label, label.size() - (keep - 3), std::string::npos);
    return name;
  };
  for (int bar = 24; bar >= 10; bar -= 2)
    if (std::string line = compose(label, bar, true); line.size() <= room) return line;
  for (const int bar : {10, 0}) {
    const std::string line = compose(label, bar, false);
    if (line.size() <= room) return line;
    const std::size_t over = line.size() - room;
    if (label.size() >= over + 12) return compose(cut(label.size() - over), bar, false);
  }
  const std::string line = compose(cut(12), 0, false);
  return line.size() <= room ? line : line.substr(line.size() - room);  // the numbers, which matter most
}

int terminal_columns() {
  winsize w{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 80;
}

void Progress::draw(std::int64_t frames, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fps = elapsed > 0 ? frames / elapsed : 0;
  const double eta = fps > 0 ? (total_ - frames) / fps : -1;
  const std::string line = progress_line(label_, frames, total_, fps, final ? "0:00" : format_duration(eta), terminal_columns());
  std::fputs("\r", stderr);
  std::fputs(line.c_str(), stderr);
  std::fputs("\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (enabled_ && drawn_) {
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
  }
  drawn_ = false;
}

void Progress::done() {
  clear();
  enabled_ = false;
}

}  // namespace roadveil::pipeline
