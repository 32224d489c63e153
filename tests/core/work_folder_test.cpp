// Work folders of processes that are gone are removed by the next one (core/work_folder.hpp).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/work_folder.hpp"

namespace roadveil {
namespace {

// Regression (review of storage): a worker killed with SIGKILL left its folder, the photo it was anonymizing
// unanonymized inside, and no later worker removed it.
TEST(WorkFolder, FoldersOfEndedProcessesAreRemovedAndLiveOnesKept) {
  TemporaryFolder parent("roadveil-work-test");
  const std::string prefix = "rv-work";
  // A process that made a work folder and was killed (it never ran its destructors).
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setenv("TMPDIR", parent.path().c_str(), 1);
    auto* leaked = new WorkFolder(prefix);  // never destroyed
    std::ofstream(leaked->path() / "photo.jpg") << "unanonymized";
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto folders = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(parent.path())) n += e.path().filename().string().starts_with(prefix + "-");
    return n;
  };
  ASSERT_EQ(folders(), 1);
  // A live one (its lock held here) and one without a lock (being made) stay.
  const auto live = parent.path() / (prefix + "-live");
  std::filesystem::create_directories(live);
  std::filesystem::permissions(live, std::filesystem::perms::owner_all);  // private, as mkdtemp makes them
  std::ofstream(live / ".lock") << "";
  const int held = ::open((live / ".lock").c_str(), O_RDONLY);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  std::filesystem::create_directories(parent.path() / (prefix + "-new"));
  ASSERT_EQ(folders(), 3);

  ::setenv("TMPDIR", parent.path().c_str(), 1);
  {
    WorkFolder mine(prefix);
    EXPECT_TRUE(std::filesystem::exists(mine.path() / ".lock"));
    EXPECT_EQ(folders(), 3) << "the killed process's folder is gone; the live, the new and this one stay";
    EXPECT_TRUE(std::filesystem::exists(live));
    EXPECT_EQ(remove_abandoned_work_folders(parent.path(), prefix), 0) << "this one's own lock is held";
  }
  ::unsetenv("TMPDIR");
  EXPECT_EQ(folders(), 2);
  ::close(held);
  EXPECT_EQ(remove_abandoned_work_folders(parent.path(), prefix), 1);  // its process let go of it
}

// Regression (review of the day's diff): a FIFO named .lock blocked the open, and with it every run that
// makes a work folder; a .lock that is a link, or a folder open to others, is not judged either.
TEST(WorkFolder, AFifoALinkOrAnOpenFolderIsLeftAlone) {
  TemporaryFolder parent("roadveil-work-test");
  const std::string prefix = "rv-work";
  const auto fifo = parent.path() / (prefix + "-fifo");
  std::filesystem::create_directories(fifo);
  std::filesystem::permissions(fifo, std::filesystem::perms::owner_all);
  ASSERT_EQ(::mkfifo((fifo / ".lock").c_str(), 0600), 0);
  const auto link = parent.path() / (prefix + "-link");
  std::filesystem::create_directories(link);
  std::filesystem::permissions(link, std::filesystem::perms::owner_all);
  std::ofstream(parent.path() / "elsewhere") << "";
  std::filesystem::create_symlink(parent.path() / "elsewhere", link / ".lock");
  const auto open = parent.path() / (prefix + "-open");
  std::filesystem::create_directories(open);
  std::ofstream(open / ".lock") << "";
  std::filesystem::permissions(open, std::filesystem::perms::all);
  const auto linked_folder = parent.path() / (prefix + "-linked");
  std::filesystem::create_directory_symlink(open, linked_folder);
  EXPECT_EQ(remove_abandoned_work_folders(parent.path(), prefix), 0);  // returns: nothing blocked
  for (const auto& p : {fifo, link, open, linked_folder}) EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(p))) << p;
}

}  // namespace
}  // namespace roadveil
