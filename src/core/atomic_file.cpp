#include "core/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/error.hpp"
#include "core/temporary_file.hpp"

namespace roadveil {

void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write,
                           const std::string& what) {
  TemporaryFile temp(target);  // removed when this throws
  {
    std::ofstream out(temp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error(target.string() + ": cannot write the " + what + " in " + target.parent_path().string());
    write(out);
    out.close();
    if (!out) throw Error(target.string() + ": writing the " + what + " failed (disk full?)");
  }
  // A file written again keeps its permissions (a regions file made group-writable for a review team stays
  // so); a new one gets the default's.
  // Its group too where the writer may set it (one of the writer's groups): a 0660 file of a review team's
  // group, saved by another member, must stay readable by the team. Where it may not, the permissions are
  // not narrowed to a group the file no longer has: the default's stay.
  struct stat existing {};
  if (::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    struct stat made {};
    const bool same_group = ::stat(temp.path().c_str(), &made) == 0 &&
                            (made.st_gid == existing.st_gid || ::chown(temp.path().c_str(), static_cast<uid_t>(-1), existing.st_gid) == 0);
    if (same_group) ::chmod(temp.path().c_str(), existing.st_mode & 07777);
  }
  if (const std::error_code ec = temp.move_into_place())
    throw Error(target.string() + ": cannot move the " + what + " into place (" + ec.message() + ")");
}

}  // namespace roadveil
