#include "core/temporary_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <climits>
#include <mutex>
#include <set>
#include <thread>

#include "core/interrupt_cleanup.hpp"

namespace roadveil {

namespace {

constexpr std::string_view kMark = ".roadveil-", kSuffix = ".part";

// A write lock on the whole file, taken without waiting. Open file description locks belong to the open
// file, not to the process: the writer's other descriptors on it (FFmpeg's, a std::ofstream's) closing do
// not release it, as they would a classic POSIX lock.
bool try_lock_whole_file(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

bool names_this_file(int fd, const std::filesystem::path& path) {
  struct stat open_file {}, named {};
  return ::fstat(fd, &open_file) == 0 && ::lstat(path.c_str(), &named) == 0 && open_file.st_dev == named.st_dev &&
         open_file.st_ino == named.st_ino;
}

// Creates the file and takes its lock; -1 where the folder cannot be written or the file system keeps no locks.
int create_locked(const std::filesystem::path& path) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return -1;
    if (!try_lock_whole_file(fd)) {
      const int error = errno;
      ::close(fd);
      if (error != EAGAIN && error != EACCES) return -1;  // ENOLCK, EINVAL: no locks on this file system
      // Another process's sweep holds it for a moment (it found the file unlocked between our open and our
      // lock, and removes it): make it again.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    // A sweep may have removed the file between the open and the lock: locked, it must still be the name's.
    if (names_this_file(fd, path)) return fd;
    ::close(fd);
  }
  return -1;
}

void sweep_once(const std::filesystem::path& folder) {
  static std::mutex mutex;
  static std::set<std::filesystem::path> swept;
  std::error_code ec;
  std::filesystem::path key = std::filesystem::absolute(folder, ec);
  if (ec) key = folder;
  key = key.lexically_normal();
  std::lock_guard lock(mutex);
  if (swept.insert(key).second) remove_abandoned_temporaries(folder);
}

}  // namespace

const std::string& temporary_host_name() {
  static const std::string name = [] {
    char buffer[HOST_NAME_MAX + 1] = {};
    std::string host = ::gethostname(buffer, sizeof buffer - 1) == 0 ? buffer : "";
    for (char& c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return host.empty() ? std::string("host") : host;
  }();
  return name;
}

bool is_temporary_name_of_this_machine(const std::string& file_name, const std::string& host) {
  const std::string mark = std::string(kMark) + host + "-";
  if (file_name.size() < 2 + mark.size() + 1 + kSuffix.size() || file_name[0] != '.' || !file_name.ends_with(kSuffix))
    return false;
  const std::size_t at = file_name.rfind(mark);
  if (at == std::string::npos || at < 2) return false;
  const std::size_t digits_from = at + mark.size(), digits_to = file_name.size() - kSuffix.size();
  if (digits_from >= digits_to) return false;
  for (std::size_t i = digits_from; i < digits_to; ++i)
    if (!std::isdigit(static_cast<unsigned char>(file_name[i]))) return false;
  return true;
}

int remove_abandoned_temporaries(const std::filesystem::path& folder) {
  const std::filesystem::path where = folder.empty() ? std::filesystem::path(".") : folder;
  int removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(where, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::path path = it->path();
    if (!is_temporary_name_of_this_machine(path.filename().string())) continue;
    // Opened for writing (a write lock needs it) without following a link or waiting on a FIFO.
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;  // another user's, or gone
    struct stat st {};
    // Taking the lock proves that no live process holds it; holding it while removing keeps a writer that
    // opened the same name meanwhile from locking the file that goes (it makes a new one, create_locked).
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && try_lock_whole_file(fd) && names_this_file(fd, path) &&
        ::unlink(path.c_str()) == 0)
      ++removed;
    ::close(fd);
  }
  return removed;
}

TemporaryFile::TemporaryFile(const std::filesystem::path& target) : target_(target) {
  constexpr std::size_t kNameMax = 255;
  const std::string suffix = std::string(kMark) + temporary_host_name() + "-" + std::to_string(::getpid()) + std::string(kSuffix);
  std::string name = target.filename().string();
  if (1 + name.size() + suffix.size() > kNameMax) name.resize(kNameMax - 1 - std::min(suffix.size(), kNameMax - 1));
  const std::filesystem::path folder = target.parent_path();
  sweep_once(folder);
  path_ = folder / ("." + name + suffix);
  remove_on_interrupt(path_);
  lock_fd_ = create_locked(path_);
}

TemporaryFile::~TemporaryFile() {
  if (!done_) remove();
}

std::error_code TemporaryFile::move_into_place() {
  std::error_code ec;
  std::filesystem::rename(path_, target_, ec);
  if (ec) {
    remove();
    return ec;
  }
  done_ = true;
  release();
  return ec;
}

void TemporaryFile::remove() noexcept {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  done_ = true;
  release();
}

void TemporaryFile::release() noexcept {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

}  // namespace roadveil
