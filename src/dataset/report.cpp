#include "dataset/report.hpp"

#include "core/error.hpp"

namespace roadveil::dataset {

std::string_view problem_name(Problem p) {
  switch (p) {
    case Problem::malformed: return "malformed";
    case Problem::bad_box: return "bad box";
    case Problem::unknown_label: return "unknown label";
    case Problem::missing_image: return "missing image";
    case Problem::duplicate_image: return "duplicate image";
    case Problem::bad_encoding: return "not UTF-8";
    case Problem::unknown_size: return "unknown image size";
    case Problem::size_mismatch: return "image size not the file's";
  }
  return "?";
}

std::string_view drop_name(Drop d) {
  switch (d) {
    case Drop::other_class: return "boxes of other classes";
    case Drop::group_of: return "group-of boxes";
    case Drop::depiction: return "depiction boxes";
    case Drop::too_small: return "boxes under --min-size";
    case Drop::empty_image: return "images left without boxes";
  }
  return "?";
}

std::string location(const std::filesystem::path& file, std::size_t line) {
  std::string s = file.string();
  if (line > 0) {
    s += ':';
    s += std::to_string(line);
  }
  return s;
}

Report::Report(bool strict, std::size_t max_messages) : strict_(strict), max_messages_(max_messages) {}

void Report::problem(Problem kind, const std::filesystem::path& file, std::size_t line, std::string_view what) {
  std::string message = location(file, line) + ": " + std::string(what);
  if (strict_) throw Error(message);
  ++problems_[static_cast<std::size_t>(kind)];
  if (messages_.size() < max_messages_) messages_.push_back(message);
  if (log_) log_(message);
}

std::size_t Report::problem_total() const {
  std::size_t n = 0;
  for (const std::size_t c : problems_) n += c;
  return n;
}

std::string Report::problem_summary() const {
  std::string s;
  for (std::size_t i = 0; i < kProblemCount; ++i) {
    if (problems_[i] == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::to_string(problems_[i]) + " " + std::string(problem_name(static_cast<Problem>(i)));
  }
  return s;
}

std::string Report::drop_summary() const {
  std::string s;
  for (std::size_t i = 0; i < kDropCount; ++i) {
    if (drops_[i] == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::to_string(drops_[i]) + " " + std::string(drop_name(static_cast<Drop>(i)));
  }
  return s;
}

}  // namespace roadveil::dataset
