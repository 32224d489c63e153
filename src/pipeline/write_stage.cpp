#include "pipeline/write_stage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <new>
#include <vector>

#include "core/error.hpp"
#include "pipeline/progress.hpp"
#include "redact/redactor.hpp"

namespace roadveil::pipeline {

namespace {

// A frame the redactor may write into: the decoder keeps references to its frames, so redacting one would
// corrupt the frames predicted from it. Copies go into a small ring of frames allocated once. Two: an encoder
// that keeps a reference to the frame it was sent makes av_frame_make_writable allocate anew, so the ring only
// saves allocations, and each slot is a whole frame (3 MB at 1080p).
class WritableFrames {
 public:
  AVFrame* writable(AVFrame* frame) {
    if (av_frame_is_writable(frame)) return frame;
    AVFrame* dst = ring_[next_].get();
    next_ = (next_ + 1) % ring_.size();
    if (dst->width != frame->width || dst->height != frame->height || dst->format != frame->format) {
      av_frame_unref(dst);
      dst->format = frame->format;
      dst->width = frame->width;
      dst->height = frame->height;
      if (av_frame_get_buffer(dst, 0) < 0) throw std::bad_alloc();
    }
    if (av_frame_make_writable(dst) < 0) throw std::bad_alloc();
    if (av_frame_copy(dst, frame) < 0) throw Error("cannot copy a frame for redaction");
    av_frame_copy_props(dst, frame);
    return dst;
  }

 private:
  std::array<media::FramePtr, 2> ring_ = {media::make_frame(), media::make_frame()};
  size_t next_ = 0;
};

}  // namespace

void WriteStage::run() {
  const media::VideoInfo& info = in.video();
  try {
    redact::Redactor redactor;
    WritableFrames writable;
    media::FramePtr mask_frame;
    if (mask_out) {
      mask_frame = media::make_frame();
      mask_frame->format = AV_PIX_FMT_GRAY8;
      mask_frame->width = info.width;
      mask_frame->height = info.height;
      if (av_frame_get_buffer(mask_frame.get(), 0) < 0) throw std::bad_alloc();
    }
    // Frames wait here until the tracker has seen enough later frames; packets of copied streams wait with
    // the frame they followed so that the file keeps its interleaving.
    struct Pending {
      ItemPtr frame;
      std::vector<ItemPtr> packets_after;
    };
    std::deque<Pending> window;
    std::vector<ItemPtr> leading_packets;
    // decode_twice: the next frame of the second decoding, which must be the one the first gave at this index.
    media::FramePtr redecoded = media::make_frame();
    media::PacketPtr second_packet = media::make_packet();
    std::int64_t redecoded_index = 0;
    auto decode_again = [&](const Item& item) -> AVFrame* {
      for (;;) {
        av_frame_unref(redecoded.get());
        const media::ReadResult r = second->read(redecoded.get(), second_packet.get());
        if (r == media::ReadResult::End)
          throw Error(fmt::format("{}: decoding it again ended before frame {} (--low-memory: run without it)", in.path().string(), item.index));
        if (r != media::ReadResult::VideoFrame) {
          av_packet_unref(second_packet.get());
          continue;
        }
        if (redecoded_index++ != item.index || redecoded->pts != item.pts)
          throw Error(fmt::format("{}: decoding it again gave another frame {} (timestamp {}, first {}) (--low-memory: run "
                                  "without it)", in.path().string(), item.index, redecoded->pts, item.pts));
        return redecoded.get();
      }
    };
    // The bar counts towards the frames the file shows (InputFile::frames_to_show), a part towards its own.
    Progress progress(show_progress, in.path().filename().string(), plan ? plan->end - plan->first : in.frames_to_show());

    auto emit = [&](track::FrameRegions fr) {
      // Packets that came before the first frame (audio usually starts first) go out before it, also when a
      // clip is shorter than the tracker's look-ahead and its first frame only leaves at the end.
      for (ItemPtr& pkt : leading_packets) {
        out.write_packet(pkt->packet.get());
        pool.give(std::move(pkt));
      }
      leading_packets.clear();
      Pending p = std::move(window.front());
      window.pop_front();
      Item& item = *p.frame;
      if (plan && (item.index < plan->first || item.index >= plan->end)) {
        pool.give(std::move(p.frame));  // context of a part: detected and tracked, written by another part
        return;
      }
      if (written == 0 && !plan && info.frame_count > 0)
        // Known now: the packets of a cut mid-GOP that never show (the decoder thread counted them before it
        // passed this first frame on).
        progress.set_total(in.frames_to_show());
      Regions regions;
      if (given) {
        if (auto it = given->frames.find(item.index); it != given->frames.end()) regions = it->second;
      } else {
        regions = std::move(fr.regions);
        round_to_file_precision(regions);
      }
      AVFrame* frame = second ? decode_again(item) : item.frame.get();
      const std::int64_t pts = frame->pts;
      const std::int64_t duration = frame->pkt_duration;
      if (!regions.empty()) {
        frame = writable.writable(frame);
        redact::redact_regions(redactor, *frame, regions, styles);
      }
      if (writer) writer->frame(item.index, pts, regions);
      count_regions(regions, report);
      out.write_video(frame);
      if (mask_out) {
        if (av_frame_make_writable(mask_frame.get()) < 0) throw std::bad_alloc();
        for (int y = 0; y < info.height; ++y)
          std::fill_n(mask_frame->data[0] + static_cast<std::ptrdiff_t>(y) * mask_frame->linesize[0], info.width, 0);
        redact::draw_region_mask(*mask_frame, regions, styles);
        mask_frame->pts = pts;
        mask_frame->pkt_duration = duration;
        mask_out->write_video(mask_frame.get());
      }
      for (ItemPtr& pkt : p.packets_after) {
        out.write_packet(pkt->packet.get());
        pool.give(std::move(pkt));
      }
      pool.give(std::move(p.frame));
      progress.update(++written);
    };

    while (auto popped = detected.pop()) {
      ItemPtr item = std::move(*popped);
      if (!item->is_frame) {
        if (window.empty()) {
          if (written == 0) {
            leading_packets.push_back(std::move(item));
          } else {
            out.write_packet(item->packet.get());
            pool.give(std::move(item));
          }
        } else {
          window.back().packets_after.push_back(std::move(item));
        }
        continue;
      }
      // A part counts its own frames only: the joined report adds the parts' counts.
      if (!plan || (item->index >= plan->first && item->index < plan->end)) {
        report.frames_keyframes += item->pass == detect::FramePass::Keyframe;
        report.frames_searched += item->pass == detect::FramePass::Search;
        for (const Detection& d : item->detections) ++report.detections[static_cast<int>(d.cls)];
      }
      tracker.push(item->detections);
      window.push_back({std::move(item), {}});
      while (auto fr = tracker.pop()) emit(std::move(*fr));
    }
    if (failure.failed()) {
      decoded.close();
      detected.close();
      pool.close();
    } else {
      tracker.finish();
      while (auto fr = tracker.pop()) emit(std::move(*fr));
      for (ItemPtr& pkt : leading_packets) out.write_packet(pkt->packet.get());  // a file whose frames all failed
    }
    progress.done();
  } catch (...) {
    failure.set(std::current_exception());
    decoded.close();
    detected.close();
    pool.close();
  }
}

}  // namespace roadveil::pipeline
