#pragma once
// Where bad input and filtered boxes are counted. A strict report turns the first problem into a
// roadveil::Error; a lenient one counts it, keeps the first few messages for the user, and the reader skips
// the bad row, box or image.
#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roadveil::dataset {

enum class Problem {
  malformed,        // unreadable row/line/element: wrong column count, not a number, missing field, bad XML/JSON
  bad_box,          // coordinates outside the image or 0..1, xmin > xmax, empty box
  unknown_label,    // a label id or class id that the class map does not name
  missing_image,    // the image file is not in the images folder
  duplicate_image,  // the same image twice (a second CSV group, a second manifest line, a second COCO id)
  bad_encoding,     // a name that is not valid UTF-8
  unknown_size,     // the image size is needed (pixels) but neither the file nor an image header gives it
  size_mismatch,    // the annotation's image size is not the size of the image file --images finds
};
inline constexpr std::size_t kProblemCount = 8;
std::string_view problem_name(Problem p);  // "malformed rows", "bad boxes", ...

// Boxes and images left out on purpose (options), not because the input was bad.
enum class Drop {
  other_class,   // not in --classes
  group_of,      // --drop-group-of
  depiction,     // --drop-depiction
  too_small,     // --min-size
  empty_image,   // an image whose every box was left out by the options above
};
inline constexpr std::size_t kDropCount = 5;
std::string_view drop_name(Drop d);

// "file:line" (or "file" when the line is unknown), the prefix of every message.
std::string location(const std::filesystem::path& file, std::size_t line);

class Report {
 public:
  explicit Report(bool strict = false, std::size_t max_messages = 20);

  // Strict: throws roadveil::Error("file:line: what"). Lenient: counts, keeps the message if there is room,
  // and passes it to the log callback.
  void problem(Problem kind, const std::filesystem::path& file, std::size_t line, std::string_view what);
  void dropped(Drop kind, std::size_t n = 1) { drops_[static_cast<std::size_t>(kind)] += n; }

  bool strict() const { return strict_; }
  std::size_t count(Problem kind) const { return problems_[static_cast<std::size_t>(kind)]; }
  std::size_t count(Drop kind) const { return drops_[static_cast<std::size_t>(kind)]; }
  std::size_t problem_total() const;
  const std::vector<std::string>& messages() const { return messages_; }

  // Called for every lenient problem message (the CLI prints the first few as warnings).
  void set_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }

  // "3 malformed rows, 1 unknown label id" / "" when nothing happened.
  std::string problem_summary() const;
  std::string drop_summary() const;

 private:
  bool strict_;
  std::size_t max_messages_;
  std::array<std::size_t, kProblemCount> problems_{};
  std::array<std::size_t, kDropCount> drops_{};
  std::vector<std::string> messages_;
  std::function<void(const std::string&)> log_;
};

}  // namespace roadveil::dataset
