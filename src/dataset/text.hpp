#pragma once
// Small text helpers shared by the format readers and writers: strict number parsing, UTF-8 validation,
// CSV field splitting, JSON string escaping and a buffered line reader that does not allocate per line.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roadveil::dataset::text {

std::string_view trim(std::string_view s);
bool starts_with_ci(std::string_view s, std::string_view prefix);
std::string lower(std::string_view s);

// The whole field must be a number (surrounding blanks allowed); "1e3", "nan" and "inf" are refused where
// a coordinate is expected because from_chars accepts them, so finite() is checked too.
std::optional<double> parse_double(std::string_view s);
std::optional<long long> parse_int(std::string_view s);

bool is_valid_utf8(std::string_view s);

// Splits one CSV record (RFC 4180 quoting, no embedded newlines). Views point into `line` or, for quoted
// fields, into `scratch`, which is reserved up front so that it never reallocates under them.
void split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch);
// Splits on every `separator` (empty fields kept): the tab-separated OpenALPR lines.
void split_on(std::string_view line, char separator, std::vector<std::string_view>& fields);
// Splits on runs of blanks (spaces and tabs).
void split_blanks(std::string_view line, std::vector<std::string_view>& fields);

void append_json_string(std::string& out, std::string_view s);
void append_int(std::string& out, long long value);
// Shortest text that reads back as the same float ("363", "113.10027"), never exponent notation for the
// magnitudes annotations use.
void append_number(std::string& out, double value);
// A pixel coordinate: rounded to a thousandth of a pixel (float noise off), then as append_number.
void append_pixels(std::string& out, double value);
std::string number(double value);

std::string read_file(const std::filesystem::path& path);  // throws roadveil::Error naming the file

// Reads a text file line by line through a large buffer; a line is a view valid until the next call.
// Strips "\r\n" endings and a leading UTF-8 byte order mark. Counts lines from 1.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path);  // throws roadveil::Error when it cannot open
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  bool next(std::string_view& line);
  std::size_t line_number() const { return line_number_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  bool fill();

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  std::string carry_;  // a line that straddles two buffer fills
  std::size_t line_number_ = 0;
  bool eof_ = false;
};

// Remembers which strings were seen as 64-bit hashes in an open-addressing table kept at most half full (16
// to 32 bytes per entry), so that duplicate image ids in a multi-gigabyte CSV cost memory per image, not per
// row, and no allocation per insert. A false "seen" needs a 64-bit hash collision.
class SeenSet {
 public:
  bool insert(std::string_view key);  // false when it was already there
  std::size_t size() const { return size_; }

 private:
  void grow();
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

std::uint64_t hash64(std::string_view s, std::uint64_t seed = 0);

}  // namespace roadveil::dataset::text
