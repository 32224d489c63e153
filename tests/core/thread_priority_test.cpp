#include "core/thread_priority.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace roadveil
