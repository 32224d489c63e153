#pragma once
// A second thread for some networks' runs while the calling thread runs the others (FrameDetector's video
// keyframes and glances: the face and head networks beside the person/vehicle and plate networks).
//
// Why: a video's detection runs on one thread with one ONNX Runtime thread per network, so that the encoder
// has the other core; but the encoder can only encode frames whose regions are known, and a keyframe's
// networks, one after the other, are its longest wait (at 720p detection is the slower stage). Two networks
// that read the same frame and share no state can run at once: the keyframe is known sooner, the CPU spent is
// the same. ONNX Runtime's own intra-op threads were no answer: two per network took more CPU and more wall
// time, the small windows not splitting well (README, Speed).
//
// One job at a time, started and awaited by the same thread; the thread is made once, not per job.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace roadveil::detect {

class SideLane {
 public:
  SideLane();
  ~SideLane();
  SideLane(const SideLane&) = delete;
  SideLane& operator=(const SideLane&) = delete;

  // Runs `job()` on the lane from construction until finish() or, unwinding, the destructor, which waits
  // for it (the job refers to the caller's stack). `job` must outlive it.
  class Running {
   public:
    template <class Job>
    Running(SideLane& lane, Job& job) {
      lane.begin(&job, [](void* j) { (*static_cast<Job*>(j))(); });
      lane_ = &lane;
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    ~Running() {
      if (lane_) lane_->wait();
    }
    // Waits for the job; rethrows what it threw.
    void finish() {
      SideLane* lane = std::exchange(lane_, nullptr);
      if (!lane) return;
      if (std::exception_ptr error = lane->wait()) std::rethrow_exception(error);
    }

   private:
    SideLane* lane_ = nullptr;
  };

  // How many jobs the lane has run (to show that it was used).
  std::size_t jobs_run() const {
    std::lock_guard lock(mutex_);
    return jobs_run_;
  }

 private:
  void begin(void* job, void (*call)(void*));
  std::exception_ptr wait();
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  void* job_ = nullptr;
  void (*call_)(void*) = nullptr;
  bool busy_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::size_t jobs_run_ = 0;
  std::thread thread_;
};

}  // namespace roadveil::detect
