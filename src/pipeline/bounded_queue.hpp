#pragma once
// A blocking queue with a capacity: the producer waits when it is full, so a fast stage can never run
// ahead of a slow one by more than the capacity (constant memory whatever the file's length).
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
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  // Empty optional when closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
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

 private:
  size_t capacity_;
  std::deque<T> items_;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  bool closed_ = false;
};

}  // namespace roadveil::pipeline
