#pragma once
// A private folder under the system's temporary folder ($TMPDIR), removed with what is left in it when the
// object goes. mkdtemp makes it atomically under a unique name (PREFIX-XXXXXX): two processes, or two tests
// running in parallel, never share one, and a process whose id is reused never removes another's folder.
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "core/error.hpp"

namespace roadveil {

class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
      throw Error("cannot create a temporary folder in " + std::filesystem::temp_directory_path().string());
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace roadveil
