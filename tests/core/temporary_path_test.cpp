// Temporary names carry the machine and the process; a process killed outright leaves its file, and the next
// run that writes into the folder removes it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/temporary_path.hpp"
#include "test_util.hpp"

using namespace roadveil;
using roadveil::testing::TempDir;

namespace {
pid_t a_finished_process() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}
}  // namespace

TEST(TemporaryPath, NamesCarryTheMachineAndTheProcess) {
  const std::string host = temporary_host_name();
  EXPECT_FALSE(host.empty());
  EXPECT_EQ(host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), std::string::npos);
  TempDir dir;
  const auto temporary = temporary_path_for(dir / "out.mp4");
  EXPECT_EQ(temporary.filename().string(), ".out.mp4.roadveil-" + host + "-" + std::to_string(::getpid()) + ".part");
  EXPECT_EQ(temporary_name_pid(temporary.filename().string()), ::getpid());
  EXPECT_EQ(temporary_name_pid(".out.mp4.roadveil-" + host + "-12.part"), 12);
  EXPECT_EQ(temporary_name_pid(".out.mp4.roadveil-other-12.part"), std::nullopt);   // another machine's
  EXPECT_EQ(temporary_name_pid(".out.mp4.roadveil-12.part"), std::nullopt);         // before names had a host
  EXPECT_EQ(temporary_name_pid(".out.mp4.roadveil-" + host + "-12x.part"), std::nullopt);
  EXPECT_EQ(temporary_name_pid("out.mp4.roadveil-" + host + "-12.part"), std::nullopt);  // not hidden: not ours
  EXPECT_EQ(temporary_name_pid(".out.mp4.roadveil-" + host + "-0.part"), std::nullopt);
}

TEST(TemporaryPath, OnlyFilesOfThisMachinesFinishedProcessesAreRemoved) {
  TempDir dir;
  const std::string host = temporary_host_name();
  const std::string dead = std::to_string(a_finished_process());
  const auto touch = [&](const std::string& name) { std::ofstream(dir / name) << "x"; };
  touch(".a.mp4.roadveil-" + host + "-" + dead + ".part");                        // a killed run's: removed
  touch(".b.mp4.roadveil-" + host + "-" + std::to_string(::getppid()) + ".part");  // a live process's
  touch(".c.mp4.roadveil-" + host + "-" + std::to_string(::getpid()) + ".part");   // this process's
  touch(".d.mp4.roadveil-elsewhere-" + dead + ".part");                           // another machine's
  touch(".e.mp4.roadveil-" + dead + ".part");                                     // an older version's name
  touch("notes.part");
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 1);
  EXPECT_FALSE(std::filesystem::exists(dir / (".a.mp4.roadveil-" + host + "-" + dead + ".part")));
  int left = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++left;
  EXPECT_EQ(left, 5);
  EXPECT_EQ(remove_stale_temporaries(dir / "no such folder"), 0);
}
