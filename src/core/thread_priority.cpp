#include "core/thread_priority.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <thread>

#ifdef __linux__
#include <pthread.h>
#include <sys/resource.h>
#endif

namespace roadveil {

int thread_nice_value() {
#ifdef __linux__
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);  // 0: the calling thread, on Linux
  return errno == 0 ? nice : 0;
#else
  return 0;
#endif
}

void name_this_thread(const char* name) {
#ifdef __linux__
  char kept[16] = {};  // the kernel keeps 15 characters and refuses a longer name
  for (int i = 0; i < 15 && name[i]; ++i) kept[i] = name[i];
  (void)pthread_setname_np(pthread_self(), kept);
#else
  (void)name;
#endif
}

void run_at_lower_priority(int increment, const std::function<void()>& task) {
  std::exception_ptr failure;
  std::thread worker([&] {
#ifdef __linux__
    if (increment > 0) {
      // Failure only leaves the priority as it was: the work is the same, only its share of the CPU differs.
      (void)setpriority(PRIO_PROCESS, 0, std::min(19, thread_nice_value() + increment));
    }
#else
    (void)increment;
#endif
    try {
      task();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace roadveil
