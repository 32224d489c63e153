#pragma once
// A one-line progress bar with fps and ETA on a terminal (stderr), redrawn at most a few times a second.
#include <chrono>
#include <cstdint>
#include <string>

namespace roadveil::pipeline {

class Progress {
 public:
  Progress(bool enabled, std::string label, std::int64_t total_frames);
  ~Progress();
  void update(std::int64_t frames_done);
  // The total once it is known better than at the start (frames a file promises that never show).
  void set_total(std::int64_t total_frames) { total_ = total_frames; }
  // Clears the line so that a message can be printed; the next update draws it again.
  void clear();
  void done();

 private:
  void draw(std::int64_t frames, bool final);
  bool enabled_;
  std::string label_;
  std::int64_t total_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);
// The progress line (without its carriage return) for a terminal `columns` wide: at most columns - 1
// characters; the bar shrinks, then goes, then the word "frames", then the start of the label.
std::string progress_line(const std::string& label, std::int64_t frames, std::int64_t total, double fps, const std::string& eta,
                          int columns);
// The width of the terminal on standard error (COLUMNS, else 80, where it is none).
int terminal_columns();

}  // namespace roadveil::pipeline
