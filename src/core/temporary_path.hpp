#pragma once
// Where a file is written before it is complete: the same folder (so that the rename into place is atomic),
// a hidden name, unique per process: ".NAME.roadveil-PID.part". A name near the file system's 255-byte limit
// is shortened in the temporary name only (the final name is the user's): without that, a valid 240-byte
// output name failed because its temporary name was too long. The name is registered for removal if the
// process is interrupted (core/interrupt_cleanup.hpp).
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/interrupt_cleanup.hpp"

namespace roadveil {

inline std::filesystem::path temporary_path_for(const std::filesystem::path& target) {
  constexpr std::size_t kNameMax = 255;
  const std::string suffix = ".roadveil-" + std::to_string(::getpid()) + ".part";
  std::string name = target.filename().string();
  if (1 + name.size() + suffix.size() > kNameMax) name.resize(kNameMax - 1 - suffix.size());
  auto temporary = target.parent_path() / ("." + name + suffix);
  remove_on_interrupt(temporary);
  return temporary;
}

}  // namespace roadveil
