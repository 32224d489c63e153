#pragma once
// A private folder under the system's temporary folder ($TMPDIR) where runs on object storage stage each object
// (the unanonymized input among them), removed with what is left in it. A process killed outright (kill -9,
// the kernel's out-of-memory killer, a node lost) removes nothing: the next work folder made on the machine
// removes those of processes that are gone. Each folder holds a lock (flock) on its `.lock` file while its
// process lives; the kernel drops it when the process ends, however it ends.
#include <filesystem>
#include <string>

#include "core/temporary_folder.hpp"

namespace roadveil {

class WorkFolder : public TemporaryFolder {
 public:
  explicit WorkFolder(const std::string& prefix = "roadveil-work");
  ~WorkFolder();
  WorkFolder(const WorkFolder&) = delete;
  WorkFolder& operator=(const WorkFolder&) = delete;

 private:
  int lock_fd_ = -1;
};

// Removes the folders `prefix`-* in `parent` whose `.lock` no process holds; returns how many. Only this
// user's private folders (0700, not links) with a plain-file `.lock` of theirs are judged: in a shared /tmp
// others' folders, and folders without a `.lock` (being made, or made by an older roadveil), are left.
// (flock does not reach across machines on NFS mounted with local locks: keep $TMPDIR on a local disk.)
int remove_abandoned_work_folders(const std::filesystem::path& parent, const std::string& prefix);

}  // namespace roadveil
