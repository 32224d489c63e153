#include "pipeline/detect_stage.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <optional>

#include "core/thread_priority.hpp"
#include "detect/upright_detector.hpp"

namespace roadveil::pipeline {

void DetectStage::run() {
  name_this_thread("roadveil-detect");
  try {
    if (!detector) {
      while (auto item = decoded.pop())
        if (!detected.push(std::move(*item))) break;
    } else {
      // Items wait here, in order, until the schedule has completed their frames.
      // A video stored sideways is searched upright; everything after the detector stays in stored pixels.
      std::optional<detect::UprightDetector> upright;
      if (info.rotation_degrees != 0) upright.emplace(*detector, info.rotation_degrees, info.width, info.height);
      detect::Detector& searcher = upright ? static_cast<detect::Detector&>(*upright) : *detector;
      // Searched as shown: an anamorphic video's pixels are wider (or narrower) than high.
      searcher.set_pixel_aspect(static_cast<float>(info.pixel_aspect()));
      detect::DetectionSchedule scheduled(searcher, schedule);
      std::deque<ItemPtr> held;
      auto release = [&](std::size_t frames) {
        while (!held.empty() && (frames > 0 || !held.front()->is_frame)) {
          if (held.front()->is_frame) {
            --frames;
            Item& done = *held.front();
            done.pts = done.frame->pts;
            // Detected: the renderer decodes this frame again, its buffer goes back to the decoder now.
            if (frames_decoded_again) pool.let_go_pixels(done);
          }
          if (!detected.push(std::move(held.front()))) return false;
          held.pop_front();
        }
        return true;
      };
      bool open = true;
      while (open) {
        auto item = decoded.pop();
        if (!item) break;
        Item& it = **item;
        held.push_back(std::move(*item));
        if (it.is_frame) open = release(scheduled.add({it.frame.get(), &it.detections, &it.pass, it.index}));
      }
      if (open && !failure.failed()) release(scheduled.finish());
      const detect::ScheduleStats& st = scheduled.stats();
      spdlog::debug("{}: {} keyframes in {:.2f} s, {} windows on {} frames in {:.2f} s, {} glances in {:.2f} s, {} objects "
                    "continued by appearance, {} scene cuts", input.string(), st.keyframes, st.keyframe_seconds, st.windows,
                    st.searched, st.search_seconds, st.glances, st.glance_seconds, st.by_appearance, st.scene_cuts);
    }
  } catch (...) {
    failure.set(std::current_exception());
    decoded.close();
    pool.close();
  }
  detected.close();
}

}  // namespace roadveil::pipeline
