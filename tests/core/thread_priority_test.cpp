#include "core/thread_priority.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <stdexcept>
#include <thread>

namespace roadveil {
namespace {

TEST(ThreadPriority, TaskAndTheThreadsItStartsRunLowerCallerUnchanged) {
  const int before = thread_nice_value();
  int in_task = before, in_child = before;
  run_at_lower_priority(5, [&] {
    in_task = thread_nice_value();
    std::thread child([&] { in_child = thread_nice_value(); });
    child.join();
  });
#ifdef __linux__
  EXPECT_EQ(in_task, std::min(19, before + 5));
  EXPECT_EQ(in_child, in_task);
#endif
  EXPECT_EQ(thread_nice_value(), before);
}

TEST(ThreadPriority, ZeroIncrementKeepsThePriority) {
  int in_task = -100;
  run_at_lower_priority(0, [&] { in_task = thread_nice_value(); });
  EXPECT_EQ(in_task, thread_nice_value());
}

TEST(ThreadPriority, ExceptionReachesTheCaller) {
  EXPECT_THROW(run_at_lower_priority(3, [] { throw std::runtime_error("encoder failed to open"); }), std::runtime_error);
}

#ifdef __linux__
std::string this_thread_name() {
  std::string name;
  std::getline(std::ifstream("/proc/thread-self/comm"), name);
  return name;
}

TEST(ThreadName, NamesTheCallingThreadOnly) {
  const std::string caller = this_thread_name();
  std::string named, long_named;
  std::thread([&] {
    name_this_thread("roadveil-detect");
    named = this_thread_name();
  }).join();
  std::thread([&] {
    name_this_thread("roadveil-a-name-too-long-for-the-kernel");  // refused whole by the kernel: cut to 15
    long_named = this_thread_name();
  }).join();
  EXPECT_EQ(named, "roadveil-detect");
  EXPECT_EQ(long_named, "roadveil-a-name");
  EXPECT_EQ(this_thread_name(), caller);
}
#endif

}  // namespace
}  // namespace roadveil
