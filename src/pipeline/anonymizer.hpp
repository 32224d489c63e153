#pragma once
// One input file in, one anonymized output file out: decode, detect, track, redact, encode, with every
// non-video stream copied. Videos stream through bounded queues on three threads, a stage each (decode_stage,
// detect_stage, and write_stage: track, redact, encode, mux), so memory does not grow with the file's length.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/memory_limit.hpp"
#include "detect/detection_schedule.hpp"
#include "detect/frame_detector.hpp"
#include "media/image_file.hpp"
#include "media/output_file.hpp"
#include "media/range_reader.hpp"
#include "pipeline/photo_memory.hpp"
#include "pipeline/regions_file.hpp"
#include "pipeline/video_memory.hpp"
#include "redact/redact_plan.hpp"
#include "track/tracker.hpp"

namespace roadveil::pipeline {

struct AnonymizeOptions {
  detect::DetectorConfig detector;
  track::TrackerConfig tracker;
  track::PaddingConfig padding;
  redact::ClassStyles styles;
  media::EncodeOptions encode;
  media::ImageEncodeOptions image;
  // Which frames get the full detection, which a search around known objects (one keyframe a second).
  detect::ScheduleConfig schedule{.keyframe_seconds = 1.0};
  int threads = 0;       // decoder threads (0: FFmpeg picks)
  // A video's networks share the machine with its decoder and encoder; 0: video_detector_threads() of the
  // cores (photos use detector.threads, 0: all cores).
  int video_detector_threads = 0;
  // While a video is detected, its encoder's threads run this many nice levels lower (see process_video).
  int encoder_nice_increment = 5;
  bool progress = false;
  const RegionsFile* regions = nullptr;  // render these regions instead of detecting
  bool single_input = false;             // the run has one input: its regions entry may be the file's only one
  bool mask = false;                     // also write <output>.mask.<ext>: white where hidden
  // A video is decoded twice instead of its frames being held from detection to encoding (an object in a bucket
  // through a second ranged reader of the same version): they wait for
  // the tracker's look-ahead and the encoder's queue as regions only, and a second decoder, trailing the first,
  // gives each frame again when it is rendered. Less memory for one more decode (--low-memory).
  bool decode_twice = false;
  // The memory this run may use (core/memory_limit.hpp; 0 bytes: none known): a video whose held frames would
  // take the peak above three quarters of it is decoded twice (pipeline/video_memory.hpp); one that cannot be
  // (a part of a split run, an object whose store gives no ETag) gets a warning.
  MemoryLimit memory_limit;
};

struct FileReport {
  std::filesystem::path input, output;
  bool ok = false;
  std::string error;                 // why it failed (ok == false)
  std::vector<std::string> warnings; // dropped streams, damaged input
  bool damaged = false;              // rendered, but the input was damaged
  std::int64_t frames = 0;
  std::int64_t frames_keyframes = 0;  // frames with the full detection
  std::int64_t frames_searched = 0;   // frames searched around known objects; tracking filled the others
  std::array<std::int64_t, kMaxObjectClasses> regions{};  // regions hidden, summed over frames
  std::array<std::int64_t, kRegionSourceCount> regions_by_source{};
  std::int64_t frames_with_regions = 0;
  // Of those, the regions on attached pictures (cover art), which the regions file does not list.
  std::array<std::int64_t, kMaxObjectClasses> picture_regions{};
  std::int64_t pictures_with_regions = 0;
  std::array<std::int64_t, kMaxObjectClasses> detections{};  // raw detections
  media::VideoInfo input_video;      // what the container says of a video input
  double seconds = 0;
  double video_crf = -1;             // the highest x264/x265 CRF the video was encoded with (auto raises it); -1: none
};

// Adds the regions hidden in one frame or picture to the report's counts.
void count_regions(const Regions& regions, FileReport& report);

class Anonymizer {
 public:
  explicit Anonymizer(AnonymizeOptions options);
  ~Anonymizer();
  const AnonymizeOptions& options() const { return options_; }

  // Never throws for problems with this input: they are reported in FileReport.
  FileReport process(const std::filesystem::path& input, const std::filesystem::path& output, RegionsWriter* writer);
  // A video read in ranges while it is decoded (an object in a bucket), named by `remote.name()`.
  FileReport process(media::RangeReader& remote, const std::filesystem::path& output, RegionsWriter* writer);

  // One long video split across workers (pipeline/segments.hpp). process_part writes part `index` of `count`
  // of `output` (OUTPUT.part-I-of-N.mp4, its regions file and, last, its record); join_parts checks that all
  // `count` parts were made from this input with these settings (`settings_digest`) and writes `output` from
  // them and the input's other streams, as one run would have. Neither throws for problems with the input.
  FileReport process_part(const std::filesystem::path& input, const std::filesystem::path& output, int index, int count,
                          const std::string& settings_digest);
  FileReport join_parts(const std::filesystem::path& input, const std::filesystem::path& output, int count,
                        const std::string& settings_digest, RegionsWriter* writer);

  // The detection + region logic on one decoded picture, without writing anything (used by eval): as a
  // photo, or as the keyframe of a video would be searched.
  struct PictureResult {
    Detections detections;
    Regions regions;
  };
  PictureResult analyze_picture(const AVFrame& frame,
                                const detect::WholeFramePass& pass = detect::WholeFramePass::photo());

  // The keyframe interval (frames) a video of this rate is detected with: the schedule's, except that with
  // the tracker off every frame is a keyframe (nothing else would hide the frames between searches), and
  // that with --search-every 0 keyframes are at most the tracker's longest gap apart (it links two
  // detections at most max_gap + 1 frames apart; farther, each keyframe's regions stood still while the
  // faces moved on: 81 faces exposed on a 2 s panning clip).
  int keyframe_interval(const media::VideoInfo& info) const;

  // The memory anonymizing this photo into `output` would take at its peak (pipeline/photo_memory.hpp), from
  // its header; none where the header is not one known. process() refuses a photo over the memory limit.
  std::optional<std::uint64_t> photo_peak(const std::filesystem::path& input, const std::filesystem::path& output) const;

 private:
  struct Part;  // the part of a split run that process_video writes (anonymizer.cpp)
  FileReport reported(const std::filesystem::path& input, const std::filesystem::path& output, RegionsWriter* writer,
                      const std::function<void(FileReport&)>& work);
  void process_video(const std::filesystem::path& input, const std::filesystem::path& output, RegionsWriter* writer,
                     FileReport& report);
  // `reopen`: opens the input again, for decode_twice (absent: the frames are held).
  void process_video(media::InputFile& in, const std::filesystem::path& output, RegionsWriter* writer,
                     FileReport& report, const Part* part,
                     const std::function<std::unique_ptr<media::InputFile>()>& reopen = {});
  // The decoded frames a video holds at once (anonymizer.cpp says why each part).
  struct FramesBound {
    std::size_t interval = 0, lookahead = 0, slack = 0;
    std::size_t frame_bytes = 0;  // one decoded picture
    std::size_t total() const { return interval + lookahead + 2 + slack; }
  };
  FramesBound frames_bound(const media::VideoInfo& info, bool given) const;
  VideoMemoryPlan memory_plan(const media::VideoInfo& info) const;
  // Whether a video is decoded twice: asked (--low-memory), or its held frames would not fit the memory limit
  // and decoding twice holds fewer (said with -v; a warning where even that may not fit).
  bool decodes_twice(const std::string& name, const media::VideoInfo& info, FileReport& report) const;
  // Whether this video's keyframes and glances run two networks at once
  // (detect::FrameDetector::set_networks_side_by_side).
  bool networks_side_by_side(const media::VideoInfo& info) const;
  std::string memory_message(const std::string& name, const media::VideoInfo& info, const VideoMemoryPlan& plan) const;
  void refuse_other_video_tracks(const media::InputFile& in);
  static void refuse_other_files_regions(const std::filesystem::path& input, const RegionsEntry& entry, int width, int height);
  // Cover art and attached images, anonymized as photos.
  std::vector<media::ReplacementPicture> anonymized_pictures(media::InputFile& in, FileReport& report);
  void process_image(const std::filesystem::path& input, const std::filesystem::path& output, RegionsWriter* writer,
                     FileReport& report);
  // One detector for photos, one for videos: they differ in ONNX Runtime threads, fixed when a model loads.
  detect::FrameDetector& photo_detector();
  detect::FrameDetector& video_detector();

  AnonymizeOptions options_;
  std::unique_ptr<detect::FrameDetector> photo_detector_, video_detector_;
};

// ONNX Runtime threads for a video's networks on a machine with `cores`: a quarter of them, at least one.
// The decoder and the encoder keep a small machine's cores busy (libx264 alone uses ~1.8 of 2), so there the
// networks run on one thread: a second one only takes CPU from the encoder, and spreading a small search
// window over threads costs more in waking them than it saves (on 2 cores, a minute of 720p spent 1.4 s of
// system time with two threads, 0.5 s with one).
int video_detector_threads(unsigned cores);

// <dir>/<stem>.mask.<ext>: where the --mask output for `output` goes.
std::filesystem::path mask_path_for(const std::filesystem::path& output);

}  // namespace roadveil::pipeline
