#pragma once
// Where a file is written before it is complete: the same folder (so that the rename into place is atomic),
// a hidden name, unique per process and machine: ".NAME.roadveil-HOST-PID.part". A name near the file
// system's 255-byte limit is shortened in the temporary name only (the final name is the user's): without
// that, a valid 240-byte output name failed because its temporary name was too long. The name is registered
// for removal if the process is interrupted (core/interrupt_cleanup.hpp).
//
// A process killed outright (SIGKILL: the kernel's out-of-memory killer, a scheduler's preemption after its
// grace time) removes nothing: its hidden files stayed beside the outputs for good. The first time a process
// writes into a folder, it removes the temporary files there of roadveil processes of this machine that no
// longer run (HOST names the machine: on a folder shared over the network, another machine's process ids
// mean nothing here, and its files are left alone; a process id that a live process has taken again keeps
// its file too).
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace roadveil {

std::filesystem::path temporary_path_for(const std::filesystem::path& target);

// This machine's name as temporary names carry it (characters other than letters, digits, '-' and '_'
// replaced by '_'; "host" where there is none).
const std::string& temporary_host_name();

// The process id in a temporary name of this machine's (".NAME.roadveil-HOST-PID.part"); none for any other.
std::optional<pid_t> temporary_name_pid(const std::string& file_name, const std::string& host = temporary_host_name());

// Removes the temporary files in `folder` of this machine's roadveil processes that no longer run; returns how
// many. temporary_path_for does it once per folder and process.
int remove_stale_temporaries(const std::filesystem::path& folder);

}  // namespace roadveil
