// The two halves of a split run (pipeline/segments.hpp): a worker's part, and the join of all parts.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "media/output_file.hpp"
#include "pipeline/audit_record.hpp"
#include "media/video_timeline.hpp"
#include "pipeline/anonymizer.hpp"
#include "pipeline/segments.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

namespace roadveil::pipeline {

namespace fs = std::filesystem;

namespace {

// One part's video, read back packet by packet.
class PartReader {
 public:
  explicit PartReader(const fs::path& path) : path_(path) {
    int err = avformat_open_input(&format_, media::local_file_url(path).c_str(), nullptr, nullptr);
    if (err < 0) throw Error(path.string() + ": cannot open the part (" + media::av_error_text(err) + ")");
    err = avformat_find_stream_info(format_, nullptr);
    if (err < 0 || format_->nb_streams != 1 || format_->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) {
      avformat_close_input(&format_);  // the destructor does not run for a constructor that throws
      throw Error(path.string() + ": is not a part written by roadveil (one video stream)");
    }
  }
  ~PartReader() {
    if (format_) avformat_close_input(&format_);
  }
  PartReader(const PartReader&) = delete;
  PartReader& operator=(const PartReader&) = delete;

  const AVCodecParameters* parameters() const { return format_->streams[0]->codecpar; }
  AVRational time_base() const { return format_->streams[0]->time_base; }
  bool read(AVPacket* packet) {
    av_packet_unref(packet);
    const int err = av_read_frame(format_, packet);
    if (err == AVERROR_EOF) return false;
    if (err < 0) throw Error(path_.string() + ": reading the part failed (" + media::av_error_text(err) + ")");
    return true;
  }

 private:
  fs::path path_;
  AVFormatContext* format_ = nullptr;
};

nlohmann::json read_part_record(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot read");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error(path.string() + ": not a part record (" + e.what() + ")");
  }
}

std::int64_t timestamp_of(const AVPacket& p) { return p.dts != AV_NOPTS_VALUE ? p.dts : p.pts; }

}  // namespace

FileReport Anonymizer::process_part(const fs::path& input, const fs::path& output, int index, int count,
                                    const std::string& settings_digest) {
  const PartFiles files = part_files(output, index, count);
  return reported(input, files.video, nullptr, [&](FileReport& report) {
    const auto start = std::chrono::steady_clock::now();
    if (media::is_image_path(input)) throw Error(input.string() + ": a photo is not split: anonymize it without --segment");
    if (options_.regions) throw Error("rendering a regions file is not split into parts");
    std::error_code ec;
    fs::remove(files.record, ec);  // an earlier record must not vouch for a part that is being rewritten
    media::InputFile in(input, media::DecodeOptions{options_.threads});
    refuse_other_video_tracks(in);
    // The join would refuse sound the output cannot hold: said before the part's work, not after all of it.
    media::refuse_audio_the_output_cannot_hold(in, output);
    const media::VideoTimeline timeline = media::read_video_timeline(in);
    const auto cuts = segment_cuts(timeline, count, input.string());
    const int interval = keyframe_interval(in.video());
    Part part{&timeline, plan_segment(timeline, cuts, index, interval, segment_context_frames(options_.tracker, options_.schedule, interval)),
              output};
    RegionsWriter regions(files.regions);
    // Said once for the file, as one run says it, by the part that writes its first frames (the join repeats it).
    if (index == 0 && !timeline.leading_packets_warning.empty())
      report.warnings.push_back(input.string() + ": " + timeline.leading_packets_warning);
    if (options_.decode_twice)
      report.warnings.push_back(input.string() + ": --low-memory is for whole files; a part is decoded once, its frames held");
    else if (const VideoMemoryPlan plan = memory_plan(in.video()); !plan.holding_fits())
      report.warnings.push_back(memory_message(input.string(), in.video(), plan) +
                                ": a part is decoded once, its frames held; it may run out of memory");
    process_video(in, files.video, &regions, report, &part);
    regions.close();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json record = part_record(part.plan, input_fingerprint(input, timeline.frames(), timeline.packets_sha256), settings_digest, report);
    // What the join will take: a part's video or regions changed or damaged since (a disk error, a copy cut
    // short, another part's file copied over it) was joined, the parts deleted, the audit passing.
    record["video_sha256"] = sha256_file_hex(files.video);
    record["regions_sha256"] = sha256_file_hex(files.regions);
    write_file_atomically(files.record, [&](std::ostream& o) { o << record.dump(2) << "\n"; }, "part record");
  });
}

FileReport Anonymizer::join_parts(const fs::path& input, const fs::path& output, int count,
                                  const std::string& settings_digest, RegionsWriter* writer) {
  FileReport joined = reported(input, output, writer, [&](FileReport& report) {
    if (media::is_image_path(input)) throw Error(input.string() + ": a photo is not split: anonymize it without --join");
    // The timeline is read from one opening of the input and the other streams are copied from another: after
    // the timeline the input is back at its first video frame, and audio that starts earlier would be lost.
    media::VideoTimeline timeline;
    {
      media::InputFile scan(input, media::DecodeOptions{options_.threads});
      refuse_other_video_tracks(scan);
      timeline = media::read_video_timeline(scan);
    }
    const auto cuts = segment_cuts(timeline, count, input.string());
    const nlohmann::json fingerprint = input_fingerprint(input, timeline.frames(), timeline.packets_sha256);

    // Every part must be complete and made from this input, with these settings, for the cuts of this input.
    std::vector<PartFiles> files;
    std::vector<FileReport> part_reports;
    for (int k = 0; k < count; ++k) {
      files.push_back(part_files(output, k, count));
      const fs::path& record_path = files.back().record;
      std::error_code ec;
      if (!fs::exists(record_path, ec))
        throw Error(fmt::format("{}: part {} of {} is missing or unfinished (no {}): run roadveil anonymize with "
                                "--segment {}/{} and the same settings for it", output.string(), k, count,
                                record_path.string(), k, count));
      const nlohmann::json record = read_part_record(record_path);
      try {
        if (record.at("version") != kRoadveilVersion)
          throw Error(fmt::format("made by roadveil {}, this is {}", record.at("version").dump(), kRoadveilVersion));
        if (record.at("part") != k || record.at("parts") != count) throw Error("it is another part");
        if (record.at("input") != fingerprint) throw Error("it was made from another input than " + input.string());
        if (record.at("settings") != settings_digest) throw Error("it was made with other settings than this join's");
        if (record.at("first_frame") != cuts[k] || record.at("end_frame") != cuts[k + 1])
          throw Error(fmt::format("it holds frames {} to {}, where this input's part is {} to {}",
                                  record.at("first_frame").dump(), record.at("end_frame").dump(), cuts[k], cuts[k + 1]));
        part_reports.push_back(report_from_part_record(record));
        for (const auto& [key, file] : {std::pair{"video_sha256", files.back().video}, std::pair{"regions_sha256", files.back().regions}}) {
          const std::string recorded = record.at(key).get<std::string>();
          std::string digest;
          try {
            digest = sha256_file_hex(file);
          } catch (const Error&) {
            throw Error(file.string() + " is missing or unreadable");
          }
          if (digest != recorded)
            throw Error(file.string() + " is not the file it recorded (changed or damaged since it was made)");
        }
      } catch (const Error& e) {
        throw Error(record_path.string() + ": " + e.what() + "; make the part again");
      } catch (const std::exception& e) {
        throw Error(record_path.string() + ": not a part record (" + e.what() + ")");
      }
    }

    std::vector<std::unique_ptr<PartReader>> parts;
    for (const PartFiles& f : files) parts.push_back(std::make_unique<PartReader>(f.video));
    const AVCodecParameters* first = parts.front()->parameters();
    for (std::size_t k = 1; k < parts.size(); ++k) {
      const AVCodecParameters* p = parts[k]->parameters();
      if (p->codec_id != first->codec_id || p->width != first->width || p->height != first->height)
        throw Error(fmt::format("{}: is {} {}x{}, part 0 {} {}x{}", files[k].video.string(), avcodec_get_name(p->codec_id),
                                p->width, p->height, avcodec_get_name(first->codec_id), first->width, first->height));
      // The joined file has one set of parameter sets (part 0's): a part whose encoder wrote others would not
      // decode with them.
      if (p->extradata_size != first->extradata_size ||
          (p->extradata_size > 0 && std::memcmp(p->extradata, first->extradata, static_cast<std::size_t>(p->extradata_size)) != 0))
        throw Error(fmt::format("{}: its encoder's parameter sets differ from part 0's (another encoder build or "
                                "settings?): make the parts with the same roadveil and options", files[k].video.string()));
    }

    // Every part's regions are read before the output is written: a part whose regions file could not be read
    // left a finished output (an earlier one replaced) without its regions or audit record.
    std::vector<RegionsFile> part_regions;
    for (const PartFiles& f : files) {
      part_regions.push_back(RegionsFile::read(f.regions));
      if (part_regions.back().entries().size() != 1) throw Error(f.regions.string() + ": a part's regions file has one entry");
    }

    media::InputFile in(input, media::DecodeOptions{options_.threads});
    const std::vector<media::ReplacementPicture> pictures = anonymized_pictures(in, report);
    media::EncodeOptions encode = options_.encode;
    encode.encoded_video = first;
    media::OutputFile out(output, in, encode, pictures);
    for (const auto& d : out.dropped_streams()) report.warnings.push_back(input.string() + ": dropped " + d.reason);

    // The parts' video and the input's other streams, interleaved by time as the muxer wants them.
    media::PacketPtr video = media::make_packet(), other = media::make_packet();
    std::size_t k = 0;
    std::int64_t part_frames = 0, last_dts = AV_NOPTS_VALUE;
    const std::int64_t bias = media::part_clock_bias(in);
    auto next_video = [&] {
      while (k < parts.size()) {
        if (parts[k]->read(video.get())) {
          if (bias > 0) {  // the part's clock moved up (media::part_clock_bias), back to the input's
            const std::int64_t b = av_rescale_q(bias, AV_TIME_BASE_Q, parts[k]->time_base());
            if (video->pts != AV_NOPTS_VALUE) video->pts -= b;
            if (video->dts != AV_NOPTS_VALUE) video->dts -= b;
          }
          return true;
        }
        const std::int64_t wanted = part_reports[k].frames;
        if (part_frames != wanted)
          throw Error(fmt::format("{}: holds {} frames, its record says {}", files[k].video.string(), part_frames, wanted));
        part_frames = 0;
        ++k;
      }
      return false;
    };
    // The parts' packets come back without durations, and a container takes its last frame's duration from its
    // packet (without one, MP4 gave it the average: a VFR clip's joined file lasted longer than one run's): the
    // last packet gets the duration of the input's last frame, as one run's encoder gave it.
    media::PacketPtr held = media::make_packet();
    AVRational held_time_base{0, 1};
    bool held_video = false;
    bool have_video = next_video(), have_other = in.read_other_packet(other.get());
    while (have_video || have_other) {
      bool video_first = have_video;
      if (have_video && have_other && timestamp_of(*other) != AV_NOPTS_VALUE)
        video_first = av_compare_ts(timestamp_of(*video), parts[k]->time_base(), timestamp_of(*other),
                                    in.format_context()->streams[other->stream_index]->time_base) <= 0;
      if (video_first) {
        // Each part's encoder started afresh; its first decoding timestamp comes after the last one of the part
        // before for any constant reordering delay. With a variable frame rate the encoder extrapolates its
        // first decoding times from the part's first frame durations, and they may fall before the previous
        // part's last (every split of a phone's video failed at the join). Those are moved just after it:
        // decoding times only order the packets; the presentation times, which players show, are the encoder's.
        std::int64_t dts = av_rescale_q(video->dts, parts[k]->time_base(), parts.front()->time_base());
        if (video->dts != AV_NOPTS_VALUE && last_dts != AV_NOPTS_VALUE && dts <= last_dts) {
          const std::int64_t pts = video->pts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE
                                                                 : av_rescale_q(video->pts, parts[k]->time_base(), parts.front()->time_base());
          if (av_cmp_q(parts[k]->time_base(), parts.front()->time_base()) != 0 || (pts != AV_NOPTS_VALUE && last_dts + 1 > pts))
            throw Error(fmt::format("{}: its decoding timestamps go back at its start ({} after {}): these parts cannot "
                                    "be joined; make this part again, or anonymize the file in one run",
                                    files[k].video.string(), dts, last_dts));
          dts = last_dts + 1;
          video->dts = dts;
        }
        if (video->dts != AV_NOPTS_VALUE) last_dts = dts;
        ++part_frames;
        // Each packet is written when the next one is read: the last one's duration is known only then.
        if (held_video) out.write_encoded_video(held.get(), held_time_base);
        av_packet_unref(held.get());
        av_packet_move_ref(held.get(), video.get());
        held_time_base = parts[k]->time_base();
        held_video = true;
        have_video = next_video();
      } else {
        out.write_packet(other.get());
        have_other = in.read_other_packet(other.get());
      }
    }
    if (held_video) {
      if (held->duration <= 0 && timeline.frames() > 0) {
        const std::int64_t last = timeline.last_duration > 0 ? timeline.last_duration
                                  : timeline.frames() > 1   ? timeline.pts.back() - timeline.pts[timeline.pts.size() - 2]
                                                            : 0;
        held->duration = av_rescale_q(last, timeline.time_base, held_time_base);
      }
      out.write_encoded_video(held.get(), held_time_base);
    }
    if (in.read_error()) throw Error(input.string() + ": reading failed (" + in.read_error_text() + ")");
    out.finish();
    for (const std::string& s : out.scrubbed_pictures()) report.warnings.push_back(input.string() + ": " + s);

    // The report and the regions of the whole file, from the parts'.
    for (const FileReport& r : part_reports) {
      report.frames += r.frames;
      report.frames_keyframes += r.frames_keyframes;
      report.frames_searched += r.frames_searched;
      report.video_crf = std::max(report.video_crf, r.video_crf);
      report.frames_with_regions += r.frames_with_regions;
      for (int c = 0; c < object_class_count(); ++c) {
        report.regions[c] += r.regions[c];
        report.detections[c] += r.detections[c];
      }
      for (int s = 0; s < kRegionSourceCount; ++s) report.regions_by_source[s] += r.regions_by_source[s];
      report.damaged = report.damaged || r.damaged;
      report.warnings.insert(report.warnings.end(), r.warnings.begin(), r.warnings.end());
    }
    if (writer) {
      const media::VideoInfo& info = in.video();
      writer->begin({input, output, true, info.width, info.height, info.time_base.num, info.time_base.den,
                     info.frame_rate.den ? av_q2d(info.frame_rate) : 0, timeline.frames()});
      // Track numbers restart in every part. A track that crosses a cut is one object: it keeps the number it
      // had before the cut (numbered anew in each part, a review's edit of a track stopped at the cut, the
      // face left as it was on the other side). The tracks on the two frames either side of a cut are
      // matched by class and overlap; the others take the next free numbers.
      const std::vector<std::map<int, int>> numbers = join_track_numbers(part_regions, cuts);
      for (std::size_t k = 0; k < part_regions.size(); ++k) {
        for (const auto& [index, regions] : part_regions[k].entries().front().frames) {
          Regions renumbered = regions;
          for (Region& r : renumbered)
            if (r.track_id >= 0) r.track_id = numbers[k].at(r.track_id);
          if (index >= 0 && index < timeline.frames())
            writer->frame(index, timeline.pts[static_cast<std::size_t>(index)], renumbered);
        }
      }
      writer->end(report.damaged ? "damaged: a part was damaged" : "ok", report.frames);
    }
    if (report.frames != timeline.frames()) report.damaged = true;
  });
  if (joined.ok) {
    for (int k = 0; k < count; ++k) {
      const PartFiles f = part_files(output, k, count);
      std::error_code ec;
      for (const fs::path& p : {f.record, f.video, f.regions}) fs::remove(p, ec);
    }
  }
  return joined;
}

}  // namespace roadveil::pipeline
