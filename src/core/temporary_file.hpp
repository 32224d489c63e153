#pragma once
// Where a file is written before it is complete: the same folder (so that the rename into place is atomic),
// a hidden name unique per machine and process: ".NAME.roadveil-HOST-PID.part". A name near the file
// system's 255-byte limit is shortened in the temporary name only (the final name is the user's): without
// that, a valid 240-byte output name failed because its temporary name was too long.
//
// The file is left behind in two ways. Stopped by SIGINT, SIGTERM or SIGHUP, the process removes it
// (core/interrupt_cleanup.hpp). Killed outright (SIGKILL: the kernel's out-of-memory killer, a container's
// memory limit, a scheduler's preemption) it cannot: its hidden file used to stay beside the outputs for
// good. So the writer holds a lock on its temporary file for as long as it writes it: an open file
// description lock (F_OFD_SETLK), which the kernel releases when the process dies, however it dies, and
// which a process in another PID namespace (another container of a pod, `docker --network host`) sees as
// well. The first time a process writes into a folder, it removes the temporary files there that carry
// this machine's name and that nobody holds a lock on: those of killed runs. A process id is not a test of
// life (an earlier version removed files by it, and would have removed a live run's in another PID
// namespace), and the machine's name keeps it off the files of other machines sharing the folder over a
// network (where a file system may keep locks per machine: NFS mounted `nolock`, FUSE). Older names
// without the machine (".NAME.roadveil-PID.part") and files on a file system without locks are left alone.
#include <filesystem>
#include <string>
#include <system_error>

namespace roadveil {

class TemporaryFile {
 public:
  // Creates the hidden file beside `target` and locks it (where the file system can); if the folder cannot
  // be written, nothing is created and the writer's own open fails with its own message.
  explicit TemporaryFile(const std::filesystem::path& target);
  // Removes the file unless it was moved into place.
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Renames the file over the target and releases the lock; on failure removes it and returns the error.
  std::error_code move_into_place();
  // Removes the file now (nothing when it is gone) and releases the lock.
  void remove() noexcept;
  // Whether the writer holds the lock (false on a file system without locks, or when the folder is not writable).
  bool locked() const { return lock_fd_ >= 0; }

 private:
  void release() noexcept;

  std::filesystem::path target_, path_;
  int lock_fd_ = -1;
  bool done_ = false;
};

// This machine's name as temporary names carry it (characters other than letters, digits, '-' and '_'
// replaced by '_'; "host" where there is none).
const std::string& temporary_host_name();

// Whether `file_name` is a temporary name of this machine's (".NAME.roadveil-HOST-PID.part").
bool is_temporary_name_of_this_machine(const std::string& file_name, const std::string& host = temporary_host_name());

// Removes the temporary files in `folder` of this machine's that no process holds a lock on; returns how many.
// TemporaryFile does it once per folder and process.
int remove_abandoned_temporaries(const std::filesystem::path& folder);

}  // namespace roadveil
