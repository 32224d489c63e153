// The memory a run may use, read where a container, a Slurm job or a systemd unit sets it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "core/error.hpp"
#include "core/memory_limit.hpp"
#include "test_util.hpp"

using namespace roadveil;
using roadveil::testing::TempDir;

namespace {
void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}
}  // namespace

TEST(MemoryLimit, ReadsBothCgroupVersionsValuesAndTheirNoLimit) {
  EXPECT_EQ(parse_cgroup_memory_value("2147483648\n"), 2147483648u);
  EXPECT_EQ(parse_cgroup_memory_value("max\n"), std::nullopt);                   // v2: none
  EXPECT_EQ(parse_cgroup_memory_value("9223372036854771712"), std::nullopt);     // v1: none
  EXPECT_EQ(parse_cgroup_memory_value(""), std::nullopt);                        // no such file
  EXPECT_EQ(parse_cgroup_memory_value("12abc"), std::nullopt);
}

// cgroup v2: the tightest limit from the process's group up (a pod's limit over its container's "max").
TEST(MemoryLimit, CgroupV2TakesTheTightestLimitOfTheGroupAndThoseAboveIt) {
  TempDir root;
  write(root / "kubepods/pod1/memory.max", "2147483648\n");
  write(root / "kubepods/pod1/ctr/memory.max", "max\n");
  write(root / "kubepods/memory.max", "8589934592\n");
  MemoryLimit limit = cgroup_memory_limit("0::/kubepods/pod1/ctr\n", root.path());
  EXPECT_EQ(limit.bytes, 2147483648u);
  EXPECT_EQ(limit.source, "the control group's limit, " + (root.path() / "kubepods/pod1/memory.max").string());
  // A container with its own cgroup namespace sees its group as the root: the mount root's own file counts.
  TempDir own;
  write(own / "memory.max", "1073741824\n");
  EXPECT_EQ(cgroup_memory_limit("0::/\n", own.path()).bytes, 1073741824u);
  // No limit anywhere: none known.
  TempDir free;
  write(free / "user.slice/memory.max", "max\n");
  EXPECT_EQ(cgroup_memory_limit("0::/user.slice\n", free.path()).bytes, 0u);
}

// cgroup v1 (and hybrid hosts, as this one): the memory controller's own hierarchy; a container's mount
// shows its own group at the root while /proc/self/cgroup names the host's path.
TEST(MemoryLimit, CgroupV1ReadsTheMemoryControllersHierarchy) {
  TempDir root;
  write(root / "memory/memory.limit_in_bytes", "536870912\n");
  const std::string proc = "12:pids:/docker/abc\n4:cpuacct,memory:/docker/abc\n0::/\n";
  EXPECT_EQ(cgroup_memory_limit(proc, root.path()).bytes, 536870912u);
  write(root / "memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  write(root / "memory/docker/memory.limit_in_bytes", "268435456\n");
  EXPECT_EQ(cgroup_memory_limit(proc, root.path()).bytes, 268435456u);
  EXPECT_EQ(cgroup_memory_limit("4:cpu:/docker/abc\n", root.path()).bytes, 0u);  // no memory controller
}

TEST(MemoryLimit, TheProcessAlwaysHasOneTheMachinesAtMost) {
  const MemoryLimit limit = process_memory_limit();
  const std::uint64_t machine = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_GT(limit.bytes, 0u);
  EXPECT_LE(limit.bytes, machine);
  if (limit.bytes == machine) EXPECT_EQ(limit.source, "the machine's memory");
  else EXPECT_EQ(limit.source.rfind("the control group's limit, /sys/fs/cgroup/", 0), 0u) << limit.source;
}

TEST(MemoryLimit, SizesAreBinaryAndBadOnesNameTheText) {
  EXPECT_EQ(parse_memory_size("800M"), 800u << 20);
  EXPECT_EQ(parse_memory_size("800MiB"), 800u << 20);
  EXPECT_EQ(parse_memory_size("800mb"), 800u << 20);
  EXPECT_EQ(parse_memory_size("1.5G"), 3u << 29);
  EXPECT_EQ(parse_memory_size("2T"), std::uint64_t{2} << 40);
  EXPECT_EQ(parse_memory_size("4Gi"), std::uint64_t{4} << 30);  // as a Kubernetes pod spec writes it
  EXPECT_EQ(parse_memory_size("800Mi"), 800u << 20);
  EXPECT_EQ(parse_memory_size("67108864"), 64u << 20);
  EXPECT_EQ(parse_memory_size("none"), 0u);
  for (const char* bad : {"", "G", "12Q", "-1G", "0", "1.2.3M", "auto", "4096", "63M", "1e3G", "inf", "nan", "2Gib2"}) {
    SCOPED_TRACE(bad);
    try {
      parse_memory_size(bad);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(format_memory(640u << 20), "640 MB");
  EXPECT_EQ(format_memory(3u << 29), "1.5 GB");
}
