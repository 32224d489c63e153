#pragma once
// A blocking queue with a capacity: the producer waits when it is full, so a fast stage can never run
// ahead of a slow one by more than the capacity (constant memory whatever the file's length).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace roadveil::pipeline {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // False when the queue was closed (the consumer gave up): the producer should stop.
  bool push(T value) {
    std::unique_lock lock(mutex_);
    wait(lock, not_full_, [&] { return items_.size() < capacity_ || closed_; }, push_wait_);
    if (closed_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  // Empty optional when closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    wait(lock, not_empty_, [&] { return !items_.empty() || closed_; }, pop_wait_);
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // Seconds the producer spent blocked on a full queue, and the consumer on an empty one: which side of
  // the queue is the slower stage (the profile `anonymize -v` prints).
  double push_wait_seconds() const { return push_wait_.count(); }
  double pop_wait_seconds() const { return pop_wait_.count(); }

 private:
  using Seconds = std::chrono::duration<double>;
  template <typename Ready>
  void wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Ready ready, Seconds& total) {
    if (ready()) return;
    const auto start = std::chrono::steady_clock::now();
    cv.wait(lock, ready);
    total += std::chrono::steady_clock::now() - start;
  }

  size_t capacity_;
  Seconds push_wait_{0}, pop_wait_{0};
  std::deque<T> items_;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  bool closed_ = false;
};

}  // namespace roadveil::pipeline
