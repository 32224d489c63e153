// Temporary files: hidden names that carry the machine, the process and a number, a lock the writer holds until
// the file is in place, and the sweep that removes what a killed writer left (and nothing a live writer holds,
// in whatever PID namespace it runs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Whether an open file description other than the one asked through holds a lock anywhere in the file.
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

// A lock on the file through a descriptor of this process's own, as a live writer's (closed by the caller).
int hold_a_lock(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = off_t{1} << 62;
  lock.l_len = 1;
  return fd >= 0 && ::fcntl(fd, F_OFD_SETLK, &lock) == 0 ? fd : -1;
}

// A writer in another process: makes a TemporaryFile for `target`, reports its name on a pipe, then waits to
// be killed (by the test, or with the test process: PR_SET_PDEATHSIG, so that a failing assertion leaves no
// process holding the test's output open). With `own_pid_namespace` it runs as process 1 of a new PID
// namespace (as in a container), where its process id means nothing to this one.
class Writer {
 public:
  Writer(const std::filesystem::path& target, bool own_pid_namespace) {
    int report[2];
    if (::pipe(report) != 0) return;
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(report[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (own_pid_namespace) {
        if (::unshare(CLONE_NEWPID) != 0) ::_exit(3);
        const pid_t writer = ::fork();  // the first process of the new namespace
        if (writer < 0) ::_exit(4);
        if (writer > 0) {
          const std::string outer = std::to_string(writer) + "\n";
          if (::write(report[1], outer.data(), outer.size()) < 0) ::_exit(5);
          ::close(report[1]);
          for (;;) ::pause();  // stays, so that the writer's PR_SET_PDEATHSIG follows the test process
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
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
    child_ = child;
    ::close(report[1]);
    std::string text;
    char buffer[512];
    // At most 10 s: a writer stuck (or dead before reporting) fails the test instead of hanging it.
    struct pollfd readable {report[0], POLLIN, 0};
    for (ssize_t n; ::poll(&readable, 1, 10'000) > 0 && (n = ::read(report[0], buffer, sizeof buffer)) > 0;)
      text.append(buffer, static_cast<std::size_t>(n));
    ::close(report[0]);
    // Two lines in either order (the writer in a new namespace may report before its parent does): its
    // process id here, and its file's name (hidden: a dot first).
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(".")) file_name_ = line;
      else if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) pid_ = std::stoi(line);
    }
    if (file_name_.empty()) pid_ = -1;
  }
  ~Writer() {
    kill();
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  const std::string& file_name() const { return file_name_; }
  // SIGKILL, and back once the writer's files are closed (its lock released).
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    if (pid_ == child_) {
      ::waitpid(child_, nullptr, 0);
      child_ = -1;
    }
    pid_ = -1;
  }

 private:
  pid_t child_ = -1, pid_ = -1;
  std::string file_name_;
};

void wait_until_unlocked(const std::filesystem::path& path) {
  for (int i = 0; i < 500 && someone_holds_a_lock(path); ++i) ::usleep(10'000);
}

}  // namespace

TEST(TemporaryFile, NamesCarryTheMachineTheProcessAndANumber) {
  const std::string host = temporary_host_name();
  EXPECT_FALSE(host.empty());
  EXPECT_EQ(host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), std::string::npos);
  TempDir dir;
  const TemporaryFile file(dir / "out.mp4");
  const std::string name = file.path().filename().string();
  EXPECT_TRUE(name.starts_with(".out.mp4.roadveil-" + host + "-" + std::to_string(::getpid()) + "-")) << name;
  EXPECT_TRUE(name.ends_with(".part")) << name;
  EXPECT_EQ(temporary_name_host(name), host);
  // Two writers of one target in one process: two names, each locked (the locks of two descriptors conflict).
  const TemporaryFile again(dir / "out.mp4");
  EXPECT_NE(again.path(), file.path());
  EXPECT_TRUE(file.locked());
  EXPECT_TRUE(again.locked());
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-other-host-12-3.part"), "other-host");
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-ip-10-0-0-12-12-3.part"), "ip-10-0-0-12");
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-12.part"), std::nullopt);          // an older version's
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-box-12.part"), std::nullopt);      // no number
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-box-12-3.new"), std::nullopt);     // not locked yet
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil-box-12x-3.part"), std::nullopt);
  EXPECT_EQ(temporary_name_host(".out.mp4.roadveil--12-3.part"), std::nullopt);
  EXPECT_EQ(temporary_name_host("out.mp4.roadveil-box-12-3.part"), std::nullopt);     // not hidden: a user's
  // A 250-byte name (valid) is shortened in the temporary name only.
  const TemporaryFile long_one(dir / (std::string(246, 'n') + ".mp4"));
  EXPECT_LE(long_one.path().filename().string().size(), 255U);
  EXPECT_TRUE(long_one.locked());
  EXPECT_EQ(temporary_name_host(long_one.path().filename().string()), host);
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

// A writer killed between making its file and locking it left that file for good under a name no sweep
// takes. Where the file system makes unnamed files, the file is locked before it has a name: the folder sees
// one name appear, already the locked ".part" one (before: ".new", then a rename to ".part").
TEST(TemporaryFile, TheFileIsNamedOnlyOnceLocked) {
  TempDir dir;
  const int probe = ::open(dir.path().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (probe < 0) GTEST_SKIP() << "no unnamed files (O_TMPFILE) on this file system";
  ::close(probe);
  const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, dir.path().c_str(), IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO), 0);
  std::vector<std::string> names;
  {
    TemporaryFile file(dir / "a.mp4");
    ASSERT_TRUE(file.locked());
    EXPECT_TRUE(someone_holds_a_lock(file.path()));
    alignas(struct inotify_event) char buffer[4096];
    const ssize_t n = ::read(watch, buffer, sizeof buffer);
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
      names.push_back(std::string(event->mask & IN_CREATE ? "create " : "move ") + event->name);
      at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
    EXPECT_EQ(names, std::vector<std::string>{"create " + file.path().filename().string()});
    EXPECT_TRUE(file.path().filename().string().ends_with(".part"));
  }
  ::close(watch);
  EXPECT_EQ(count_entries(dir.path()), 0);
}

// Which unlocked names the sweep may take: on a local file system this machine's at once and another's (a
// killed container's, or a live writer's on a client whose locks do not reach here) untouched for 15
// minutes; on a network one only this machine's, untouched for 15 minutes (locks there may be per machine).
TEST(TemporaryFile, TheSweepsRulesByFileSystem) {
  const std::string mine = ".a.mp4.roadveil-" + temporary_host_name() + "-7-0.part";
  const std::string other = ".a.mp4.roadveil-" + temporary_host_name() + "x-7-0.part";
  using std::chrono::seconds;
  EXPECT_TRUE(abandoned_temporary_may_go(mine, true, seconds(0)));
  EXPECT_FALSE(abandoned_temporary_may_go(other, true, seconds(60)));
  EXPECT_TRUE(abandoned_temporary_may_go(other, true, seconds(16 * 60)));
  EXPECT_FALSE(abandoned_temporary_may_go(mine, false, seconds(60)));
  EXPECT_TRUE(abandoned_temporary_may_go(mine, false, seconds(16 * 60)));
  EXPECT_FALSE(abandoned_temporary_may_go(other, false, seconds(86400)));
  EXPECT_FALSE(abandoned_temporary_may_go(".a.mp4.roadveil-7.part", true, seconds(86400)));
  EXPECT_FALSE(abandoned_temporary_may_go("a.mp4", true, seconds(86400)));
}

// What the sweep removes: temporary names that nobody holds a lock on, whatever process id they carry.
TEST(TemporaryFile, OnlyUnlockedFilesAreRemoved) {
  TempDir dir;
  if (!is_local_file_system(dir.path())) GTEST_SKIP() << dir.path() << " is not on a local file system";
  const std::string host = temporary_host_name(), me = std::to_string(::getpid());
  const auto touch = [&](const std::string& name) { std::ofstream(dir / name) << "x"; };
  touch(".a.mp4.roadveil-" + host + "-999999-0.part");     // nobody's: removed
  touch(".b.mp4.roadveil-elsewhere-999999-0.part");        // another machine's, touched now: kept
  touch(".i.mp4.roadveil-elsewhere-999999-0.part");        // ... untouched for an hour (a killed container's): removed
  std::filesystem::last_write_time(dir / ".i.mp4.roadveil-elsewhere-999999-0.part",
                                   std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  touch(".c.mp4.roadveil-" + host + "-" + me + "-77.part");  // this live process's id, but unlocked: removed
  touch(".d.mp4.roadveil-" + host + "-999998-0.part");     // a finished process's id, but locked: kept
  const int holder = hold_a_lock(dir / (".d.mp4.roadveil-" + host + "-999998-0.part"));
  ASSERT_GE(holder, 0);
  touch(".e.mp4.roadveil-999999.part");                    // an older version's name: kept
  touch(".f.mp4.roadveil-" + host + "-999999-0.new");      // not locked yet (or no locks there): kept
  touch("notes.part");
  std::filesystem::create_directory(dir / (".g.mp4.roadveil-" + host + "-1-0.part"));  // not a file: kept
  // The first temporary file of this process in the folder sweeps it.
  const TemporaryFile live(dir / "h.mp4");
  EXPECT_FALSE(std::filesystem::exists(dir / (".a.mp4.roadveil-" + host + "-999999-0.part")));
  EXPECT_TRUE(std::filesystem::exists(dir / ".b.mp4.roadveil-elsewhere-999999-0.part"));
  EXPECT_FALSE(std::filesystem::exists(dir / ".i.mp4.roadveil-elsewhere-999999-0.part"));
  EXPECT_FALSE(std::filesystem::exists(dir / (".c.mp4.roadveil-" + host + "-" + me + "-77.part")));
  EXPECT_TRUE(std::filesystem::exists(dir / (".d.mp4.roadveil-" + host + "-999998-0.part")));
  EXPECT_EQ(count_entries(dir.path()), 7);
  // Swept again: this process's own live file (locked) and the held one stay.
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 0);
  EXPECT_TRUE(std::filesystem::exists(live.path()));
  ::close(holder);  // as its writer dying: now it goes
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_EQ(count_entries(dir.path()), 6);
  EXPECT_EQ(remove_abandoned_temporaries(dir / "no such folder"), 0);
}

// A writer killed outright (SIGKILL cannot be handled) leaves its file; the kernel releases its lock, and the
// next sweep removes the file. While it runs, its file is kept.
TEST(TemporaryFile, AKilledWritersFileIsRemovedAndALiveWritersKept) {
  TempDir dir;
  if (!is_local_file_system(dir.path())) GTEST_SKIP() << dir.path() << " is not on a local file system";
  Writer writer(dir / "out.mp4", /*own_pid_namespace=*/false);
  ASSERT_GT(writer.pid(), 0);
  ASSERT_EQ(writer.file_name().find("unlocked"), std::string::npos) << writer.file_name();
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name()));
  writer.kill();
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name()));
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_EQ(count_entries(dir.path()), 0);
}

// The reason for a lock rather than a process id: a writer in another PID namespace (another container of a
// pod, `docker --network host`, `unshare --pid`) has an id here that is another process's or nobody's; the
// earlier, reverted, sweep by process id would have removed its live file. The lock is the kernel's, seen
// from every namespace.
TEST(TemporaryFile, AWriterInAnotherPidNamespaceKeepsItsFile) {
  TempDir dir;
  if (!is_local_file_system(dir.path())) GTEST_SKIP() << dir.path() << " is not on a local file system";
  Writer writer(dir / "out.mp4", /*own_pid_namespace=*/true);
  if (writer.pid() <= 0) GTEST_SKIP() << "cannot make a PID namespace here (unshare(CLONE_NEWPID) needs privileges)";
  ASSERT_EQ(writer.file_name().find("unlocked"), std::string::npos) << writer.file_name();
  // In its namespace the writer is process 1, and its name says so.
  EXPECT_NE(writer.file_name().find(".roadveil-" + temporary_host_name() + "-1-"), std::string::npos) << writer.file_name();
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / writer.file_name()));
  const std::filesystem::path file = dir / writer.file_name();
  writer.kill();
  wait_until_unlocked(file);
  EXPECT_EQ(remove_abandoned_temporaries(dir.path()), 1);
  EXPECT_EQ(count_entries(dir.path()), 0);
}
