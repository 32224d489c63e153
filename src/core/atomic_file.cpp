#include "core/atomic_file.hpp"

#include <fstream>

#include "core/error.hpp"
#include "core/temporary_path.hpp"

namespace roadveil {

void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write,
                           const std::string& what) {
  const auto temp = temporary_path_for(target);
  std::error_code ec;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(target.string() + ": cannot write the " + what + " in " + target.parent_path().string());
    write(out);
    out.close();
    if (!out) {
      std::filesystem::remove(temp, ec);
      throw Error(target.string() + ": writing the " + what + " failed (disk full?)");
    }
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw Error(target.string() + ": cannot move the " + what + " into place (" + ec.message() + ")");
  }
}

}  // namespace roadveil
