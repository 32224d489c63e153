#include "pipeline/decode_stage.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "core/error.hpp"
#include "core/thread_priority.hpp"

namespace roadveil::pipeline {

void DecodeStage::run() {
  name_this_thread("roadveil-decode");
  try {
    std::int64_t index = 0;
    for (;;) {
      if (failure.failed() || !pool.wait_for_room()) break;
      ItemPtr item = pool.take();
      const media::ReadResult r = in.read(item->frame.get(), item->packet.get());
      if (r == media::ReadResult::End) {
        pool.give(std::move(item));
        break;
      }
      item->is_frame = r == media::ReadResult::VideoFrame;
      if (item->is_frame) pool.holds_pixels(*item);
      if (plan) {
        // Only video: the join copies the other streams from the input.
        if (!item->is_frame) {
          pool.give(std::move(item));
          continue;
        }
        item->index = timeline->index_of(item->frame->pts);
        if (item->index < 0)
          throw Error(fmt::format("{}: a decoded frame has the timestamp {}, which no packet has: the file cannot "
                                  "be split (anonymize it in one run)", in.path().string(), item->frame->pts));
        if (index == 0 && item->index > plan->process_from)
          throw Error(fmt::format("{}: decoding from the keyframe at frame {} began at frame {}, after frame {}: "
                                  "the file cannot be split (anonymize it in one run)", in.path().string(),
                                  plan->decode_from, item->index, plan->process_from));
        if (item->index < plan->process_from) {
          pool.give(std::move(item));
          continue;
        }
        if (item->index > plan->process_to) {
          pool.give(std::move(item));
          break;
        }
        ++index;
      } else {
        item->index = item->is_frame ? index++ : -1;
      }
      if (!decoded.push(std::move(item))) break;
    }
  } catch (...) {
    failure.set(std::current_exception());
  }
  decoded.close();
}

}  // namespace roadveil::pipeline
