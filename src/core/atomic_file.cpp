#include "core/atomic_file.hpp"

#include <sys/stat.h>

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
  struct stat existing {};
  if (::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) ::chmod(temp.path().c_str(), existing.st_mode & 07777);
  if (const std::error_code ec = temp.move_into_place())
    throw Error(target.string() + ": cannot move the " + what + " into place (" + ec.message() + ")");
}

}  // namespace roadveil
