#pragma once
// How much memory this process may use: the limit of its control group (a container's `resources.limits`,
// a Slurm job's `--mem` where the cluster constrains memory, a systemd unit's MemoryMax) or, without one,
// the machine's memory. A video's frames held for the tracker scale with its size (99 frames at 25 fps: 294 MiB
// at 1080p, 1.1 GiB at 2160p); a process over its control group's limit is killed without a word, so the
// pipeline asks first (pipeline::Anonymizer, --memory-limit).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace roadveil {

struct MemoryLimit {
  std::uint64_t bytes = 0;  // 0: none known
  std::string source;       // where it came from, for messages: "the control group's limit, /sys/fs/cgroup/...",
                            // "the machine's memory", "--memory-limit"
};

// A control group's limit file: cgroup v2's memory.max ("max" or bytes) or v1's memory.limit_in_bytes (bytes;
// v1 writes a huge number, about 2^63, for none). None: no limit or not a number.
std::optional<std::uint64_t> parse_cgroup_memory_value(std::string_view text);

// The tightest limit on the process's control group and those above it: `proc_self_cgroup` is the text of
// /proc/self/cgroup, `cgroup_root` where the hierarchies are mounted (/sys/fs/cgroup). Reads cgroup v2's
// memory.max and v1's memory controller (memory/<path>/memory.limit_in_bytes, where systemd and container
// runtimes mount it). A limit set above the process's own group (a pod's over its container's) counts too.
// It is the group's, not this process's share: several runs in one group each see all of it.
MemoryLimit cgroup_memory_limit(std::string_view proc_self_cgroup, const std::filesystem::path& cgroup_root);

// This process's limit: its control group's, else the machine's physical memory.
MemoryLimit process_memory_limit();

// "none" (0 bytes) or a size of at least 64 MiB: a number with a binary unit K, M, G, T, also written KB, KiB or
// Ki (as Kubernetes does: "4Gi"; all binary: "1.5G", "800M", "800MiB"), bytes without one. Throws
// roadveil::Error naming the text otherwise ("auto" is the caller's: process_memory_limit()).
std::uint64_t parse_memory_size(std::string_view text);

// "1.5 GB", "640 MB": for messages (MiB and GiB, as the rest of the tool writes memory).
std::string format_memory(std::uint64_t bytes);

}  // namespace roadveil
