#include "core/work_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace roadveil {

int remove_abandoned_work_folders(const std::filesystem::path& parent, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  const uid_t me = ::geteuid();
  for (auto it = std::filesystem::directory_iterator(parent, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix + "-")) continue;
    // Only this user's own private folders, as mkdtemp makes them (0700, not a link): in a shared /tmp another
    // user's folder is not ours to judge, and one that others can write into could be changed under the removal.
    struct stat folder {};
    if (::lstat(it->path().c_str(), &folder) != 0 || !S_ISDIR(folder.st_mode) || folder.st_uid != me || (folder.st_mode & 077) != 0)
      continue;
    // Opened without blocking and without following a link (a FIFO named .lock blocked the open, and with it
    // every run that made a work folder), then checked to be this user's plain file.
    const std::filesystem::path lock = it->path() / ".lock";
    const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;  // no lock: being made, or not made by this roadveil
    struct stat file {};
    if (::fstat(fd, &file) == 0 && S_ISREG(file.st_mode) && file.st_uid == me && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code rec;
      std::filesystem::remove_all(it->path(), rec);  // while holding the lock
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
  lock_fd_ = ::open(staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0 || ::rename(staging.c_str(), (path() / ".lock").c_str()) != 0) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
    throw Error("cannot lock the work folder " + path().string());
  }
  remove_abandoned_work_folders(path().parent_path(), prefix);
}

WorkFolder::~WorkFolder() {
  // Removed while the lock is held: released first, a sweeper could start removing it at the same time.
  std::error_code ec;
  std::filesystem::remove_all(path(), ec);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace roadveil
