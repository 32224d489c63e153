// Temporary files: hidden names that carry the machine and the process, a lock the writer holds until the file
// is in place, and the sweep that removes what a killed writer left (and nothing a live writer holds, in
// whatever PID namespace it runs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/temporary_file.hpp"
#include "test_util.hpp"

using namespace roadveil;
using roadveil::testing::read_text;
using roadveil::testing::TempDir;

namespace {

int count_entries(const std::filesystem::path& folder) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(folder)) ++n;
  return n;
}

// Whether some open file description other than the one asked through holds a lock on the file.
bool someone_holds_a_lock(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

// A writer in another process: makes a TemporaryFile for `target`, reports its name on a pipe, then waits to
// be killed. With `own_pid_namespace` it runs as process 1 of a new PID namespace (as in a container),
// where its process id means nothing to this one. Returns the writer's pid here and its file's name.
struct Writer {
  pid_t pid = -1;
  std::string file_name;
};
Writer start_writer(const std::filesystem::path& target, bool own_pid_namespace) {
  int report[2];
  if (::pipe(report) != 0) return {};
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(report[0]);
    if (own_pid_namespace) {
      if (::unshare(CLONE_NEWPID) != 0) ::_exit(3);
      const pid_t writer = ::fork();  // the first process of the new namespace
      if (writer < 0) ::_exit(4);
      if (writer > 0) {
        const std::string outer = std::to_string(writer) + "\n";
        if (::write(report[1], outer.data(), outer.size()) < 0) ::_exit(5);
        ::_exit(0);
      }
    } else {
      const std::string outer = std::to_string(::getpid()) + "\n";
      if (::write(report[1], outer.data(), outer.size()) < 0) ::_exit(5);
    }
    TemporaryFile file(target);
    const std::string name = file.path().filename().string() + (file.locked() ? "\n" : " (unlocked)\n");
    if (::write(report[1], name.data(), name.size()) < 0) ::_exit(5);
    ::close(report[1]);
    for (;;) ::pause();
  }
  ::close(report[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(report[0]);
  if (own_pid_namespace) ::waitpid(child, nullptr, 0);
  Writer writer;
  const auto newline = text.find('\n');
  if (newline == std::string::npos) return writer;
  writer.pid = std::stoi(text.substr(0, newline));
  writer.file_name = text.substr(newline + 1);
  if (!writer.file_name.empty() && writer.file_name.back() == '\n') writer.file_name.pop_back();
  return writer;
}

void kill_outright(const Writer& writer, const std::filesystem::path& file, bool own_child) {
  ::kill(writer.pid, SIGKILL);
  if (own_child) {
    ::waitpid(writer.pid, nullptr, 0);
  } else {  // a grandchild, reaped (or not) by whoever adopted it: wait until its files are closed
    for (int i = 0; i < 500 && someone_holds_a_lock(file); ++i) ::usleep(10'000);
  }
}

}  // namespace

TEST(TemporaryFile, NamesCarryTheMachineAndTheProcess) {
  const std::string host = temporary_host_name();
  EXPECT_FALSE(host.empty());
  EXPECT_EQ(host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), std::string::npos);
  TempDir dir;
  const TemporaryFile file(dir / "out.mp4");
  EXPECT_EQ(file.path(), dir / (".out.mp4.roadveil-" + host + "-" + std::to_string(::getpid()) + ".part"));
  EXPECT_TRUE(is_temporary_name_of_this_machine(file.path().filename().string()));
  EXPECT_TRUE(is_temporary_name_of_this_machine(".out.mp4.roadveil-" + host + "-12.part"));
  EXPECT_FALSE(is_temporary_name_of_this_machine(".out.mp4.roadveil-other-12.part"));      // another machine's
  EXPECT_FALSE(is_temporary_name_of_this_machine(".out.mp4.roadveil-12.part"));            // before names had one
  EXPECT_FALSE(is_temporary_name_of_this_machine(".out.mp4.roadveil-" + host + "-12x.part"));
  EXPECT_FALSE(is_temporary_name_of_this_machine(".out.mp4.roadveil-" + host + "-.part"));
  EXPECT_FALSE(is_temporary_name_of_this_machine("out.mp4.roadveil-" + host + "-12.part"));  // not hidden: a user's
  // A 250-byte name (valid) is shortened in the temporary name only.
  const TemporaryFile long_one(dir / (std::string(246, 'n') + ".mp4"));
  EXPECT_LE(long_one.path().filename().string().size(), 255U);
  EXPECT_TRUE(is_temporary_name_of_this_machine(long_one.path().filename().string()));
}

TEST(TemporaryFile, TheWriterHoldsALockUntilTheFileIsInPlace) {
  TempDir dir;
  {
    TemporaryFile file(dir / "a.json");
    ASSERT_TRUE(file.locked()) << "this file system takes no open file description locks";
    std::ofstream(file.path()) << "{}";  // the writer's own descriptor: closing it keeps the lock
    EXPECT_TRUE(someone_holds_a_lock(file.path()));
    ASSERT_FALSE(file.move_into_place());
    EXPECT_FALSE(file.locked());
    EXPECT_FALSE(someone_holds_a_lock(dir / "a.json"));
    EXPECT_EQ(read_text(dir / "a.json"), "{}");
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "a.json"));  // moved into place: the destructor leaves it
  std::filesystem::path left;
  {
    const TemporaryFile abandoned(dir / "b.json");
    left = abandoned.path();
    EXPECT_TRUE(std::filesystem::exists(left));
  }
  EXPECT_FALSE(std::filesystem::exists(left));  // not moved into place: removed
  EXPECT_EQ(count_entries(dir.path()), 1);
}

// What the sweep removes: only this machine's temporary names that nobody holds a lock on.
TEST(TemporaryFile, OnlyUnlockedFilesOfThisMachineAreRemoved) {
  TempDir dir;
  const std::string host = temporary_host_name();
  const auto touch = [&](const std::string& name) { std::ofstream(dir / name) << "x"; };
  touch(".a.mp4.roadveil-" + host + "-999999.part");  // nobody's: removed
  touch(".b.mp4.roadveil-elsewhere-999999.part");     // another machine's (a shared folder): kept
  touch(".c.mp4.roadveil-999999.part");               // an older version's name: kept
  touch("notes.part");
  std::filesystem::create_directory(dir / (".d.mp4.roadveil-" + host + "-1.part"));  // not a file: kept
  // The first temporary file of this process in the folder sweeps it: the abandoned one goes.
  const TemporaryFile live(dir / "e.mp4");
  EXPECT_FALSE(std::filesystem::exists(dir / (".a.mp4.roadveil-" + host + "-999999.part")));
  touch(".f.mp4.roadveil-" + host + "-999998.part");
  // Swept again: the new abandoned one goes, this process's own (locked) stays.
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_TRUE(std::filesystem::exists(live.path()));
  EXPECT_EQ(count_entries(dir.path()), 5);
  EXPECT_EQ(remove_abandoned_temporaries(dir / "no such folder"), 0);
}

// A writer killed outright (SIGKILL cannot be handled) leaves its file; the kernel releases its lock, and the
// next sweep removes the file. While it runs, its file is kept.
TEST(TemporaryFile, AKilledWritersFileIsRemovedAndALiveWritersKept) {
  TempDir dir;
  const Writer writer = start_writer(dir / "out.mp4", /*own_pid_namespace=*/false);
  ASSERT_GT(writer.pid, 0);
  ASSERT_FALSE(writer.file_name.empty());
  ASSERT_EQ(writer.file_name.find("unlocked"), std::string::npos) << writer.file_name;
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name));
  kill_outright(writer, dir / writer.file_name, /*own_child=*/true);
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name));
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_EQ(count_entries(dir.path()), 0);
}

// The reason for a lock rather than a process id: a writer in another PID namespace (another container of a
// pod, `docker --network host`, `unshare --pid`) has an id here that is another process's or nobody's; the
// earlier, reverted, sweep by process id would have removed its live file. The lock is the kernel's, seen
// from every namespace.
TEST(TemporaryFile, AWriterInAnotherPidNamespaceKeepsItsFile) {
  TempDir dir;
  const Writer writer = start_writer(dir / "out.mp4", /*own_pid_namespace=*/true);
  if (writer.pid <= 0) GTEST_SKIP() << "cannot make a PID namespace here (unshare(CLONE_NEWPID) needs privileges)";
  ASSERT_EQ(writer.file_name.find("unlocked"), std::string::npos) << writer.file_name;
  // In its namespace the writer is process 1, and its name says so.
  EXPECT_NE(writer.file_name.find("-1.part"), std::string::npos) << writer.file_name;
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name));
  kill_outright(writer, dir / writer.file_name, /*own_child=*/false);
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_EQ(count_entries(dir.path()), 0);
}
