#pragma once
// Where a file is written before it is complete: the same folder (so that the rename into place is atomic),
// a hidden name unique to the writer: ".NAME.roadveil-HOST-PID-N.part" (the machine, the process, and the
// process's Nth temporary file). A name near the file system's 255-byte limit is shortened in the temporary
// name only (the final name is the user's): without that, a valid 240-byte output name failed because its
// temporary name was too long.
//
// The file is left behind in two ways. Stopped by SIGINT, SIGTERM or SIGHUP, the process removes it
// (core/interrupt_cleanup.hpp). Killed outright (SIGKILL: the kernel's out-of-memory killer, a container's
// memory limit, a scheduler's preemption) it cannot: its hidden file used to stay beside the outputs for
// good. So the writer holds a lock on its temporary file for as long as it writes it: an open file
// description lock (F_OFD_SETLK) on one byte far past any data (a lock over the data would be a mandatory
// one on SMB shares, failing the writer's own writes), which the kernel releases when the process dies,
// however it dies, and which a process in another PID namespace (another container) sees as well. The file
// gets its ".part" name only once locked (made unnamed, locked, then linked where the file system can: a
// writer killed before that leaves nothing; else made as "...-N.new", then renamed without replacing), and
// keeps the ".new" name where no lock can be taken: a ".part" name that nobody locks is a dead writer's.
//
// The first time a process writes into a folder, it removes the ".part" files there that nobody holds a lock
// on: on a local file system (one kernel: locks seen by every process that can see the file) those of this
// machine's name at once. A lock may not be seen where a file system keeps locks per machine (NFS mounted
// `nolock`, SMB `nobrl`, sshfs; a local folder exported to such clients): other machines' names on a local
// file system (a killed container's, or a live client's) and this machine's on any other go only when
// untouched for 15 minutes, other machines' names on a network file system never. A process id is no test of life (an earlier version removed files by it, and would have
// removed a live run's in another PID namespace). Older names (".NAME.roadveil-PID.part") are left alone.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

namespace roadveil {

class TemporaryFile {
 public:
  // Creates the hidden file beside `target` and locks it (where the file system can); if the folder cannot
  // be written, nothing is created and the writer's own open fails with its own message. Throws Error only
  // when a hundred names in a row are taken.
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
  // The file made unnamed, locked, then linked under its ".part" name; false where the file system cannot.
  bool make_locked_before_named(const std::filesystem::path& folder, const std::function<std::string()>& next_base);
  void release() noexcept;

  std::filesystem::path target_, path_;
  int lock_fd_ = -1;
  bool done_ = false;
};

// This machine's name as temporary names carry it (characters other than letters, digits, '-' and '_'
// replaced by '_'; "host" where there is none).
const std::string& temporary_host_name();

// The machine name in a locked writer's temporary name (".NAME.roadveil-HOST-PID-N.part"); none for any other name.
std::optional<std::string> temporary_name_host(const std::string& file_name);

// Whether the sweep may remove an unlocked file of that name: this machine's on a local file system; another
// machine's on a local file system, or this machine's on another, when untouched for 15 minutes.
bool abandoned_temporary_may_go(const std::string& file_name, bool local_file_system, std::chrono::seconds untouched);

// Whether locks on files in `folder` are seen by every process that can see them (a file system of this
// kernel: ext4, XFS, Btrfs, tmpfs, overlayfs, F2FS, ZFS), not kept per machine as a network file system may.
bool is_local_file_system(const std::filesystem::path& folder);

// Removes the temporary files in `folder` that no process holds a lock on (and abandoned_temporary_may_go);
// returns how many. TemporaryFile does it once per folder and process.
int remove_abandoned_temporaries(const std::filesystem::path& folder);

}  // namespace roadveil
