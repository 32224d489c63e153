#pragma once
// What the fuzz harnesses share: the readers under test take paths, so each input is written to a file in a
// private temporary folder first; roadveil::Error is the readers' one way to refuse input, so it is caught,
// and anything else (another exception, a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/temporary_folder.hpp"

namespace roadveil::fuzz {

// Removed when the process exits normally (a fuzz run or the corpus replay of CI); a crash leaves it with the
// input that caused it. Before, each run left a roadveil_fuzz_PID folder behind in the temporary folder.
inline const std::filesystem::path& work_dir() {
  static const TemporaryFolder dir("roadveil_fuzz");
  return dir.path();
}

inline std::filesystem::path write_input(const std::string& name, std::string_view bytes) {
  const auto path = work_dir() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace roadveil::fuzz
