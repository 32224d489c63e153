#include "review/verify.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <span>

#include <fmt/format.h>

#include "core/error.hpp"
#include "media/image_file.hpp"
#include "media/input_file.hpp"
#include "media/photo_metadata.hpp"
#include "media/stream_pictures.hpp"
#include "media/rotation.hpp"
#include "review/readability.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace roadveil::review {

namespace {

// Share of `box` inside the union of `regions`, each drawn with the shape it is hidden with
// (drawn_as_ellipse), sampled on a 16x16 grid of points (enough to tell a box mostly inside from one mostly
// outside).
double covered_share(const Box& box, const Regions& regions, const redact::ClassStyles& styles) {
  constexpr int kGrid = 16;
  int in = 0;
  for (int j = 0; j < kGrid; ++j)
    for (int i = 0; i < kGrid; ++i) {
      const float x = box.x1 + (static_cast<float>(i) + 0.5f) * box.width() / kGrid;
      const float y = box.y1 + (static_cast<float>(j) + 0.5f) * box.height() / kGrid;
      in += std::any_of(regions.begin(), regions.end(), [&](const Region& r) {
        if (x < r.box.x1 || x >= r.box.x2 || y < r.box.y1 || y >= r.box.y2) return false;
        if (!drawn_as_ellipse(r.source, styles[static_cast<std::size_t>(r.cls)].shape == redact::Shape::Ellipse)) return true;
        const float dx = (x - r.box.cx()) / (0.5f * r.box.width()), dy = (y - r.box.cy()) / (0.5f * r.box.height());
        return dx * dx + dy * dy <= 1.0f;
      });
    }
  return static_cast<double>(in) / (kGrid * kGrid);
}

Finding make_finding(FindingKind kind, ObjectClass cls, RegionSource source, std::int64_t frame, double time,
                     const Box& box, float score) {
  Finding f;
  f.kind = kind;
  f.cls = cls;
  f.source = source;
  f.frame = frame;
  f.time = time;
  f.box = box;
  f.score = score;
  return f;
}

std::string crop_name(const std::string& prefix, const Finding& f, std::size_t n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, ".f%06lld.%s.%s.%zu.png", static_cast<long long>(f.frame), std::string(to_string(f.kind)).c_str(),
                std::string(to_string(f.cls)).c_str(), n);
  return prefix + buf;
}

}  // namespace

std::string_view to_string(FindingKind k) { return k == FindingKind::Exposed ? "exposed" : "readable"; }

std::string timecode(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const auto ms = static_cast<long long>(std::llround(seconds * 1000));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  return buf;
}

Verifier::Verifier(VerifyOptions options) : options_(std::move(options)), detector_(options_.detector) {
  options_.every = std::max(1, options_.every);
  if (!options_.crops.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.crops, ec);
    if (ec) throw Error(options_.crops.string() + ": cannot create the crops folder (" + ec.message() + ")");
  }
}

Verifier::~Verifier() = default;

FileVerification Verifier::verify(const std::filesystem::path& file, const pipeline::RegionsEntry* regions) {
  FileVerification out;
  out.file = file;
  out.regions_known = regions != nullptr;
  auto regions_of = [&](std::int64_t index) -> const Regions* {
    if (!regions) return nullptr;
    static const Regions kNone;
    const auto it = regions->frames.find(index);
    return it == regions->frames.end() ? &kNone : &it->second;
  };
  auto check_size = [&](int w, int h) {
    out.width = w;
    out.height = h;
    if (regions) regions->check_size(file, w, h, "not the output of that run");
  };
  if (media::is_image_path(file)) {
    std::string decode_damage;
    const media::FramePtr frame = media::decode_image(file, &decode_damage);
    // A truncated or damaged photo is checked as far as it decoded, and said to be damaged, as anonymize says.
    out.damaged = !media::picture_damage(file).empty() || !decode_damage.empty();
    check_size(frame->width, frame->height);
    detector_.set_pixel_aspect(1.0f);  // photos are shown with square pixels
    upright_.reset();
    if (const int turn = media::frame_rotation_degrees(*frame)) upright_.emplace(detector_, turn, frame->width, frame->height);
    out.frames = 1;
    checked_frame(*frame, 0, 0, regions_of(0), out);
    std::ifstream in(file, std::ios::binary);
    out.metadata_pictures = media::pictures_in_photo_metadata({std::istreambuf_iterator<char>(in), {}});
    return out;
  }
  media::InputFile input(file);
  out.video = true;
  // Only one video track is decoded: a file with another would be reported clean with that track unseen
  // (anonymize refuses such files too).
  if (!input.other_video_streams().empty())
    throw Error(file.string() + ": has " + input.video_tracks_text() + "; verify checks one video track per file: split the tracks first (e.g. ffmpeg -i FILE -map 0:v:1 "
                "-c copy second.mp4) and verify each file");
  // Cover art and attached images are pictures of their own: checked like photos, by the detail left where
  // something is found (a regions file lists the video's frames only).
  for (const int index : input.attached_picture_streams()) {
    const AVStream* st = input.format_context()->streams[index];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT && st->attached_pic.size <= 0) continue;
    const std::string what = file.string() + ": attached picture #" + std::to_string(index);
    const media::FramePtr picture = media::decode_still_picture(*st, what);
    detector_.set_pixel_aspect(1.0f);
    upright_.reset();
    const std::size_t before = out.findings.size();
    try {
      check_frame(*picture, 0, 0, nullptr, out);
    } catch (const Error& e) {
      throw Error(what + ": " + e.what());
    }
    for (std::size_t i = before; i < out.findings.size(); ++i) out.findings[i].picture_stream = index;
    ++out.pictures_checked;
  }
  // Streams copied beside the video (data, subtitles, attachments) may carry a picture of what the video hides:
  // counted as anonymize zeroes them (media/stream_pictures.hpp), per stream, headers and packets.
  const AVFormatContext* format = input.format_context();
  // By stream index: a stream that appears while reading (an FLV's first data tag, a TS whose PMT changes) is
  // counted too, where a vector sized before reading was written past its end.
  std::map<unsigned, int> stream_pictures;
  auto stream_name = [&](unsigned i) {
    const AVCodecParameters* par = format->streams[i]->codecpar;
    const char* type = av_get_media_type_string(par->codec_type);
    return fmt::format("{} stream #{} ({})", type ? type : "unknown", i, avcodec_get_name(par->codec_id));
  };
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVCodecParameters* par = format->streams[i]->codecpar;
    if (media::is_bitmap_subtitle(*par)) {
      out.metadata_pictures.push_back(stream_name(i) + ": subtitles drawn as pictures, which roadveil does not look into");
      continue;
    }
    // A font is kept as it is by anonymize (its glyphs may be PNGs: colour emoji), and is no copy of the video.
    const bool text_attachment = par->codec_type == AVMEDIA_TYPE_ATTACHMENT && media::attachment_kind(*par) != media::AttachmentKind::Font;
    if ((!media::may_carry_pictures(*par) && !text_attachment) || par->extradata_size <= 0) continue;
    std::vector<std::uint8_t> header(par->extradata, par->extradata + par->extradata_size);
    const int n = (par->codec_type == AVMEDIA_TYPE_SUBTITLE ? media::remove_ass_graphics(header) : 0) +
                  media::remove_stream_pictures(header.data(), header.size());
    if (n > 0) out.metadata_pictures.push_back(fmt::format("{} picture(s) or base64 data in the header of {}", n, stream_name(i)));
  }
  check_size(input.video().width, input.video().height);
  upright_.reset();
  if (const int turn = input.video().rotation_degrees) upright_.emplace(detector_, turn, input.video().width, input.video().height);
  // Searched as shown, as anonymize searches it (non-square pixels).
  if (upright_) upright_->set_pixel_aspect(static_cast<float>(input.video().pixel_aspect()));
  else detector_.set_pixel_aspect(static_cast<float>(input.video().pixel_aspect()));
  const AVRational tb = input.video().time_base;
  const std::int64_t start = input.video_stream()->start_time == AV_NOPTS_VALUE ? 0 : input.video_stream()->start_time;
  media::FramePtr frame = media::make_frame();
  media::PacketPtr packet = media::make_packet();
  for (;;) {
    const media::ReadResult r = input.read(frame.get(), packet.get());
    if (r == media::ReadResult::End) break;
    if (r == media::ReadResult::Packet) {
      const int at = packet->stream_index;
      if (at >= 0 && static_cast<unsigned>(at) < format->nb_streams && packet->size > 0 &&
          media::may_carry_pictures(*format->streams[at]->codecpar)) {
        std::vector<std::uint8_t> bytes(packet->data, packet->data + packet->size);
        stream_pictures[static_cast<unsigned>(at)] += media::remove_stream_pictures(bytes.data(), bytes.size());
      }
      av_packet_unref(packet.get());
      continue;
    }
    const std::int64_t index = out.frames++;
    if (index % options_.every == 0) {
      const double time = frame->pts == AV_NOPTS_VALUE ? 0 : static_cast<double>(frame->pts - start) * av_q2d(tb);
      checked_frame(*frame, index, time, regions_of(index), out);
    }
    av_frame_unref(frame.get());
  }
  if (out.frames == 0) throw Error(file.string() + ": no video frame could be decoded");
  for (const auto& [i, n] : stream_pictures)
    if (n > 0 && i < format->nb_streams)
      out.metadata_pictures.push_back(fmt::format("{} picture(s) or base64 data in the packets of {}", n, stream_name(i)));
  out.damaged = input.damaged();
  // A damaged file decodes fewer frames than it was written with: what did decode is still reported.
  if (regions && !out.damaged) {
    if (regions->info.frame_count > 0 && regions->info.frame_count != out.frames)
      throw Error(file.string() + ": has " + std::to_string(out.frames) + " frames but its regions entry (" +
                  regions->info.input.string() + ") has " + std::to_string(regions->info.frame_count) +
                  ": not the output of that run");
    if (!regions->frames.empty() && regions->frames.rbegin()->first >= out.frames)
      throw Error(file.string() + ": has " + std::to_string(out.frames) + " frames but its regions entry lists frame " +
                  std::to_string(regions->frames.rbegin()->first) + ": not the output of that run");
  }
  return out;
}

void Verifier::checked_frame(const AVFrame& frame, std::int64_t index, double time, const Regions* regions,
                             FileVerification& out) {
  ++out.frames_checked;
  try {
    check_frame(frame, index, time, regions, out);
  } catch (const Error& e) {
    throw Error(out.file.string() + ": frame " + std::to_string(index) + ": " + e.what());
  }
}

void Verifier::check_frame(const AVFrame& frame, std::int64_t index, double time, const Regions* regions,
                           FileVerification& out) {
  std::vector<Finding> found;
  // What the networks find. Head regions inferred from body boxes are not evidence of a visible head.
  const Detections detections = upright_ ? upright_->detect_whole(frame, detect::WholeFramePass::photo()) : detector_.detect(frame);
  for (const Detection& d : detections) {
    if (d.source == RegionSource::Context) continue;
    ++out.detections[static_cast<std::size_t>(d.cls)];
    Finding f = make_finding(FindingKind::Exposed, d.cls, d.source, index, time, d.box, d.score);
    if (regions) {
      // A network firing on the mosaic that hides a face is covered; so is a face with its eyes bare above a
      // region that covers its mouth and chin (two thirds of its box: a child's eyes and forehead passed).
      // The middle of a box (half its width and height) is where a face's eyes, nose and mouth and a plate's
      // characters lie, its edges hair, a collar, a bumper: the middle must be hidden all but entirely.
      f.covered = covered_share(d.box, *regions, options_.styles);
      const Box middle{d.box.x1 + 0.25f * d.box.width(), d.box.y1 + 0.25f * d.box.height(),
                       d.box.x2 - 0.25f * d.box.width(), d.box.y2 - 0.25f * d.box.height()};
      if (f.covered >= options_.covered_fraction && covered_share(middle, *regions, options_.styles) >= VerifyOptions::kMiddleCovered) continue;
    } else {
      f.residual = detail_share(frame, redact::hidden_rect(d.box, frame.width, frame.height), options_.detail_levels);
      if (f.residual <= options_.max_detail_share) continue;
    }
    found.push_back(f);
  }
  // What the hidden regions still show.
  if (regions) {
    std::vector<PixelRect> rects;
    rects.reserve(regions->size());
    for (const Region& r : *regions) rects.push_back(redact::hidden_rect(r.box, frame.width, frame.height));
    for (std::size_t k = 0; k < regions->size(); ++k) {
      if (rects[k].empty()) continue;
      const Region& region = (*regions)[k];
      const Readability m = measure_readability(frame, rects[k], redact::style_for(region, options_.styles),
                                                std::span(rects).subspan(k + 1));
      if (m.samples == 0) continue;
      ++out.regions_checked;
      if (m.residual <= options_.max_residual) continue;
      Finding f = make_finding(FindingKind::Readable, region.cls, region.source, index, time, region.box, region.score);
      f.residual = m.residual;
      found.push_back(std::move(f));
    }
  }
  for (Finding& f : found) {
    if (!options_.crops.empty()) save_crop(frame, f, out);
    out.findings.push_back(std::move(f));
  }
}

void Verifier::save_crop(const AVFrame& frame, Finding& f, const FileVerification& file) {
  // The finding at the centre of a crop twice its size (at least 64 px), on even coordinates for
  // subsampled chroma.
  const float w = std::max(64.0f, 2 * f.box.width()), h = std::max(64.0f, 2 * f.box.height());
  const PixelRect r = redact::hidden_rect(Box::from_center(f.box.cx(), f.box.cy(), w, h), frame.width, frame.height);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  // Bitstream formats cannot be cropped at any column; the finding is reported without a picture.
  if (r.w < 2 || r.h < 2 || !desc || (desc->flags & AV_PIX_FMT_FLAG_BITSTREAM)) return;
  const int x = r.x & ~((1 << desc->log2_chroma_w) - 1), y = r.y & ~((1 << desc->log2_chroma_h) - 1);
  media::FramePtr crop(av_frame_clone(&frame));
  if (!crop) throw Error("out of memory");
  crop->crop_left = static_cast<std::size_t>(x);
  crop->crop_top = static_cast<std::size_t>(y);
  crop->crop_right = static_cast<std::size_t>(std::max(0, frame.width - (r.x + r.w)));
  crop->crop_bottom = static_cast<std::size_t>(std::max(0, frame.height - (r.y + r.h)));
  if (av_frame_apply_cropping(crop.get(), AV_FRAME_CROP_UNALIGNED) < 0) return;
  f.crop = options_.crops / crop_name(crop_prefix(file.file), f, file.findings.size());
  media::encode_image(*crop, f.crop, {});
}

// Crops are named after their file: a/x.jpg and b/x.jpg checked in one run wrote the same names, the second
// file's crops over the first's, both reports pointing at them. A second file of a name gets "x.jpg-2".
std::string Verifier::crop_prefix(const std::filesystem::path& file) {
  if (const auto it = crop_prefixes_.find(file); it != crop_prefixes_.end()) return it->second;
  std::string prefix = file.filename().string();
  for (int n = 2; std::any_of(crop_prefixes_.begin(), crop_prefixes_.end(), [&](const auto& p) { return p.second == prefix; }); ++n)
    prefix = file.filename().string() + "-" + std::to_string(n);
  crop_prefixes_[file] = prefix;
  return prefix;
}

nlohmann::json to_json(const FileVerification& v) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : v.findings) {
    nlohmann::json j = {{"kind", to_string(f.kind)},
                        {"class", to_string(f.cls)},
                        {"source", to_string(f.source)},
                        {"frame", f.frame},
                        {"time", f.time},
                        {"timecode", timecode(f.time)},
                        {"box", {f.box.x1, f.box.y1, f.box.x2, f.box.y2}},
                        {"score", f.score}};
    if (f.kind == FindingKind::Exposed) {
      if (v.regions_known && f.picture_stream < 0) j["covered"] = f.covered;  // cover art: judged by its detail
      else j["detail_share"] = f.residual;
    } else {
      j["residual"] = f.residual;
    }
    if (f.picture_stream >= 0) j["attached_picture"] = f.picture_stream;
    if (!f.crop.empty()) j["crop"] = f.crop.string();
    findings.push_back(std::move(j));
  }
  for (const std::string& where : v.metadata_pictures) findings.push_back({{"kind", "metadata_picture"}, {"where", where}});
  std::size_t exposed = 0;
  for (const Finding& f : v.findings) exposed += f.kind == FindingKind::Exposed;
  nlohmann::json detections_by_class = nlohmann::json::object();
  for (int c = 0; c < object_class_count(); ++c)
    if (is_builtin(static_cast<ObjectClass>(c)) || v.detections[c] > 0)
      detections_by_class[std::string(to_string(static_cast<ObjectClass>(c)))] = v.detections[c];
  return {{"file", v.file.string()},
          {"type", v.video ? "video" : "image"},
          {"width", v.width},
          {"height", v.height},
          {"frames", v.frames},
          {"frames_checked", v.frames_checked},
          {"attached_pictures_checked", v.pictures_checked},
          {"regions_known", v.regions_known},
          {"regions_checked", v.regions_checked},
          {"detections", detections_by_class},
          {"exposed", exposed},
          {"readable", v.findings.size() - exposed},
          {"damaged", v.damaged},
          {"findings", std::move(findings)}};
}

}  // namespace roadveil::review
