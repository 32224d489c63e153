#include "detect/side_lane.hpp"

#include <utility>

#include "core/error.hpp"

namespace roadveil::detect {

SideLane::SideLane() : thread_([this] { loop(); }) {}

SideLane::~SideLane() {
  {
    std::lock_guard lock(mutex_);
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
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || (busy_ && job_); });
    if (stopping_) return;
    void* job = std::exchange(job_, nullptr);
    lock.unlock();
    std::exception_ptr error;
    try {
      call_(job);
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
