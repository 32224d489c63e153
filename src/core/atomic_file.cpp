#include "core/atomic_file.hpp"

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
  if (const std::error_code ec = temp.move_into_place())
    throw Error(target.string() + ": cannot move the " + what + " into place (" + ec.message() + ")");
}

}  // namespace roadveil
