#pragma once
// Files in progress are removed when the process is stopped by SIGINT, SIGTERM or SIGHUP (Ctrl-C, `kill`, a
// closed terminal): a stopped run used to leave its hidden temporary files beside the outputs (a SIGKILL cannot
// be handled: core/temporary_file.hpp says how those are removed later).
// The handler is installed with the first registration, only where the signal still has its default action;
// it removes every registered path (unlink is async-signal-safe), then lets the signal end the process as it
// would have (exit status 128 + signal for the shell).
#include <filesystem>

namespace roadveil {

// Registers a temporary file to remove on those signals. A path renamed into place in the meantime is gone
// under its temporary name, so removing it then does nothing. Up to 256 at once (then the oldest gives way).
void remove_on_interrupt(const std::filesystem::path& path);
// Takes a path off that list: the file was moved into place or removed, and its name may be another
// writer's next (a process of another container with the same name and process id).
void forget_on_interrupt(const std::filesystem::path& path);

}  // namespace roadveil
