#include "core/temporary_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <functional>
#include <mutex>
#include <random>
#include <set>

#include "core/error.hpp"
#include "core/interrupt_cleanup.hpp"

namespace roadveil {

namespace {

constexpr std::string_view kMark = ".roadveil-", kLocked = ".part", kStaging = ".new";
constexpr std::chrono::minutes kUntouched{15};

// The byte locked: far past any data, so that where a lock is mandatory for the data it covers (SMB shares
// with byte-range locks) the writer's own writes through its other descriptors are not refused.
static_assert(sizeof(off_t) == 8);
constexpr off_t kLockedByte = off_t{1} << 62;

// Takes the lock without waiting. Open file description locks belong to the open file, not to the process:
// the writer's other descriptors on it (FFmpeg's, a std::ofstream's) closing do not release it, as they
// would a classic POSIX lock, and two descriptors of one process conflict as two processes' do.
bool try_lock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = kLockedByte;
  lock.l_len = 1;
  int result;
  do result = ::fcntl(fd, F_OFD_SETLK, &lock);
  while (result != 0 && errno == EINTR);
  return result == 0;
}

bool names_same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  struct stat x {}, y {};
  return ::lstat(a.c_str(), &x) == 0 && ::lstat(b.c_str(), &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

bool names_this_file(int fd, const std::filesystem::path& path) {
  struct stat open_file {}, named {};
  return ::fstat(fd, &open_file) == 0 && ::lstat(path.c_str(), &named) == 0 && open_file.st_dev == named.st_dev &&
         open_file.st_ino == named.st_ino;
}

// Renames without replacing what is there (fails with EEXIST then): renameat2 where the file system has it,
// else a hard link (NFS has no RENAME_NOREPLACE; link(2) fails where the name exists).
int rename_without_replacing(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return -1;
  if (::link(from.c_str(), to.c_str()) != 0) {
    // NFS may answer EEXIST to a retransmitted request that did link: then the file has both names.
    struct stat st {};
    const int error = errno;
    if (error != EEXIST || ::lstat(from.c_str(), &st) != 0 || st.st_nlink != 2 || !names_same_file(from, to)) {
      errno = error;
      return -1;
    }
  }
  ::unlink(from.c_str());
  return 0;
}

void sweep_once(const std::filesystem::path& folder);

}  // namespace

bool is_local_file_system(const std::filesystem::path& folder) {
  struct statfs fs {};
  if (::statfs(folder.c_str(), &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // ext2/3/4
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case 0x2FC12FC1UL:  // ZFS
      return true;
    default:
      return false;
  }
}

namespace {

void sweep_once(const std::filesystem::path& folder) {
  static std::mutex mutex;
  static std::set<std::filesystem::path> swept;
  std::error_code ec;
  std::filesystem::path key = std::filesystem::absolute(folder.empty() ? "." : folder, ec);
  if (ec) key = folder;
  key = key.lexically_normal();
  std::lock_guard lock(mutex);
  if (swept.contains(key) || !std::filesystem::is_directory(folder.empty() ? "." : folder, ec)) return;  // made later: swept then
  swept.insert(key);
  remove_abandoned_temporaries(folder);
}

// The number in a process's temporary names: from a random start, so that two processes with the same
// machine name and process id (two containers' first processes on the host network) do not take the same
// names one after the other (a name registered for removal on an interrupt must be this process's).
std::atomic<unsigned> g_sequence{std::random_device{}() % 1000000};

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

std::optional<std::string> temporary_name_host(const std::string& file_name) {
  if (file_name.empty() || file_name[0] != '.' || !file_name.ends_with(kLocked)) return std::nullopt;
  const std::string_view rest = std::string_view(file_name).substr(0, file_name.size() - kLocked.size());
  // From the end: N, '-', PID, '-', then the machine.
  std::size_t end = rest.size();
  for (int number = 0; number < 2; ++number) {
    std::size_t digits = end;
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(rest[digits - 1]))) --digits;
    if (digits == end || digits == 0 || rest[digits - 1] != '-') return std::nullopt;
    end = digits - 1;
  }
  const std::size_t mark = rest.rfind(kMark, end);
  if (mark == std::string_view::npos || mark < 2 || mark + kMark.size() >= end) return std::nullopt;
  const std::string_view host = rest.substr(mark + kMark.size(), end - mark - kMark.size());
  for (const char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return std::nullopt;
  return std::string(host);
}

bool abandoned_temporary_may_go(const std::string& file_name, bool local_file_system, std::chrono::seconds untouched) {
  const auto host = temporary_name_host(file_name);
  if (!host) return false;
  if (local_file_system && *host == temporary_host_name()) return true;
  // Another machine's name on a local file system: a killed container's, or a live writer's on a client that
  // shares this folder over the network without passing its locks here (NFS `nolock`): untouched long enough.
  return (local_file_system || *host == temporary_host_name()) && untouched >= kUntouched;
}

int remove_abandoned_temporaries(const std::filesystem::path& folder) {
  const std::filesystem::path where = folder.empty() ? std::filesystem::path(".") : folder;
  const bool local = is_local_file_system(where);
  int removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(where, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::path path = it->path();
    const std::string name = path.filename().string();
    if (!temporary_name_host(name)) continue;
    // Opened for writing (a write lock needs it) without following a link or waiting on a FIFO.
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;  // another user's, or gone
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const auto untouched = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime));
    // Taking the lock proves that no live process holds it; the name must still be this file (another sweep
    // may have removed it and a writer made a new one since).
    if (regular && abandoned_temporary_may_go(name, local, untouched) && try_lock(fd) && names_this_file(fd, path) &&
        ::unlink(path.c_str()) == 0)
      ++removed;
    ::close(fd);
  }
  return removed;
}

TemporaryFile::TemporaryFile(const std::filesystem::path& target) : target_(target) {
  constexpr std::size_t kNameMax = 255;
  const std::filesystem::path folder = target.parent_path();
  sweep_once(folder);
  const std::string writer = std::string(kMark) + temporary_host_name() + "-" + std::to_string(::getpid()) + "-";
  // ".NAME.roadveil-HOST-PID-N" for the next number N (NAME shortened where the whole would be too long).
  const auto next_base = [&] {
    const std::string suffix = writer + std::to_string(g_sequence.fetch_add(1));
    std::string name = target.filename().string();
    const std::size_t longest_end = std::max(kLocked.size(), kStaging.size());
    if (1 + name.size() + suffix.size() + longest_end > kNameMax)
      name.resize(kNameMax - std::min(kNameMax, 1 + suffix.size() + longest_end));
    return "." + name + suffix;
  };
  if (make_locked_before_named(folder, next_base)) return;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string base = next_base();
    const std::filesystem::path staging = folder / (base + std::string(kStaging)), locked = folder / (base + std::string(kLocked));
    const int fd = ::open(staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // someone else's file of this name: another number
      // The folder cannot be written (or no descriptor is left): the writer's own open says so, under the
      // name no sweep takes should it succeed.
      path_ = staging;
      return;
    }
    // Registered only once made: a name that is another writer's is never removed on this one's interrupt.
    remove_on_interrupt(staging);
    if (!try_lock(fd)) {  // no locks here: the ".new" name, which no sweep takes
      ::close(fd);
      path_ = staging;
      return;
    }
    if (rename_without_replacing(staging, locked) == 0) {
      forget_on_interrupt(staging);
      remove_on_interrupt(locked);
      path_ = locked;
      lock_fd_ = fd;
      return;
    }
    if (errno == EEXIST) {  // the same machine name, process id and number in another container: another number
      ::unlink(staging.c_str());
      forget_on_interrupt(staging);
      ::close(fd);
      continue;
    }
    path_ = staging;  // no rename without replacing here: locked, under the name no sweep takes
    lock_fd_ = fd;
    return;
  }
  throw Error(target.string() + ": cannot make a temporary file beside it (every name tried is taken)");
}

bool TemporaryFile::make_locked_before_named(const std::filesystem::path& folder,
                                             const std::function<std::string()>& next_base) {
  // Where the file system makes unnamed files (O_TMPFILE: ext4, XFS, Btrfs, tmpfs, ...), the file is locked
  // before it has any name and then linked under its ".part" name: a writer killed at any moment leaves either
  // nothing (the kernel frees an unnamed file with its last descriptor) or a ".part" name that nobody locks,
  // which the next sweep removes. The ".new" name of the fallback below stays for good when its writer is
  // killed between making it and renaming it.
  const std::filesystem::path where = folder.empty() ? std::filesystem::path(".") : folder;
  const int fd = ::open(where.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0) return false;  // no unnamed files here (NFS, SMB, FUSE, an older kernel): named first
  if (!try_lock(fd)) {
    ::close(fd);
    return false;
  }
  // Linked through /proc (linkat's AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH); linkat never replaces a name.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::filesystem::path locked = folder / (next_base() + std::string(kLocked));
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, locked.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      // Registered once named (an interrupt before this leaves an unlocked ".part" for the sweep).
      remove_on_interrupt(locked);
      path_ = locked;
      lock_fd_ = fd;
      return true;
    }
    if (errno != EEXIST) break;  // no /proc (some sandboxes), or no links here: named first
  }
  ::close(fd);
  return false;
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
  // Only the file this writer made: where it holds the lock, the name must still be that file's.
  if (lock_fd_ < 0 || names_this_file(lock_fd_, path_)) ::unlink(path_.c_str());
  done_ = true;
  release();
}

void TemporaryFile::release() noexcept {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
  try {
    forget_on_interrupt(path_);
  } catch (...) {  // a mutex that cannot be locked: the name stays registered, as before forgetting existed
  }
}

}  // namespace roadveil
