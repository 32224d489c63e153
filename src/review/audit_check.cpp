#include "review/audit_check.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

extern "C" {
#include <libswscale/swscale.h>
}

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"
#include "media/input_file.hpp"
#include "pipeline/audit_record.hpp"
#include "pipeline/regions_file.hpp"
#include "redact/redact_plan.hpp"

namespace roadveil::review {

using nlohmann::json;

namespace {

// A path as recorded: absolute, else relative to the folder the run was started in ("cwd"), else relative to
// the current folder, else the file of that name beside the record (files moved together).
std::filesystem::path locate(const std::string& recorded, const json& record, const std::filesystem::path& record_path) {
  std::error_code ec;
  const std::filesystem::path p(recorded);
  if (p.is_absolute()) return p;
  if (record.contains("cwd") && record["cwd"].is_string()) {
    const auto from_run = std::filesystem::path(record["cwd"].get<std::string>()) / p;
    if (std::filesystem::exists(from_run, ec)) return from_run;
  }
  if (std::filesystem::exists(p, ec)) return p;
  const auto beside = record_path.parent_path() / p.filename();
  if (std::filesystem::exists(beside, ec)) return beside;
  return p;
}

AuditCheck check_file(const std::string& what, const json& recorded, const std::filesystem::path& path) {
  AuditCheck c{what};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    c.detail = path.string() + ": not found";
    return c;
  }
  const std::string sha = sha256_file_hex(path);
  const std::string want = recorded.value("sha256", "");
  c.ok = sha == want;
  c.detail = path.string() + (c.ok ? ": SHA-256 matches" : ": SHA-256 is " + sha + ", the record says " + want);
  return c;
}


// Frames as 8-bit luma, whatever their format, through one cached converter per source.
class GrayConverter {
 public:
  ~GrayConverter() { sws_freeContext(sws_); }
  const std::vector<std::uint8_t>& operator()(const AVFrame& f) {
    sws_ = sws_getCachedContext(sws_, f.width, f.height, static_cast<AVPixelFormat>(f.format), f.width, f.height,
                                AV_PIX_FMT_GRAY8, SWS_POINT, nullptr, nullptr, nullptr);
    if (!sws_) throw Error("cannot convert a frame of this pixel format for comparison");
    gray_.resize(static_cast<std::size_t>(f.width) * f.height);
    std::uint8_t* dst[4] = {gray_.data(), nullptr, nullptr, nullptr};
    int stride[4] = {f.width, 0, 0, 0};
    sws_scale(sws_, f.data, f.linesize, 0, f.height, dst, stride);
    return gray_;
  }

 private:
  SwsContext* sws_ = nullptr;
  std::vector<std::uint8_t> gray_;
};

double mean_abs_diff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b, int width, const PixelRect& r) {
  double sum = 0;
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x) sum += std::abs(int(a[y * width + x]) - int(b[y * width + x]));
  return r.empty() ? 0 : sum / (static_cast<double>(r.w) * r.h);
}

struct HiddenAreaTally {
  std::int64_t frames = 0, regions = 0, reproduced = 0, indistinct = 0;
  std::string first_failure;
  // Blocks away from every listed region where the output still differs from the input as hidden pixels do:
  // a region shrunk or emptied in the regions file (its count kept) left "0 of 0 reproduced" passing.
  bool outside = true;  // whether to look (the encoder's error is below hiding's)
  std::int64_t changed_blocks = 0, frames_changed = 0;
  std::string first_changed;
};

// Where the output differs from the input away from every region: 16x16 luma blocks at least a block away
// from each region's rectangle (and from each box a review edit took out or put in: the run's output still
// hides what a review deleted) whose mean difference is over kAuditOutsideChange, or over kAuditOutsideNoise
// times the frame's median block difference where the encoder's own error is larger (JPEG at --jpeg-quality
// 31, x264 at a high CRF). Counts the blocks; a frame with kAuditOutsideBlocks or more of them hides something
// the regions file does not list.
void compare_outside(std::int64_t index, const std::vector<std::uint8_t>& in, const std::vector<std::uint8_t>& out, int width,
                     int height, const Regions& regions, const std::vector<Box>& reviewed, HiddenAreaTally& tally) {
  if (!tally.outside) return;
  constexpr int kBlock = 16;
  const int bw = (width + kBlock - 1) / kBlock, bh = (height + kBlock - 1) / kBlock;
  std::vector<char> near(static_cast<std::size_t>(bw) * bh, 0);
  auto mark = [&](const Box& box) {
    const PixelRect rect = redact::hidden_rect(box, width, height);
    if (rect.empty()) return;
    const int x1 = std::max(0, rect.x / kBlock - 1), y1 = std::max(0, rect.y / kBlock - 1);
    const int x2 = std::min(bw - 1, (rect.x + rect.w - 1) / kBlock + 1), y2 = std::min(bh - 1, (rect.y + rect.h - 1) / kBlock + 1);
    for (int y = y1; y <= y2; ++y)
      for (int x = x1; x <= x2; ++x) near[static_cast<std::size_t>(y) * bw + x] = 1;
  };
  for (const Region& r : regions) mark(r.box);
  for (const Box& b : reviewed) mark(b);
  std::vector<std::pair<double, int>> diffs;  // mean difference, block index
  diffs.reserve(near.size());
  for (int by = 0; by < bh; ++by)
    for (int bx = 0; bx < bw; ++bx) {
      if (near[static_cast<std::size_t>(by) * bw + bx]) continue;
      const PixelRect block{bx * kBlock, by * kBlock, std::min(kBlock, width - bx * kBlock), std::min(kBlock, height - by * kBlock)};
      diffs.emplace_back(mean_abs_diff(out, in, width, block), by * bw + bx);
    }
  if (diffs.empty()) return;
  std::vector<double> sorted(diffs.size());
  std::transform(diffs.begin(), diffs.end(), sorted.begin(), [](const auto& d) { return d.first; });
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double limit = std::max(kAuditOutsideChange, kAuditOutsideNoise * sorted[sorted.size() / 2]);
  int changed = 0;
  std::pair<double, int> first{0, -1};
  for (const auto& d : diffs)
    if (d.first > limit && changed++ == 0) first = d;
  if (changed < kAuditOutsideBlocks) return;
  tally.changed_blocks += changed;
  ++tally.frames_changed;
  if (tally.first_changed.empty())
    tally.first_changed = "frame " + std::to_string(index) + ": " + std::to_string(changed) + " blocks of 16x16 away from every listed region differ " +
                          "from the input by over " + std::to_string(static_cast<int>(std::lround(limit))) + " levels, as hidden pixels do (the first at " +
                          std::to_string(first.second % bw * kBlock) + "," + std::to_string(first.second / bw * kBlock) + ", by " +
                          std::to_string(static_cast<int>(std::lround(first.first))) + ")";
}

// Compares one output frame with the input frame re-rendered with `regions`.
void compare_frame(std::int64_t index, const AVFrame& input, const AVFrame& output, const Regions& regions,
                   const redact::ClassStyles& styles, redact::Redactor& redactor, GrayConverter& gray_in,
                   GrayConverter& gray_expected, GrayConverter& gray_out, const std::vector<Box>& reviewed, HiddenAreaTally& tally) {
  ++tally.frames;
  if (regions.empty()) {
    compare_outside(index, gray_in(input), gray_out(output), input.width, input.height, regions, reviewed, tally);
    return;
  }
  media::FramePtr expected = media::make_frame();
  av_frame_ref(expected.get(), &input);
  if (av_frame_make_writable(expected.get()) < 0) throw std::bad_alloc();
  redact::redact_regions(redactor, *expected, regions, styles);
  const auto& in = gray_in(input);
  const auto& ex = gray_expected(*expected);
  const auto& out = gray_out(output);
  compare_outside(index, in, out, input.width, input.height, regions, reviewed, tally);
  for (const Region& r : regions) {
    const PixelRect rect = redact::hidden_rect(r.box, input.width, input.height);
    if (rect.empty()) continue;
    ++tally.regions;
    const double hiding = mean_abs_diff(in, ex, input.width, rect);
    const double off = mean_abs_diff(out, ex, input.width, rect);
    const double unhidden = mean_abs_diff(out, in, input.width, rect);
    if (off <= kAuditCodecNoise || off < unhidden) {
      ++tally.reproduced;
    } else if (hiding < kAuditDistinctChange) {
      ++tally.indistinct;  // hiding changes too little here to tell a hidden region from the encoder's error
    } else if (tally.first_failure.empty()) {
      tally.first_failure = "frame " + std::to_string(index) + ", " + std::string(to_string(r.cls)) + " at " +
                            std::to_string(rect.x) + "," + std::to_string(rect.y) + " " + std::to_string(rect.w) + "x" +
                            std::to_string(rect.h) + ": the output differs from the re-render by " +
                            std::to_string(static_cast<int>(std::lround(off))) + " levels, from the input by " +
                            std::to_string(static_cast<int>(std::lround(unhidden))) + " (hiding changes " +
                            std::to_string(static_cast<int>(std::lround(hiding))) + ")";
    }
  }
}

AuditCheck check_hidden_area(const std::filesystem::path& input, const std::filesystem::path& output,
                             const pipeline::RegionsEntry& entry, const redact::ClassStyles& styles, bool outside) {
  AuditCheck c{"hidden area"};
  HiddenAreaTally tally;
  tally.outside = outside;
  redact::Redactor redactor;
  GrayConverter gray_in, gray_expected, gray_out;
  auto regions_at = [&](std::int64_t f) {
    static const Regions none;
    const auto it = entry.frames.find(f);
    return it == entry.frames.end() ? none : it->second;
  };
  // The boxes the review's edits took out or put in, per frame: what the run's output may still hide there.
  std::map<std::int64_t, std::vector<Box>> journal;
  if (entry.review.is_object() && entry.review.contains("edits") && entry.review["edits"].is_array())
    for (const json& e : entry.review["edits"])
      for (const json& c : e.value("changes", json::array())) {
        if (!c.is_object() || !c.contains("frame") || !c["frame"].is_number_integer()) continue;
        for (const char* side : {"before", "after"})
          for (const json& r : c.value(side, json::array()))
            if (r.is_object() && r.contains("box") && r["box"].is_array() && r["box"].size() == 4 &&
                std::all_of(r["box"].begin(), r["box"].end(), [](const json& v) { return v.is_number(); }))
              journal[c["frame"].get<std::int64_t>()].push_back(
                  Box{r["box"][0].get<float>(), r["box"][1].get<float>(), r["box"][2].get<float>(), r["box"][3].get<float>()});
      }
  auto reviewed_at = [&](std::int64_t f) -> const std::vector<Box>& {
    static const std::vector<Box> none;
    const auto it = journal.find(f);
    return it == journal.end() ? none : it->second;
  };
  if (media::is_image_path(input)) {
    const auto in = media::decode_image(input), out = media::decode_image(output);
    if (in->width != out->width || in->height != out->height) {
      c.detail = "the output's size differs from the input's";
      return c;
    }
    compare_frame(0, *in, *out, regions_at(0), styles, redactor, gray_in, gray_expected, gray_out, reviewed_at(0), tally);
  } else {
    media::InputFile in(input), out(output);
    if (in.video().width != out.video().width || in.video().height != out.video().height) {
      c.detail = "the output's size differs from the input's";
      return c;
    }
    auto in_frame = media::make_frame(), out_frame = media::make_frame();
    auto packet = media::make_packet();
    auto next = [&](media::InputFile& f, AVFrame* frame) {
      for (;;) {
        const auto r = f.read(frame, packet.get());
        av_packet_unref(packet.get());
        if (r == media::ReadResult::VideoFrame) return true;
        if (r == media::ReadResult::End) return false;
      }
    };
    std::int64_t index = 0;
    for (;; ++index) {
      const bool a = next(in, in_frame.get()), b = next(out, out_frame.get());
      if (a != b) {
        c.detail = "the output has " + std::string(a ? "fewer" : "more") + " frames than the input (from frame " + std::to_string(index) + ")";
        return c;
      }
      if (!a) break;
      compare_frame(index, *in_frame, *out_frame, regions_at(index), styles, redactor, gray_in, gray_expected, gray_out,
                    reviewed_at(index), tally);
    }
  }
  c.ok = tally.reproduced + tally.indistinct == tally.regions && tally.frames_changed == 0;
  c.detail = std::to_string(tally.frames) + " frames, " + std::to_string(tally.reproduced) + " of " +
             std::to_string(tally.regions) + " hidden regions reproduced by re-rendering the regions file" +
             (tally.indistinct ? " (" + std::to_string(tally.indistinct) + " more where hiding changes under " +
                                     std::to_string(static_cast<int>(kAuditDistinctChange)) + " levels: too little to tell)" : "") +
             (tally.first_failure.empty() ? "" : "; first not reproduced: " + tally.first_failure) +
             (tally.frames_changed ? "; the output hides what the regions file does not list on " + std::to_string(tally.frames_changed) +
                                         " frame(s), " + tally.first_changed : "");
  return c;
}

// A regions file the run wrote has no file digest in its record (a review may change it since), so re-rendering
// it proves only what it still lists (its regions' digest is check_regions_as_written's): with every region taken out, "0 of 0 hidden regions reproduced" passed.
// It must list as many regions, of each class, on as many frames, as the record says the run hid, changed by
// what its review journal says each edit changed (every edit keeps each frame's regions before and after it;
// an undo is an edit back). A file emptied by hand passed when its entry had any "review" at all.
// A rendered file (`rendered`: its digest is in the record) is what the render drew, review included: its counts
// are the record's as they are (editing the record's counts passed).
AuditCheck check_region_counts(const std::filesystem::path& path, const pipeline::RegionsEntry& entry, const json& record,
                               bool rendered) {
  AuditCheck c{"regions file counts"};
  const json* review = entry.review.is_null() || rendered ? nullptr : &entry.review;
  const json& recorded = record.value("regions", json());
  if (!recorded.is_object() || !recorded.contains("by_class")) {
    c.skipped = true;
    c.detail = "the record gives no counts";
    return c;
  }
  // What the review changed: per class, and frames gaining or losing all their regions.
  std::map<std::string, std::int64_t> reviewed_change;
  std::int64_t reviewed_frames = 0, review_edits = 0;
  if (review) {
    try {
      for (const json& edit : review->value("edits", json::array())) {
        ++review_edits;
        for (const json& change : edit.value("changes", json::array())) {
          const json& before = change.at("before");
          const json& after = change.at("after");
          for (const json& r : before) --reviewed_change[r.at("class").get<std::string>()];
          for (const json& r : after) ++reviewed_change[r.at("class").get<std::string>()];
          reviewed_frames += (before.empty() && !after.empty()) - (!before.empty() && after.empty());
        }
      }
    } catch (const json::exception& e) {
      c.ok = false;
      c.detail = path.string() + ": its review journal is malformed (" + e.what() + "), so what the review changed cannot be told";
      return c;
    }
  }
  const std::string after_review = review_edits ? " and its review's " + std::to_string(review_edits) + " edit(s) changed" : "";
  std::map<std::string, std::int64_t> listed;
  std::int64_t frames_with = 0;
  for (const auto& [frame, regions] : entry.frames) {
    frames_with += !regions.empty();
    for (const Region& r : regions) ++listed[std::string(to_string(r.cls))];
  }
  c.ok = true;
  // Regions on cover art are in the record's counts but on no frame of the regions file.
  const json& on_pictures = recorded.value("on_attached_pictures", json::object());
  const json& picture_counts = on_pictures.value("by_class", json::object());
  std::set<std::string> names;
  for (const auto& [name, count] : recorded["by_class"].items()) names.insert(name);
  for (const auto& [name, change] : reviewed_change) names.insert(name);  // a class only a review added
  for (const std::string& name : names) {
    const json count = recorded["by_class"].value(name, json(0));
    std::int64_t want = count.is_number_integer() ? count.get<std::int64_t>() : -1;
    if (want >= 0 && picture_counts.contains(name) && picture_counts[name].is_number_integer()) want -= picture_counts[name].get<std::int64_t>();
    if (want >= 0 && reviewed_change.count(name)) want += reviewed_change[name];
    const std::int64_t have = listed.count(name) ? listed[name] : 0;
    if (want != have) {
      c.ok = false;
      c.detail += (c.detail.empty() ? "" : "; ") + name + ": " + std::to_string(have) + " listed, the run" + after_review + " hid " + std::to_string(want);
    }
  }
  std::int64_t recorded_frames = recorded.value("frames_with_regions", std::int64_t{-1});
  if (recorded_frames >= 0) recorded_frames += reviewed_frames - on_pictures.value("pictures", std::int64_t{0});
  if (recorded_frames >= 0 && recorded_frames != frames_with) {
    c.ok = false;
    c.detail += (c.detail.empty() ? "" : "; ") + std::to_string(frames_with) + " frames with regions listed, the run" + after_review +
                " hid on " + std::to_string(recorded_frames);
  }
  if (rendered) {
    c.detail = c.ok ? "the record's counts are those of the regions file rendered"
                    : "the record's counts are not those of the regions file rendered (" + path.string() + "): " + c.detail;
    return c;
  }
  if (c.ok) c.detail = "as many regions of each class, on as many frames, as the run hid" + after_review;
  else c.detail = path.string() + " was changed since the run" + (review ? ", not only by its review's edits" : "") + ": " + c.detail;
  return c;
}

// A regions file the run wrote: its record keeps the digest of the regions as written (pipeline::RegionsDigest),
// and undoing its review's edits (each keeps its frames' regions before it; the newest first) must give them
// back. The counts and the re-render cannot see a region moved by other means: a 14x14 head's box put on
// another head kept every count and lay under fewer blocks than the outside test counts, and audit passed.
AuditCheck check_regions_as_written(const std::filesystem::path& path, const pipeline::RegionsEntry& entry, const json& record) {
  AuditCheck c{"regions as written"};
  const json& regions_file = record["regions_file"];
  const auto digest = regions_file.find("regions_sha256");
  const bool has_digest = digest != regions_file.end() && digest->is_string() && digest->get<std::string>().size() == 64;
  if (!has_digest) {
    // A record of the format that keeps it, without it: the digest was taken out (or mangled).
    const json version = record.value("version", json(1));
    if (digest == regions_file.end() && !(version.is_number() && version.get<double>() >= pipeline::kAuditRecordVersion)) {
      c.skipped = true;
      c.detail = "the record keeps no digest of the regions written (made before roadveil recorded one): only their counts are checked";
    } else {
      c.detail = "the record (format " + version.dump() + ") has no digest of the regions its run wrote in regions_file.regions_sha256: it was taken out or changed";
    }
    return c;
  }
  const std::string recorded = digest->get<std::string>();
  // Read as the file's own regions are (boxes clamped, classes and boxes checked).
  const auto regions_of = [](const json& list) {
    Regions out;
    for (const json& r : list.get_ref<const json::array_t&>())
      out.push_back(pipeline::region_from_json(r, [](const std::string& what) { return Error("a region of its journal: " + what); }));
    return out;
  };
  std::map<std::int64_t, Regions> frames = entry.frames;
  std::int64_t undone = 0;
  try {
    // No review, or a review with no edits; anything else that is not a list of edits is a malformed journal.
    const json edits = entry.review.is_null()     ? json::array()
                       : entry.review.is_object() ? entry.review.value("edits", json::array())
                                                  : entry.review.at("edits");  // throws: not an object
    const json::array_t& journal = edits.get_ref<const json::array_t&>();
    for (auto edit = journal.rbegin(); edit != journal.rend(); ++edit) {
      if (!edit->contains("changes")) continue;  // marks of frames reviewed change no region
      ++undone;
      for (const json& change : edit->at("changes").get_ref<const json::array_t&>()) {
        const std::int64_t f = change.at("frame").get<std::int64_t>();
        // A frame changed by other means after this edit: undoing the edit would put its "before" over that
        // change and hide it.
        const auto now = frames.find(f);
        if (pipeline::RegionsDigest::text(f, now == frames.end() ? Regions{} : now->second) !=
            pipeline::RegionsDigest::text(f, regions_of(change.at("after")))) {
          c.detail = path.string() + " was changed since the run, not only by its review's edits: frame " + std::to_string(f) +
                     " does not list what review edit " + edit->value("id", json("?")).dump() + " left there";
          return c;
        }
        frames[f] = regions_of(change.at("before"));
      }
    }
  } catch (const std::exception& e) {  // json::exception, or a region region_from_json refuses
    c.detail = path.string() + ": its review journal is malformed (" + e.what() + "), so the regions as written cannot be told";
    return c;
  }
  const std::string listed = pipeline::regions_digest(frames);
  c.ok = listed == recorded;
  const std::string with_review = undone ? ", its review's " + std::to_string(undone) + " edit(s) undone," : "";
  c.detail = c.ok ? "the regions listed" + with_review + " are those the run wrote (SHA-256 " + recorded.substr(0, 16) + "...)"
                  : path.string() + " was changed since the run" + (undone ? ", not only by its review's edits" : "") +
                        ": the regions it lists" + with_review + " are not those the run wrote (SHA-256 " +
                        listed.substr(0, 16) + "..., the record says " + recorded.substr(0, 16) + "...)";
  return c;
}

// A render's record says what review the regions file had: the summary of the rendered file's journal, again.
AuditCheck check_review_summary(const pipeline::RegionsEntry& entry, const json& record) {
  AuditCheck c{"review"};
  const json want = entry.review.is_null() ? json() : pipeline::review_summary(entry.review);
  const json have = record.value("review", json());
  // The fields every version of the summary has (later ones added the regions added and removed and count
  // the frames changed otherwise): a record of an earlier version is not "edited".
  const auto stable = [](const json& summary) -> json {
    if (!summary.is_object()) return summary;
    json kept = json::object();
    for (const char* key : {"frames_reviewed", "edits", "undone"})
      if (summary.contains(key)) kept[key] = summary[key];
    json people = json::array();
    for (const json& p : summary.value("reviewers", json::array()))
      if (p.is_object()) people.push_back({{"name", p.value("name", json())}, {"frames_reviewed", p.value("frames_reviewed", json())},
                                           {"edits", p.value("edits", json())}});
    kept["reviewers"] = people;
    return kept;
  };
  c.ok = stable(want) == stable(have);
  c.detail = c.ok ? (want.is_null() ? "none recorded, none in the regions file" : "the record's summary is that of the regions file's journal")
                  : "the record's review summary is not that of the regions file's journal (the record was edited)";
  return c;
}

}  // namespace

bool AuditResult::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const AuditCheck& c) { return c.ok || c.skipped; });
}

json AuditResult::to_json() const {
  json list = json::array();
  for (const auto& c : checks)
    list.push_back({{"check", c.what}, {"result", c.skipped ? "skipped" : c.ok ? "ok" : "failed"}, {"detail", c.detail}});
  return {{"record", record.string()}, {"passed", passed()}, {"checks", list}};
}

namespace {
AuditResult check_record(const std::filesystem::path& record_path, const AuditOptions& options);
}  // namespace

AuditResult check_audit_record(const std::filesystem::path& record_path, const AuditOptions& options) {
  // A value of the wrong type anywhere in the record (`"by_class": "x"`) is an unreadable record, named as such
  // (it escaped as an internal error and ended the command).
  try {
    return check_record(record_path, options);
  } catch (const json::exception& e) {
    throw Error(record_path.string() + ": a value has the wrong type (" + e.what() + ")");
  }
}

namespace {
AuditResult check_record(const std::filesystem::path& record_path, const AuditOptions& options) {
  std::ifstream in(record_path);
  if (!in) throw Error(record_path.string() + ": cannot open the audit record");
  json record;
  try {
    record = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(record_path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!record.is_object() || record.value("format", "") != "roadveil-audit" || !record.contains("output") || !record.contains("input"))
    throw Error(record_path.string() + ": not a roadveil audit record (expected \"format\": \"roadveil-audit\")");
  AuditResult result;
  result.record = record_path;
  // The output a record describes is the file it is named after (OUTPUT.audit.json beside OUTPUT): the file
  // the user names. The recorded path says only where it was written: an archive's copy with its record
  // passed the audit of the file still at the recorded path, whatever the copy held (an unredacted original).
  std::filesystem::path output = locate(record["output"].value("path", ""), record, record_path);
  const std::string record_name = record_path.filename().string();
  constexpr std::string_view kSuffix = ".audit.json";
  std::error_code ec;
  if (record_name.size() > kSuffix.size() && record_name.ends_with(kSuffix)) {
    const auto named = record_path.parent_path() / record_name.substr(0, record_name.size() - kSuffix.size());
    if (std::filesystem::exists(named, ec)) output = named;
  }
  std::filesystem::path input = options.input ? *options.input : locate(record["input"].value("path", ""), record, record_path);
  // The input's name beside the record is the output's own where a tree moved (out/x.jpg for in/x.jpg).
  if (!options.input && std::filesystem::exists(input, ec) && std::filesystem::exists(output, ec) &&
      std::filesystem::equivalent(input, output, ec))
    input = record["input"].value("path", "");
  result.files = {output, input};
  result.checks.push_back(check_file("output", record["output"], output));
  result.checks.push_back(check_file("input", record["input"], input));
  if (!options.input && !std::filesystem::exists(input, ec)) result.checks.back().detail += " (audit --input PATH says where it is now)";
  // An output that is its input byte for byte hides nothing, whatever its record says it hid (a record edited
  // to the input's hash passed, the hidden area unchecked without a regions file).
  if (const json& regions = record.value("regions", json()); regions.is_object() && regions.value("total", 0) > 0 &&
                                                             std::filesystem::exists(output, ec) && std::filesystem::exists(input, ec)) {
    AuditCheck same{"output differs from the input"};
    same.ok = std::filesystem::file_size(output, ec) != std::filesystem::file_size(input, ec) ||
              sha256_file_hex(output) != sha256_file_hex(input);
    same.detail = same.ok ? "yes" : output.string() + " is " + input.string() + " byte for byte, yet the record says " +
                                        std::to_string(regions.value("total", 0)) + " regions were hidden";
    result.checks.push_back(same);
  }

  std::optional<pipeline::RegionsEntry> entry;
  std::string no_entry = "the run wrote no regions file (anonymize --detections makes the hidden area checkable)";
  const json& rf = record.value("regions_file", json());
  if (rf.is_object()) {
    const auto path = locate(rf.value("path", ""), record, record_path);
    result.files.push_back(path);
    if (rf.contains("sha256")) {
      result.checks.push_back(check_file("regions file", rf, path));
    } else {
      AuditCheck c{"regions file"};
      std::error_code ec;
      c.ok = std::filesystem::exists(path, ec);
      c.detail = path.string() + (c.ok ? ": present (written by the run; it may have been reviewed since)" : ": not found");
      result.checks.push_back(c);
    }
    std::error_code ec;
    no_entry = "the regions file " + path.string() + " is not there";
    std::optional<pipeline::RegionsFile> file;
    if (std::filesystem::exists(path, ec)) {
      // A regions file that no longer reads (a box of three numbers) is a failed check of this record, not the
      // end of the command: the other records are still checked and the report written.
      try {
        file = pipeline::RegionsFile::read(path);
      } catch (const Error& e) {
        AuditCheck c{"regions file contents"};
        c.detail = e.what();
        result.checks.push_back(c);
        no_entry = path.string() + " cannot be read";
      }
    }
    if (file) {
      no_entry = path.string() + " has no entry for the input";
      const std::string recorded_input = record["input"].value("sha256", "");
      if (const auto* e = file->find(record["input"].value("path", ""), true)) {
        // The one entry of a file rewritten by a later run is another input's: its regions prove nothing here.
        if (!e->input_sha256.empty() && !recorded_input.empty() && e->input_sha256 != recorded_input)
          no_entry = path.string() + " has no entry for the input: its entry for " + e->info.input.string() +
                     " was made from another file (SHA-256 " + e->input_sha256 + ")";
        else
          entry = *e;
      }
      // The run wrote this file with an entry for the input; without it the hidden area cannot be proven, and a
      // file stripped of the entry passed with that check skipped.
      if (!entry) {
        AuditCheck c{"regions entry"};
        c.detail = no_entry;
        result.checks.push_back(c);
      } else {
        result.checks.push_back(check_region_counts(path, *entry, record, rf.contains("sha256")));
        if (rf.contains("sha256")) result.checks.push_back(check_review_summary(*entry, record));
        else result.checks.push_back(check_regions_as_written(path, *entry, record));
      }
    }
  }

  AuditCheck models{"models"};
  const json recorded_models = record.value("models", json::array());
  if (recorded_models.empty()) {
    models.ok = true;
    models.detail = "no network ran (rendered from a regions file)";
  } else {
    try {
      const auto dir = detect::resolve_models_dir(options.models_dir);
      models.ok = true;
      for (const json& m : recorded_models) {
        const auto path = dir / m.value("file", "");
        std::error_code ec;
        const std::string sha = std::filesystem::exists(path, ec) ? sha256_file_hex(path) : "missing";
        if (sha != m.value("sha256", "")) {
          models.ok = false;
          models.detail += path.string() + (sha == "missing" ? ": not found; " : ": differs from the record; ");
        }
      }
      if (models.ok) models.detail = std::to_string(recorded_models.size()) + " model files in " + dir.string() + " match";
    } catch (const Error& e) {
      models.skipped = true;
      models.detail = std::string("not checked: ") + e.what();
    }
  }
  result.checks.push_back(models);

  if (options.rerender) {
    AuditCheck hidden{"hidden area"};
    if (!entry) {
      hidden.skipped = true;
      hidden.detail = "not checked: " + no_entry;
    } else if (!result.checks[0].ok || !result.checks[1].ok) {
      hidden.detail = "not checked: the input or output is not the recorded file";
    } else {
      redact::ClassStyles styles;
      const json settings = record.value("settings", json::object());
      try {
        styles[static_cast<int>(ObjectClass::Face)] = pipeline::style_from_json(settings.value("face_style", json()));
        styles[static_cast<int>(ObjectClass::Plate)] = pipeline::style_from_json(settings.value("plate_style", json()));
        pipeline::apply_recorded_class_styles(settings.value("class_styles", json::object()), styles);
        // Away from the regions the output differs from the input by the encoder's error only, where that error
        // is below what hiding changes: x264 up to CRF 28 (the most --crf auto uses) and JPEG from the source's
        // tables or a quantiser up to 10. Coarser (--jpeg-quality 15 on a 1080p dashcam photo, CRF 35), the
        // encoder alone changes textured blocks as much as a mosaic does: not looked for there, and said.
        const json crf = settings.value("crf", json("auto")), jpeg = settings.value("jpeg_quality", json("source"));
        const bool photo = media::is_image_path(output);
        const bool fine = photo ? !(jpeg.is_number() && jpeg.get<double>() > kAuditOutsideMaxJpegQuantiser)
                                : !(crf.is_number() && crf.get<double>() > kAuditOutsideMaxCrf);
        hidden = check_hidden_area(input, output, *entry, styles, fine);
        if (!fine)
          hidden.detail += photo ? "; not looked for away from the regions: at --jpeg-quality " + jpeg.dump() + " the encoder changes as much as hiding"
                                 : "; not looked for away from the regions: at CRF " + crf.dump() + " the encoder changes as much as hiding";
      } catch (const Error& e) {
        hidden.detail = e.what();
      } catch (const json::exception& e) {  // "mosaic_blocks": "x" in the record's settings
        hidden.detail = "the record's settings are malformed (" + std::string(e.what()) + ")";
      }
    }
    result.checks.push_back(hidden);
  }
  if (record.contains("verify") && record["verify"].is_object()) {
    const json& v = record["verify"];
    // What verify found is part of the evidence, not a mismatch between the record and the files: shown, and
    // a person decides (the review closes it).
    AuditCheck c{"verify (recorded)"};
    c.ok = true;
    c.detail = v.value("at", std::string()) + ": " + v.value("summary", std::string("verify ran")) +
               (v.contains("found") && v["found"].is_number() && v["found"].get<double>() > 0 ? " (findings to review: roadveil verify --crops shows them)" : "");
    result.checks.push_back(c);
  }
  return result;
}
}  // namespace

}  // namespace roadveil::review
