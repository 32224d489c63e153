#pragma once
// Writing a whole file so that it is never seen half-written: into a temporary name beside it
// (core/temporary_file.hpp), renamed over the target when complete, removed on failure. A target that exists
// keeps its permission bits; a symbolic link at the target is replaced, not followed (callers that edit a file
// in place resolve it first).
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

namespace roadveil {

// `write` fills the stream; `what` names the file in errors ("audit record": "out.mp4.audit.json: writing the
// audit record failed (disk full?)"). Throws Error; the target is untouched then.
void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write,
                           const std::string& what);

}  // namespace roadveil
