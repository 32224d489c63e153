#pragma once
// Lowering the priority of the threads a library starts (libx264's encoder workers) while the caller's own
// threads keep theirs.
#include <functional>

namespace roadveil {

// Runs `task` on a new thread whose nice value is `increment` above the caller's (at most 19) and waits for
// it. Linux keeps a nice value per thread and a thread inherits its creator's, so the threads `task` starts
// keep the lower priority after it returns. Where that is not so, or the value cannot be changed, `task`
// runs at the caller's priority. An exception thrown by `task` is rethrown here.
void run_at_lower_priority(int increment, const std::function<void()>& task);

// The calling thread's nice value (0 where threads have none of their own).
int thread_nice_value();

// Names the calling thread (at most 15 characters kept) as `top -H`, `ps -L`, perf and gdb show it, so that a
// video's stages can be told apart there (they all showed "roadveil"). Where threads have no names, nothing.
void name_this_thread(const char* name);

}  // namespace roadveil
