#pragma once
// Times in records people file as evidence (audit records, review edits): UTC, to the second, ISO 8601.
#include <chrono>
#include <ctime>
#include <string>

namespace roadveil {

// "2026-12-02T10:51:29Z"
inline std::string utc_time_text(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace roadveil
