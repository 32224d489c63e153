#include "pipeline/anonymizer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "core/error.hpp"
#include "core/thread_priority.hpp"
#include "media/input_file.hpp"
#include "media/rotation.hpp"
#include "pipeline/bounded_queue.hpp"
#include "pipeline/decode_stage.hpp"
#include "pipeline/detect_stage.hpp"
#include "pipeline/segments.hpp"
#include "pipeline/video_item.hpp"
#include "pipeline/write_stage.hpp"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace roadveil::pipeline {

namespace {

// The margins of a region, which say what lies above, below and beside an upright face (a head's hair above
// the detector's box), as the stored frame of a video shown turned `degrees` clockwise holds them: the
// tracker pads the stored boxes. On a video stored upside down the face's extra margin went below the chin
// and the top of the head stayed visible (a review: regions 23 px low on a 126 px face).
track::PaddingConfig padding_in_stored_frame(const track::PaddingConfig& upright, int degrees) {
  if (degrees % 360 == 0) return upright;
  const auto turn = [&](const track::Padding& p) {
    // A 100 px square at the centre of a square view, padded there, and both taken to the stored frame.
    const Box box{450, 450, 550, 550};
    const Box padded{450 - 100 * p.left, 450 - 100 * p.top, 550 + 100 * p.right, 550 + 100 * p.bottom};
    const Box b = media::box_in_stored_frame(box, degrees, 1000, 1000), q = media::box_in_stored_frame(padded, degrees, 1000, 1000);
    return track::Padding{(b.x1 - q.x1) / 100, (b.y1 - q.y1) / 100, (q.x2 - b.x2) / 100, (q.y2 - b.y2) / 100};
  };
  track::PaddingConfig stored = upright;
  stored.face = turn(upright.face);
  stored.head = turn(upright.head);
  stored.plate = turn(upright.plate);
  for (track::Padding& p : stored.own) p = turn(p);
  return stored;
}

// A single picture (a photo, cover art) redacted in place; its pixels are copied first when the decoder still
// shares them.
void redact_picture(AVFrame& picture, const Regions& regions, const redact::ClassStyles& styles) {
  if (regions.empty()) return;
  if (av_frame_make_writable(&picture) < 0) throw std::bad_alloc();
  redact::Redactor redactor;
  redact::redact_regions(redactor, picture, regions, styles);
}

}  // namespace

void count_regions(const Regions& regions, FileReport& report) {
  for (const Region& r : regions) {
    ++report.regions[static_cast<int>(r.cls)];
    ++report.regions_by_source[static_cast<int>(r.source)];
  }
  if (!regions.empty()) ++report.frames_with_regions;
}

std::filesystem::path mask_path_for(const std::filesystem::path& output) {
  const std::string ext = media::is_image_path(output) ? ".png" : output.extension().string();
  return output.parent_path() / (output.stem().string() + ".mask" + ext);
}

Anonymizer::Anonymizer(AnonymizeOptions options) : options_(std::move(options)) {}
Anonymizer::~Anonymizer() = default;

int video_detector_threads(unsigned cores) { return std::max(1, static_cast<int>(cores / 4)); }

detect::FrameDetector& Anonymizer::photo_detector() {
  if (!photo_detector_) photo_detector_ = std::make_unique<detect::FrameDetector>(options_.detector);
  return *photo_detector_;
}

detect::FrameDetector& Anonymizer::video_detector() {
  if (!video_detector_) {
    detect::DetectorConfig config = options_.detector;
    config.threads = options_.video_detector_threads > 0 ? options_.video_detector_threads
                                                         : video_detector_threads(std::thread::hardware_concurrency());
    config.networks_side_by_side = std::thread::hardware_concurrency() >= 2;
    video_detector_ = std::make_unique<detect::FrameDetector>(config);
    spdlog::debug("video detection: {} ONNX Runtime thread(s) per network, encoder {} nice levels lower", config.threads,
                  options_.encoder_nice_increment);
  }
  return *video_detector_;
}

Anonymizer::PictureResult Anonymizer::analyze_picture(const AVFrame& frame, const detect::WholeFramePass& pass) {
  // A photo stored sideways (EXIF orientation) is looked at upright, and what is found is mapped back to its
  // stored pixels: the networks and the head-shaped padding (more above a face than below) expect upright.
  if (const int rotation = media::frame_rotation_degrees(frame); rotation != 0) {
    const media::FramePtr upright = media::rotated_copy(frame, rotation);
    PictureResult r = analyze_picture(*upright, pass);
    for (Detection& d : r.detections) d.box = media::box_in_stored_frame(d.box, rotation, frame.width, frame.height);
    for (Region& g : r.regions) g.box = media::box_in_stored_frame(g.box, rotation, frame.width, frame.height);
    return r;
  }
  PictureResult r;
  r.detections = photo_detector().detect_whole(frame, pass);
  track::TrackerConfig still = options_.tracker;
  still.enabled = false;
  track::Tracker tracker(still, options_.padding, frame.width, frame.height);
  tracker.push(r.detections);
  tracker.finish();
  if (auto fr = tracker.pop()) r.regions = std::move(fr->regions);
  return r;
}

FileReport Anonymizer::reported(const std::filesystem::path& input, const std::filesystem::path& output,
                                RegionsWriter* writer, const std::function<void(FileReport&)>& work) {
  FileReport report;
  report.input = input;
  report.output = output;
  const auto start = std::chrono::steady_clock::now();
  try {
    std::error_code ec;
    if (std::filesystem::exists(output, ec) && std::filesystem::equivalent(input, output, ec))
      throw Error(output.string() + ": output is the input file; choose another output");
    work(report);
    report.ok = true;
  } catch (const Error& e) {
    // Every message names the file: a folder run's errors must say which file they are about.
    const std::string what = e.what();
    report.error = what.rfind(input.string(), 0) == 0 || what.rfind(output.string(), 0) == 0 ? what : input.string() + ": " + what;
  } catch (const std::bad_alloc&) {
    report.error = input.string() + ": out of memory";
  } catch (const std::exception& e) {
    report.error = input.string() + ": " + e.what();
  }
  if (writer && !report.ok) writer->fail(report.error, report.frames);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

// Regions drawn on a picture of another size are another file's: its faces would go out where that file had
// none (render took a 1280x720 entry for a 768x432 video, and audit passed the output). verify refuses the same.
void Anonymizer::refuse_other_files_regions(const std::filesystem::path& input, const RegionsEntry& entry, int width,
                                            int height) {
  if (entry.info.width > 0 && entry.info.height > 0) entry.check_size(input, width, height, "the regions of another file");
  // Same size, same name, another picture (a folder's in2/c/x.jpg and the entry of in/a/x.jpg): its own
  // faces would be left visible under another picture's boxes.
  entry.check_bytes(input, "the regions of another file (render the file they were made from)");
}

FileReport Anonymizer::process(const std::filesystem::path& input, const std::filesystem::path& output,
                               RegionsWriter* writer) {
  return reported(input, output, writer, [&](FileReport& report) {
    if (media::is_image_path(input))
      process_image(input, output, writer, report);
    else
      process_video(input, output, writer, report);
  });
}

namespace {
PhotoOutput photo_output_kind(const std::filesystem::path& output) {
  std::string ext = output.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" ? PhotoOutput::Jpeg : ext == ".webp" ? PhotoOutput::Webp : PhotoOutput::Other;
}

std::uint64_t photo_peak_of(const media::PictureHeader& header, const std::filesystem::path& input,
                            const std::filesystem::path& output) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(input, ec);
  return estimated_photo_peak(header, photo_output_kind(output), ec ? 0 : size);
}
}  // namespace

std::optional<std::uint64_t> Anonymizer::photo_peak(const std::filesystem::path& input,
                                                    const std::filesystem::path& output) const {
  const std::optional<media::PictureHeader> header = media::read_picture_header(input);
  if (!header) return std::nullopt;
  return photo_peak_of(*header, input, output);
}

void Anonymizer::process_image(const std::filesystem::path& input, const std::filesystem::path& output,
                               RegionsWriter* writer, FileReport& report) {
  // Refused rather than killed halfway by the kernel (a folder run's later photos with it). A header too
  // large for the limit is checked before a byte of the picture is decoded.
  const std::optional<media::PictureHeader> header = media::read_picture_header(input);  // read once
  const std::optional<std::uint64_t> peak = header ? std::optional(photo_peak_of(*header, input, output)) : std::nullopt;
  if (peak) spdlog::debug("{}: ~{} at its peak (estimated from its header)", input.string(), format_memory(*peak));
  const auto refuse_if_over = [&](const media::PictureHeader& header, std::uint64_t need) {
    if (options_.memory_limit.bytes == 0 || need <= options_.memory_limit.bytes) return;
    throw Error(fmt::format("{}: a photo of {}x{} ({:.0f} megapixels) needs ~{} to anonymize, more than the memory "
                            "limit of {} ({}): give the run more memory (--memory-limit) or scale the photo down",
                            input.string(), header.width, header.height, static_cast<double>(header.pixels()) / 1e6,
                            format_memory(need), format_memory(options_.memory_limit.bytes), options_.memory_limit.source));
  };
  if (header) refuse_if_over(*header, *peak);
  std::string decode_damage;
  media::FramePtr frame = media::decode_image(input, &decode_damage);
  // A header not known here (a JPEG whose frame header lies past 8 MiB of metadata): measured from the picture
  // as decoded, before the encoder's part of the memory is spent.
  if (!header) {
    media::PictureHeader decoded{frame->width, frame->height, 0};
    decoded.decoded_bytes_per_pixel = static_cast<double>(std::max(0, av_image_get_buffer_size(static_cast<AVPixelFormat>(frame->format),
                                                                                                 frame->width, frame->height, 1))) /
                                      static_cast<double>(std::max<std::uint64_t>(1, decoded.pixels()));
    refuse_if_over(decoded, photo_peak_of(decoded, input, output));
  }
  Regions regions;
  if (options_.regions) {
    const RegionsEntry* entry = options_.regions->find(input, options_.single_input);
    if (!entry) throw Error(input.string() + ": the regions file has no entry for this input");
    refuse_other_files_regions(input, *entry, frame->width, frame->height);
    if (auto it = entry->frames.find(0); it != entry->frames.end()) regions = it->second;
    // A photo is frame 0: regions listed on other frames (an edit counted from 1) were dropped without a word,
    // where a video's are said.
    std::size_t elsewhere = 0;
    for (const auto& [index, listed] : entry->frames) elsewhere += index != 0 ? listed.size() : 0;
    if (elsewhere > 0)
      report.warnings.push_back(fmt::format("{}: {} region(s) of the regions file are on frames other than 0, which a "
                                            "photo does not have: not drawn (a photo's regions are on frame 0)",
                                            input.string(), elsewhere));
  } else {
    PictureResult r = analyze_picture(*frame);
    for (const Detection& d : r.detections) ++report.detections[static_cast<int>(d.cls)];
    regions = std::move(r.regions);
    round_to_file_precision(regions);
  }
  if (writer) {
    writer->begin({input, output, false, frame->width, frame->height, 1, 1, 0});
    writer->frame(0, 0, regions);
  }
  redact_picture(*frame, regions, options_.styles);
  media::encode_image(*frame, output, options_.image, input);
  if (options_.mask) {
    media::FramePtr mask = media::make_frame();
    mask->format = AV_PIX_FMT_GRAY8;
    mask->width = frame->width;
    mask->height = frame->height;
    if (av_frame_get_buffer(mask.get(), 0) < 0) throw std::bad_alloc();
    for (int y = 0; y < mask->height; ++y) std::fill_n(mask->data[0] + y * mask->linesize[0], mask->width, 0);
    redact::draw_region_mask(*mask, regions, options_.styles);
    // With the photo's metadata: its EXIF orientation turns the mask as it turns the photo.
    // A mask is no photo: not its tables, nor a coarse quantiser asked for it (edges would ring).
    media::encode_image(*mask, mask_path_for(output), {.jpeg_qscale = media::kDefaultJpegQscale}, input);
  }
  std::string damage = media::picture_damage(input);
  if (damage.empty()) damage = decode_damage;
  if (writer) writer->end(damage.empty() ? "ok" : "damaged: " + damage, 1);
  if (!damage.empty()) {
    report.damaged = true;
    report.warnings.push_back(input.string() + ": input is damaged (" + damage + "); rendered what decoded into " +
                              output.string());
  }
  report.frames = 1;
  report.frames_keyframes = 1;
  count_regions(regions, report);
}

FileReport Anonymizer::process(media::RangeReader& remote, const std::filesystem::path& output, RegionsWriter* writer) {
  return reported(remote.name(), output, writer, [&](FileReport& report) {
    // A failed range read reaches FFmpeg as an I/O error only: say what it was.
    // Decoding twice, the second decoder reads through a reader of its own (an object's: its own client,
    // pinned to the version the first reads), on the encoder's thread.
    std::unique_ptr<media::RangeReader> again;
    const auto read_error = [&] {
      std::string error = remote.error();
      if (again && !again->error().empty() && again->error() != error) error += (error.empty() ? "" : "; ") + again->error();
      return error;
    };
    try {
      media::InputFile in(remote, media::DecodeOptions{options_.threads});
      std::function<std::unique_ptr<media::InputFile>()> reopen;
      if (!options_.regions && decodes_twice(remote.name(), in.video(), report))
        // Opened when process_video asks, before its threads start; the first reader hashes the object.
        reopen = [&]() -> std::unique_ptr<media::InputFile> {
          again = remote.reopen();
          if (!again) {
            report.warnings.push_back(remote.name() + ": the store gives no ETag to read the same version twice: decoded "
                                      "once, its frames held; it may run out of memory");
            return nullptr;
          }
          return std::make_unique<media::InputFile>(*again, media::DecodeOptions{options_.threads});
        };
      process_video(in, output, writer, report, nullptr, reopen);
    } catch (const Error& e) {
      const std::string error = read_error();
      if (error.empty() || std::string_view(e.what()).find(error) != std::string_view::npos) throw;
      throw Error(std::string(e.what()) + ": " + error);
    }
    if (const std::string error = read_error(); !error.empty()) throw Error(error);
  });
}

void Anonymizer::refuse_other_video_tracks(const media::InputFile& in) {
  if (in.other_video_streams().empty()) return;
  // A second camera's faces would go out unredacted: refuse the file rather than copy or drop a track.
  throw Error(in.path().string() + ": has " + in.video_tracks_text() +
              "; roadveil anonymizes one video track per file and never copies one unredacted: split the tracks "
              "first (e.g. ffmpeg -i FILE -map 0:v:1 -map 0:a? -c copy second.mp4) and anonymize each file");
}

std::vector<media::ReplacementPicture> Anonymizer::anonymized_pictures(media::InputFile& in, FileReport& report) {
  std::vector<media::ReplacementPicture> pictures;
  for (const int index : in.attached_picture_streams()) {
    const AVStream* st = in.format_context()->streams[index];
    const std::string what = in.path().string() + ": attached picture #" + std::to_string(index);
    if (st->codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT && st->attached_pic.size <= 0) continue;
    media::FramePtr picture;
    try {
      picture = media::decode_still_picture(*st, what);
    } catch (const Error& e) {
      // An attachment that looks like a picture and does not decode (an animated WebP, a TIFF variant FFmpeg
      // 5.1 cannot read) is not copied: the output drops it as not anonymized, and says so.
      if (st->codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT) throw;
      spdlog::debug("{}", e.what());
      continue;
    }
    const Regions regions = analyze_picture(*picture).regions;
    redact_picture(*picture, regions, options_.styles);
    count_regions(regions, report);
    for (const Region& r : regions) ++report.picture_regions[static_cast<int>(r.cls)];
    if (!regions.empty()) ++report.pictures_with_regions;
    // A JPEG stays a JPEG; every other picture (PNG, GIF, BMP, WebP, TIFF) becomes a PNG: lossless, and it
    // keeps a transparency.
    const AVCodecID codec = media::still_picture_codec(*st) == AV_CODEC_ID_MJPEG ? AV_CODEC_ID_MJPEG : AV_CODEC_ID_PNG;
    // A JPEG keeps its own quantisation tables, as a photo does.
    const std::span<const std::uint8_t> bytes = media::still_picture_bytes(*st);
    const auto tables = codec == AV_CODEC_ID_MJPEG ? media::jpeg_quant_tables(bytes.data(), bytes.size()) : std::nullopt;
    pictures.push_back({index, codec, picture->width, picture->height,
                        media::encode_picture(*picture, codec, options_.image, what, tables ? &*tables : nullptr)});
  }
  return pictures;
}

namespace {
// The keyframe interval the options ask for, at this video's rate.
int asked_interval(const detect::ScheduleConfig& schedule, const media::VideoInfo& info) {
  return schedule.interval_for(info.frame_rate.den ? av_q2d(info.frame_rate) : 0);
}
}  // namespace

int Anonymizer::keyframe_interval(const media::VideoInfo& info) const {
  const int asked = asked_interval(options_.schedule, info);
  if (!options_.tracker.enabled) return 1;
  if (options_.schedule.search_every == 0) return std::clamp(options_.tracker.max_gap + 1, 1, asked);
  return asked;
}

Anonymizer::FramesBound Anonymizer::frames_bound(const media::VideoInfo& info, bool given) const {
  // The queues leave room for every stage's burst, but the bursts take turns, and all of them at once held
  // ~90 frames of 1080p (280 MB). So the frames holding pixels, wherever they are, are bounded as well: what
  // the stages need to make progress at all (the interval the schedule holds, the tracker's look-ahead, the
  // frame being detected and the one being encoded) plus a slack for the bursts, which the decoder waits
  // for. Fewer than the interval plus the look-ahead could stall every stage. The slack is a budget in
  // bytes, at least 16 frames: at 1080p 16 frames (8 slack frames, 654 MB, were slower on a 30 s clip; 16,
  // 678 MB, and 24, 703 MB, as fast as no bound, 748 MB; again with this stop's code, 60 s: 6 frames 641 MB
  // but 64.8 s instead of 55.9 s, the encoder waiting 16.7 s for detection); at 720p, where a frame is less
  // than half as large and detection is the slower stage, 36 frames (60 s of 720p: 32.4 -> 30.2 s wall,
  // 376 -> 404 MB peak, the same CPU seconds).
  constexpr std::size_t kFrameSlackBytes = std::size_t{48} << 20;
  constexpr std::size_t kMinFrameSlack = 16;
  FramesBound bound;
  bound.interval = static_cast<std::size_t>(keyframe_interval(info));
  bound.frame_bytes = static_cast<std::size_t>(std::max(0, av_image_get_buffer_size(info.pixel_format, info.width, info.height, 1)));
  bound.slack = std::max(kMinFrameSlack, bound.frame_bytes > 0 ? kFrameSlackBytes / bound.frame_bytes : kMinFrameSlack);
  bound.lookahead = given ? 0 : static_cast<std::size_t>(std::max(0, options_.tracker.lookahead()));
  return bound;
}

bool Anonymizer::networks_side_by_side(const media::VideoInfo& info) const {
  // Two networks at once make a keyframe known sooner for the same CPU time, which pays only while the
  // encoder waits for detection: where a frame is small, encoding it is cheap and detection (networks at
  // fixed sizes, windows at the objects' scale) is the slower stage. 60 s of 720p (bench/speed.sh's clip,
  // defaults, alternating with the binary before, three runs each, 2 cores): 40.95 -> 37.19 s wall
  // (medians), the same CPU seconds within the noise, 397 -> 479 MB; `-v`: the encoder waiting 6.5 -> 1.3 s
  // for detection. Of 1080p, where the encoder is the slower stage (the head network beside the plate
  // network, two runs each): 66.2 / 70.3 -> 65.9 / 68.6 s, 664 -> 757 MB (the head network's working memory
  // at 1920x1088 beside the others'). So up to 1280x720 only.
  // Memory first where it is short: not with --low-memory, nor where the frames held and two networks'
  // working memory at once (~80 MB more at 720p) would not fit the memory limit.
  constexpr long kMostPixels = 1280L * 720L;
  constexpr std::uint64_t kTwoNetworksBytes = std::uint64_t{96} << 20;
  const VideoMemoryPlan plan = memory_plan(info);
  return !options_.decode_twice && static_cast<long>(info.width) * info.height <= kMostPixels &&
         (plan.budget == 0 || plan.holding_frames + kTwoNetworksBytes <= plan.budget);
}

bool Anonymizer::decodes_twice(const std::string& name, const media::VideoInfo& info, FileReport& report) const {
  if (options_.decode_twice) return true;
  if (options_.regions) return false;  // rendering holds no frames for the tracker: nothing to gain
  // A video whose held frames would not fit the memory limit (a 2160p video in a container of 2 GB) is
  // decoded twice rather than killed by the kernel halfway through: the same output, ~7% more CPU.
  const VideoMemoryPlan plan = memory_plan(info);
  if (plan.holding_fits()) return false;
  if (plan.decoding_twice >= plan.holding_frames) {
    // Decoding twice would hold as many frames (a short keyframe interval and no look-ahead): nothing to gain.
    report.warnings.push_back(memory_message(name, info, plan) + ": it may run out of memory");
    return false;
  }
  spdlog::info("{}: decoding it twice instead (as --low-memory: ~{})", memory_message(name, info, plan),
               format_memory(plan.decoding_twice));
  if (!plan.twice_fits())
    report.warnings.push_back(
        fmt::format("{}: decoding it twice still needs ~{}: it may run out of memory", name, format_memory(plan.decoding_twice)));
  return true;
}

VideoMemoryPlan Anonymizer::memory_plan(const media::VideoInfo& info) const {
  const FramesBound bound = frames_bound(info, false);
  const int encoder_threads = options_.encode.threads > 0 ? options_.encode.threads : media::one_encoder_thread_per_core(info.height);
  return plan_video_memory(info.width, info.height, bound.frame_bytes, bound.total(), bound.interval, encoder_threads,
                           options_.memory_limit.bytes);
}

std::string Anonymizer::memory_message(const std::string& name, const media::VideoInfo& info, const VideoMemoryPlan& plan) const {
  return fmt::format("{}: holding {} frames of {}x{} for the tracker would take ~{}, more than three quarters of "
                     "{} ({})", name, plan.frames_bound, info.width, info.height,
                     format_memory(plan.holding_frames), format_memory(options_.memory_limit.bytes),
                     options_.memory_limit.source);
}

void Anonymizer::process_video(const std::filesystem::path& input, const std::filesystem::path& output,
                               RegionsWriter* writer, FileReport& report) {
  media::InputFile in(input, media::DecodeOptions{options_.threads});
  std::function<std::unique_ptr<media::InputFile>()> reopen;
  if (decodes_twice(input.string(), in.video(), report))
    // The same decoder settings as the first: the two must give the same frames, also where a damaged stream
    // makes the decoder conceal or drop some (fewer threads held ~8 MB less at 1080p).
    reopen = [&] { return std::make_unique<media::InputFile>(input, media::DecodeOptions{options_.threads}); };
  process_video(in, output, writer, report, nullptr, reopen);
}

void Anonymizer::process_video(media::InputFile& in, const std::filesystem::path& output, RegionsWriter* writer,
                               FileReport& report, const Part* part,
                               const std::function<std::unique_ptr<media::InputFile>()>& reopen) {
  const std::filesystem::path& input = in.path();
  const media::VideoInfo& info = in.video();
  report.input_video = info;
  refuse_other_video_tracks(in);
  const RegionsEntry* given = nullptr;
  detect::FrameDetector* detector = nullptr;
  if (options_.regions) {
    given = options_.regions->find(input, options_.single_input);
    if (!given) throw Error(input.string() + ": the regions file has no entry for this input");
    refuse_other_files_regions(input, *given, info.width, info.height);
  } else {
    detector = &video_detector();  // load the models before starting threads: a missing model fails fast
    const bool wanted = networks_side_by_side(info);
    // (Without a head network there is nothing to run beside the others.)
    const bool side_by_side = detector->set_networks_side_by_side(wanted) && wanted;
    spdlog::debug("{}x{}: keyframes and glances run {}", info.width, info.height,
                  side_by_side ? "the face and head networks beside the others" : "one network at a time");
  }
  // Cover art and attached images are anonymized as photos (by the join of a split run); when rendering a
  // regions file, which has no entries for them, they are dropped (OutputFile drops every attached picture
  // it is not given).
  std::vector<media::ReplacementPicture> pictures;
  if (!given && !part) pictures = anonymized_pictures(in, report);
  media::EncodeOptions encode = options_.encode;
  // One encoder thread per core instead of libx264's 1.5 (media::one_encoder_thread_per_core): a 30 s 1080p
  // clip peaked at 624 instead of 648 MB and ran as fast (31.1 / 31.9 s against 30.9 / 31.6 s, 2 cores), its
  // pixels identical; one thread in all saved 24 MB more but took 12% longer. Rendering given regions uses the
  // same count, so that it reproduces an anonymized output's bytes (CrfControl's decisions follow x264's byte
  // counts).
  if (encode.threads == 0) encode.threads = media::one_encoder_thread_per_core(info.height);
  if (part) {
    // A part holds only the video, encoded as the final container needs it (codec, headers).
    encode.video_only = true;
    encode.encode_for = part->final_output;
  }
  // Detection is the stage the others wait for: the encoder has a queue to absorb a slower turn, the detector
  // has none, and at equal priority libx264's worker threads outnumber it for the CPU. So while detecting, the
  // encoder's threads (started when it opens) run at a lower priority: on 2 cores this cut the encoder's wait
  // for detections from ~4 s a minute to ~0.5 s (720p).
  std::unique_ptr<media::OutputFile> out_file, mask_out;
  run_at_lower_priority(given ? 0 : options_.encoder_nice_increment, [&] {
    out_file = std::make_unique<media::OutputFile>(output, in, encode, pictures);
    if (options_.mask) {
      // The mask video is a review aid: same timing as the output, white where hidden.
      media::EncodeOptions mask_encode = options_.encode;
      mask_encode.threads = encode.threads;
      mask_encode.video_only = true;
      mask_encode.source_pixel_format = AV_PIX_FMT_GRAY8;
      mask_out = std::make_unique<media::OutputFile>(mask_path_for(output), in, mask_encode);
    }
  });
  media::OutputFile& out = *out_file;
  for (const auto& d : out.dropped_streams()) report.warnings.push_back(input.string() + ": dropped " + d.reason);
  if (writer)
    writer->begin({input, part ? part->final_output : output, true, info.width, info.height, info.time_base.num,
                   info.time_base.den, info.frame_rate.den ? av_q2d(info.frame_rate) : 0,
                   part ? part->timeline->frames() : 0});

  // Decoding twice: the frames the renderer gets (a split run's part, and a render of given regions, which
  // holds no frames for long, read once).
  std::unique_ptr<media::InputFile> second;
  if (reopen && !given && !part) second = reopen();

  Failure failure;
  // Frames in flight: both queues, the frames the schedule holds until its next keyframe, and the tracker's
  // look-ahead window. Detection comes in bursts (a keyframe, then the searches of a whole interval at
  // once), so both queues hold more than an interval: the decoder runs ahead while a
  // keyframe is detected, and the detector hands over an interval while the encoder still has the last
  // (with one interval each, the detector and the encoder took turns: `-v` showed each waiting ~5 s a minute).
  const FramesBound bound = frames_bound(info, given != nullptr);
  const size_t interval = bound.interval;
  // With the tracker on, only --search-every 0 brings the keyframes closer than asked (keyframe_interval).
  if (const int asked = asked_interval(options_.schedule, info); !given && options_.tracker.enabled && static_cast<int>(interval) < asked)
    report.warnings.push_back(fmt::format("{}: --search-every 0 leaves the frames between keyframes to the tracker, which "
                                          "links detections at most {} frames apart: keyframes every {} frames, not {}",
                                          in.path().string(), options_.tracker.max_gap + 1, interval, asked));
  detect::ScheduleConfig schedule_config = options_.schedule;
  schedule_config.keyframe_interval = static_cast<int>(interval);
  schedule_config.keyframe_seconds = 0;
  // Decoding twice, the decoder's queue holds frames, the detector's queue regions only: the decoder does not
  // run far ahead (15 s of 1080p: 8 frames instead of 8 + an interval, 635 -> 608 MB, no slower).
  // The detector's queue holds four intervals: where detection is the slower stage (720p: a keyframe of the
  // head network is ~12 frames of encoding), it runs ahead while the encoder is busy and the encoder lives
  // on that lead during the next keyframes; with two intervals the encoder waited ~5 s a minute of 720p
  // for detection (`-v`), ~1.4 s with four (and the slack below).
  // Both capacities count items, the packets of the streams copied beside the video among them (AAC at 48 kHz:
  // ~1.9 a frame at 25 fps), as they were measured; queues that count frames only were no faster (README, Speed).
  BoundedQueue<ItemPtr> decoded(second ? 8 : 8 + interval), detected(8 + 4 * interval);
  ItemPool pool(bound.total());

  // A part decodes from the keyframe before its context, and detects from the context's first frame on.
  if (part)
    in.seek(part->timeline->pts[static_cast<std::size_t>(part->plan.decode_from)],
            part->timeline->keyframe_position(part->plan.decode_from));
  track::TrackerConfig tracker_config = options_.tracker;
  if (given) tracker_config.enabled = false;
  track::Tracker tracker(tracker_config, padding_in_stored_frame(options_.padding, info.rotation_degrees), info.width,
                         info.height);
  // Three threads (their files say what each does): decoding, detection, and here tracking, redacting and writing.
  DecodeStage decode_stage{.in = in, .timeline = part ? part->timeline : nullptr, .plan = part ? &part->plan : nullptr,
                           .pool = pool, .decoded = decoded, .failure = failure};
  std::thread reader([&] { decode_stage.run(); });

  DetectStage detect_stage{.detector = detector, .info = info, .schedule = schedule_config,
                           .frames_decoded_again = second != nullptr, .input = input, .pool = pool, .decoded = decoded,
                           .detected = detected, .failure = failure};
  std::thread detector_thread([&] { detect_stage.run(); });

  WriteStage write_stage{.in = in, .given = given, .plan = part ? &part->plan : nullptr, .second = second.get(),
                         .tracker = tracker, .styles = options_.styles, .show_progress = options_.progress, .out = out,
                         .mask_out = mask_out.get(), .writer = writer, .report = report, .pool = pool,
                         .decoded = decoded, .detected = detected, .failure = failure};
  write_stage.run();
  const std::int64_t done = write_stage.written;
  reader.join();
  detector_thread.join();
  failure.rethrow();
  spdlog::debug("{}: waits: decoder {:.2f} s for detection and {:.2f} s for the frames bound, detection {:.2f} s for "
                "frames and {:.2f} s for the encoder, encoder {:.2f} s for detection; at most {} decoded frames held at "
                "once (bound {})",
                input.string(), decoded.push_wait_seconds(), pool.wait_seconds(), decoded.pop_wait_seconds(),
                detected.push_wait_seconds(), detected.pop_wait_seconds(), pool.most_with_pixels(), pool.frame_limit());

  report.frames = part ? done : in.frames_decoded();
  if (report.frames == 0) throw Error(input.string() + ": no video frame could be decoded (empty or corrupt stream)");
  if (given && !part) {
    // Regions on frames the video does not have were dropped without a word (an edit counted from 1).
    std::size_t past = 0;
    std::int64_t first_past = -1;
    for (const auto& [index, regions] : given->frames)
      if (index >= report.frames && !regions.empty()) {
        past += regions.size();
        if (first_past < 0) first_past = index;
      }
    if (past > 0)
      report.warnings.push_back(fmt::format("{}: {} region(s) of the regions file are on frames from {} on, which the "
                                            "video does not have: not drawn (it has {} frames, numbered from 0)",
                                            input.string(), past, first_past, report.frames));
    // Another video of the same size: its own faces would go out under these regions. A damaged input
    // decodes fewer frames than its entry counted, and is reported as damaged instead.
    if (given->info.frame_count > 0 && given->info.frame_count != report.frames && !in.damaged())
      throw Error(fmt::format("{}: has {} frames but its regions entry ({}) describes {}: the regions of another file",
                              input.string(), report.frames, given->info.input.string(), given->info.frame_count));
  }
  out.finish();
  for (const std::string& s : out.scrubbed_pictures()) report.warnings.push_back(input.string() + ": " + s);
  report.video_crf = out.highest_crf().value_or(-1);
  if (mask_out) mask_out->finish();
  // A part knows the frames it must write; the container's count and duration are the whole file's.
  const std::int64_t wanted = part ? part->plan.end - part->plan.first : 0;
  // Decoding twice, what the renderer's decoder met is damage too (a file changed between the two reads).
  const bool second_damaged = second && (second->decode_errors() > 0 || second->read_error());
  const bool damaged = part ? in.decode_errors() > 0 || in.read_error() || done != wanted : in.damaged() || second_damaged;
  const std::string damage = !part ? (in.damaged() || !second ? in.damage_report() : "decoding it again: " + second->damage_report())
                             : done != wanted ? fmt::format("decoded {} of the {} frames of part {} of {}", done, wanted,
                                                            part->plan.index, part->plan.count)
                                              : in.damage_report();
  if (const std::string leading = in.leading_packets_not_decoded(); !part && !leading.empty())
    report.warnings.push_back(input.string() + ": " + leading);
  if (writer) writer->end(damaged ? "damaged: " + damage : "ok", part ? part->timeline->frames() : report.frames);
  if (damaged) {
    report.damaged = true;
    report.warnings.push_back(input.string() + ": input is damaged (" + damage + "); rendered what decoded into " +
                              output.string());
  }
}

}  // namespace roadveil::pipeline
