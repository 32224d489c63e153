#include "core/work_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace roadveil {

int remove_abandoned_work_folders(const std::filesystem::path& parent, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(parent, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix + "-") || !it->is_directory(ec) || it->is_symlink(ec)) continue;
    const std::filesystem::path lock = it->path() / ".lock";
    const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;  // no lock: being made, or not ours to judge
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code rec;
      std::filesystem::remove_all(it->path(), rec);
      if (!rec) {
        ++removed;
        spdlog::info("removed {}, left by a roadveil process that ended without cleaning up", it->path().string());
      }
    }
    ::close(fd);
  }
  return removed;
}

WorkFolder::WorkFolder(const std::string& prefix) : TemporaryFolder(prefix) {
  // The lock is taken on a file of another name and then renamed into place, so that a `.lock` is never
  // seen unlocked while its process lives (another process sweeping in between would remove a live folder).
  const std::filesystem::path staging = path() / ".lock.new";
  lock_fd_ = ::open(staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0 || ::rename(staging.c_str(), (path() / ".lock").c_str()) != 0)
    throw Error("cannot lock the work folder " + path().string());
  remove_abandoned_work_folders(path().parent_path(), prefix);
}

WorkFolder::~WorkFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace roadveil
