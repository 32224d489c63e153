#include "detect/side_lane.hpp"

#include <utility>

#include "core/error.hpp"
#include "core/thread_priority.hpp"

namespace roadveil::detect {

SideLane::SideLane() : thread_([this] { loop(); }) {}

SideLane::~SideLane() {
  {
    // A started job is always waited for (Running), so none is left: wait all the same rather than leave a
    // waiter hanging.
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !busy_; });
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void SideLane::begin(void* job, void (*call)(void*)) {
  {
    std::lock_guard lock(mutex_);
    if (busy_) throw Error("internal: a job was started on a side lane that is still running one");
    job_ = job;
    call_ = call;
    error_ = nullptr;
    busy_ = true;
  }
  changed_.notify_all();
}

std::exception_ptr SideLane::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !busy_; });
  return std::exchange(error_, nullptr);
}

void SideLane::loop() {
  name_this_thread("roadveil-lane");
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || (busy_ && job_); });
    if (stopping_) return;
    void* job = std::exchange(job_, nullptr);
    void (*call)(void*) = call_;
    ++jobs_run_;
    lock.unlock();
    std::exception_ptr error;
    try {
      call(job);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace roadveil::detect
