#pragma once
// What a video's stages hand each other (decode_stage, detect_stage, write_stage; Anonymizer::process_video
// starts them): the items that flow through their queues, the pool that recycles them and bounds the decoded
// frames held at once, and the first failure of any stage, which stops them all.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "core/region.hpp"
#include "detect/detection_schedule.hpp"
#include "media/ffmpeg_util.hpp"

namespace roadveil::pipeline {

// A unit flowing through the video pipeline: a decoded frame (with its detections once detected), or a
// packet of a copied stream. Items are recycled through a pool, so steady state allocates none.
struct Item {
  media::FramePtr frame = media::make_frame();
  media::PacketPtr packet = media::make_packet();
  bool is_frame = false;
  bool counted = false;  // holds pixels counted against the pool's frame limit
  std::int64_t pts = AV_NOPTS_VALUE;  // the frame's, kept when its pixels are let go (decode_twice)
  detect::FramePass pass = detect::FramePass::None;
  std::int64_t index = -1;
  Detections detections;
};
using ItemPtr = std::unique_ptr<Item>;

class ItemPool {
 public:
  // At most `frame_limit` items hold decoded pixels at once (0: no limit): see wait_for_room().
  explicit ItemPool(std::size_t frame_limit = 0) : frame_limit_(frame_limit) {}

  ItemPtr take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return std::make_unique<Item>();
    ItemPtr item = std::move(free_.back());
    free_.pop_back();
    return item;
  }
  void give(ItemPtr item) {
    let_go_pixels(*item);
    av_packet_unref(item->packet.get());
    item->detections.clear();
    item->pass = detect::FramePass::None;
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(item));
  }

  // The decoder's side: waits while `frame_limit` frames hold pixels (false: closed, stop reading).
  bool wait_for_room() {
    std::unique_lock lock(mutex_);
    const auto room = [&] { return closed_ || frame_limit_ == 0 || with_pixels_ < frame_limit_; };
    if (!room()) {
      const auto start = std::chrono::steady_clock::now();
      room_.wait(lock, room);
      wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return !closed_;
  }
  // `item` now holds a decoded frame's pixels.
  void holds_pixels(Item& item) {
    if (item.counted) return;
    item.counted = true;
    std::lock_guard lock(mutex_);
    most_with_pixels_ = std::max(most_with_pixels_, ++with_pixels_);
  }
  // `item`'s pixels are no longer needed (encoded, or to be decoded again).
  void let_go_pixels(Item& item) {
    av_frame_unref(item.frame.get());
    if (!item.counted) return;
    item.counted = false;
    {
      std::lock_guard lock(mutex_);
      --with_pixels_;
    }
    room_.notify_one();
  }
  std::size_t frame_limit() const { return frame_limit_; }
  // The most items that held pixels at once, and the seconds the decoder waited for room.
  std::size_t most_with_pixels() {
    std::lock_guard lock(mutex_);
    return most_with_pixels_;
  }
  double wait_seconds() {
    std::lock_guard lock(mutex_);
    return wait_seconds_;
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    room_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable room_;
  std::vector<ItemPtr> free_;
  std::size_t frame_limit_, with_pixels_ = 0, most_with_pixels_ = 0;
  double wait_seconds_ = 0;
  bool closed_ = false;
};

// Captures the first exception of any thread; every stage stops when one is set.
class Failure {
 public:
  void set(std::exception_ptr e) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = e;
    failed_ = true;
  }
  bool failed() const { return failed_; }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace roadveil::pipeline
