#include "pipeline/regions_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/json_integer.hpp"
#include "core/temporary_file.hpp"
#include "media/output_file.hpp"
#include "pipeline/audit_record.hpp"

namespace roadveil::pipeline {

using nlohmann::json;

namespace {
double round2(float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; }
}  // namespace

void round_to_file_precision(Regions& regions) {
  for (Region& r : regions)
    r.box = {static_cast<float>(round2(r.box.x1)), static_cast<float>(round2(r.box.y1)),
             static_cast<float>(round2(r.box.x2)), static_cast<float>(round2(r.box.y2))};
}

namespace {
// The detections file's folder is made as an output's is (`--detections new/x.json` failed where `-o new/`
// made its folder); a folder that cannot be made fails at the open below, naming the file.
const std::filesystem::path& with_folder(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  return path;
}
}  // namespace

RegionsWriter::RegionsWriter(const std::filesystem::path& path)
    : path_(path), temp_(with_folder(path)) {
  out_.open(temp_.path(), std::ios::trunc);
  if (!out_) throw Error(path.string() + ": cannot write the detections file here");
  out_ << "{\"format\": \"roadveil-regions\", \"version\": 1, \"entries\": [";
}

RegionsWriter::~RegionsWriter() {
  if (!closed_) {
    out_.close();
    temp_.remove();
  }
}

void RegionsWriter::finish_entry() {
  if (entry_unclosed_) out_ << "}";
  entry_unclosed_ = false;
}

std::string RegionsDigest::text(std::int64_t frame, const Regions& regions) {
  // The box in the integer hundredths the file writes (round2): read back as floats, the same integers (exact
  // below ~100,000 px).
  std::string out;
  for (const Region& r : regions) {
    const auto hundredths = [](float v) { return static_cast<long long>(std::llround(static_cast<double>(v) * 100.0)); };
    out += fmt::format("{} {} {} {} {} {} {}\n", frame, to_string(r.cls), to_string(r.source), hundredths(r.box.x1),
                       hundredths(r.box.y1), hundredths(r.box.x2), hundredths(r.box.y2));
  }
  return out;
}

std::string regions_digest(const std::map<std::int64_t, Regions>& frames) {
  RegionsDigest digest;
  for (const auto& [frame, regions] : frames) digest.add(frame, regions);
  return digest.hex();
}

void RegionsWriter::attach_audit(const std::string& record_json) {
  if (entry_unclosed_) out_ << ", \"audit\": " << record_json;
}

void RegionsWriter::begin(const MediaEntryInfo& info) {
  finish_entry();
  json head = {{"input", info.input.string()},
               {"output", info.output.string()},
               {"type", info.video ? "video" : "image"},
               {"width", info.width},
               {"height", info.height}};
  if (info.video) {
    head["time_base"] = {info.time_base_num, info.time_base_den};
    head["frame_rate"] = info.frame_rate;
  }
  time_base_num_ = info.time_base_num;
  time_base_den_ = info.time_base_den;
  digest_.emplace();
  entry_digest_.clear();
  // A file name that is not UTF-8 (Linux allows any bytes) is written with U+FFFD for the bytes JSON cannot
  // hold, instead of failing the run; the entry is still found by its position for a single input.
  std::string text = head.dump(-1, ' ', false, json::error_handler_t::replace);
  text.pop_back();  // reopen the object to append the frames array
  out_ << (any_entry_ ? ",\n" : "\n") << text << ", \"frames\": [";
  any_entry_ = true;
  any_frame_ = false;
  entry_open_ = true;
}

void RegionsWriter::copy_entry(const json& entry) {
  finish_entry();  // between entries only (a job's entry is written whole before the next job is prepared)
  out_ << (any_entry_ ? ",\n" : "\n");
  write_regions_entry(out_, entry);
  any_entry_ = true;
}

void write_regions_entry(std::ostream& out, json entry) {
  json frames = entry.contains("frames") ? entry["frames"] : json::array();
  entry.erase("frames");
  // A review section laid out with its edits one a line; one that is not an object stays with the fields.
  json review = entry.contains("review") && entry["review"].is_object() ? entry["review"] : json();
  if (!review.is_null()) entry.erase("review");
  std::string head = entry.dump(-1, ' ', false, json::error_handler_t::replace);
  head.pop_back();
  out << head << (entry.empty() ? "" : ", ");
  if (!review.is_null()) {
    json edits = review.contains("edits") ? review["edits"] : json::array();
    review.erase("edits");
    std::string r = review.dump();
    r.pop_back();
    out << "\"review\": " << r << (review.empty() ? "" : ", ") << "\"edits\": [";
    for (std::size_t i = 0; i < edits.size(); ++i) out << (i ? ",\n  " : "\n  ") << edits[i].dump();
    out << (edits.empty() ? "" : "\n") << "]}, ";
  }
  out << "\"frames\": [";
  for (std::size_t i = 0; i < frames.size(); ++i) out << (i ? ",\n  " : "\n  ") << frames[i].dump();
  out << (frames.empty() ? "" : "\n") << "]}";
}


void RegionsWriter::frame(std::int64_t index, std::int64_t pts, const Regions& regions) {
  if (regions.empty()) return;
  json f = {{"frame", index}, {"pts", pts}};
  if (time_base_den_ > 0) f["time"] = std::round(1e6 * static_cast<double>(pts) * time_base_num_ / time_base_den_) / 1e6;
  json list = json::array();
  for (const Region& r : regions) {
    json j = {{"class", to_string(r.cls)},
              {"box", {round2(r.box.x1), round2(r.box.y1), round2(r.box.x2), round2(r.box.y2)}},
              {"score", round2(r.score)},
              {"source", to_string(r.source)}};
    if (r.track_id >= 0) j["track"] = r.track_id;
    list.push_back(std::move(j));
  }
  f["regions"] = std::move(list);
  if (digest_) digest_->add(index, regions);
  out_ << (any_frame_ ? ",\n  " : "\n  ") << f.dump();
  any_frame_ = true;
}

void RegionsWriter::end(const std::string& status, std::int64_t frame_count) {
  out_ << (any_frame_ ? "\n" : "") << "], \"frame_count\": " << frame_count << ", \"status\": " << json(status).dump();
  entry_open_ = false;
  entry_unclosed_ = true;
  entry_digest_ = digest_ ? digest_->hex() : std::string();
  digest_.reset();
}

void RegionsWriter::fail(const std::string& error, std::int64_t frames_done) {
  if (entry_open_) end("failed: " + error, frames_done);
}

void RegionsWriter::close() {
  fail("the run stopped before this file was complete", 0);
  finish_entry();
  // A run that began no entry (every input failed before it was opened) leaves the file as it was: an empty
  // list under its name looked like a result, and replaced the reviewed regions file it was given.
  if (!any_entry_) {
    out_.close();
    temp_.remove();
    closed_ = true;
    return;
  }
  out_ << "\n]}\n";
  out_.close();
  if (!out_) throw Error(path_.string() + ": writing the detections file failed");
  if (const std::error_code ec = temp_.move_into_place())
    throw Error(path_.string() + ": cannot move the detections file into place (" + ec.message() + ")");
  closed_ = true;
}

namespace {

// A box coordinate: a finite number, kept within what a float holds exactly enough to clamp to any frame. A
// value like 1e39 overflowed the float (undefined behaviour) and hid nothing; 1e30 hid the whole frame.
float coordinate(const json& v, const std::function<Error(const std::string&)>& fail) {
  if (!v.is_number()) throw fail("a box coordinate is not a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw fail("a box coordinate is not finite");
  constexpr double kLimit = 1e7;  // far outside any frame, still exact in float steps that matter here
  return static_cast<float>(std::clamp(d, -kLimit, kLimit));
}

}  // namespace

Region region_from_json(const json& r, const std::function<Error(const std::string&)>& fail) {
  if (!r.is_object()) throw fail("a region must be an object");
  // face, plate, or a class of one's own model ("screen"), hidden like any other.
  std::optional<ObjectClass> cls;
  try {
    cls = intern_object_class(r.value("class", ""));
  } catch (const Error& e) {
    throw fail(e.what());
  }
  if (!r.contains("box") || !r["box"].is_array() || r["box"].size() != 4) throw fail("\"box\" must be [x1, y1, x2, y2]");
  Region region;
  region.cls = *cls;
  region.box = {coordinate(r["box"][0], fail), coordinate(r["box"][1], fail), coordinate(r["box"][2], fail),
                coordinate(r["box"][3], fail)};
  if (region.box.x2 < region.box.x1 || region.box.y2 < region.box.y1) throw fail("box has x2 < x1 or y2 < y1");
  region.score = r.value("score", 1.0f);
  region.source = region_source_from_string(r.value("source", "manual")).value_or(RegionSource::Manual);
  region.track_id = json_integer(r, "track", -1);
  return region;
}

RegionsFile RegionsFile::read(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a folder, not a regions file");
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open the regions file");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {  // parse errors, and numbers out of range such as 1e400
    throw Error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  auto fail = [&](const std::string& what) { return Error(path.string() + ": " + what); };
  if (!doc.is_object() || !doc.contains("format") || !doc["format"].is_string() || doc["format"] != "roadveil-regions")
    throw fail("not a roadveil regions file (expected \"format\": \"roadveil-regions\")");
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"] != 1)
    throw fail("unsupported version (this roadveil reads version 1)");
  if (!doc.contains("entries") || !doc["entries"].is_array()) throw fail("missing \"entries\" array");
  RegionsFile file;
  int entry_no = 0;
  std::string where;
  try {
    for (const json& e : doc["entries"]) {
      ++entry_no;
      where = "entry " + std::to_string(entry_no);
      if (!e.is_object() || !e.contains("input") || !e["input"].is_string()) throw fail(where + ": missing \"input\" (a file name)");
      RegionsEntry entry;
      entry.info.input = e["input"].get<std::string>();
      entry.info.output = e.value("output", "");
      entry.info.video = e.value("type", "video") == "video";
      entry.info.width = json_integer(e, "width", 0);
      entry.info.height = json_integer(e, "height", 0);
      entry.info.frame_rate = e.value("frame_rate", 0.0);
      entry.info.frame_count = json_integer(e, "frame_count", std::int64_t{0});
      // The unit of the frames' `pts` (the review editor's times come from it). Whole floats ([1.0, 25.0], as
      // some JSON writers print integers) are read as the integers they are; anything else is refused rather
      // than left at 1/1, which showed every frame's time tens of thousands of times too large.
      if (const auto tb = e.find("time_base"); tb != e.end() && !tb->is_null()) {
        const auto bad = [&] { return fail(where + ": \"time_base\" must be [numerator, denominator], two positive whole numbers, not " + tb->dump()); };
        if (!tb->is_array() || tb->size() != 2 || !(*tb)[0].is_number() || !(*tb)[1].is_number()) throw bad();
        try {
          entry.info.time_base_num = json_integer<int>((*tb)[0]);
          entry.info.time_base_den = json_integer<int>((*tb)[1]);
        } catch (const json::exception&) {
          throw bad();
        }
        if (entry.info.time_base_num <= 0 || entry.info.time_base_den <= 0) throw bad();
      }
      const json frames = e.value("frames", json::array());
      if (!frames.is_array()) throw fail(where + ": \"frames\" must be an array");
      for (const json& f : frames) {
        if (!f.is_object() || !f.contains("frame") || !f["frame"].is_number_integer())
          throw fail(where + ": a frame without an integer \"frame\"");
        const std::int64_t index = json_integer<std::int64_t>(f["frame"]);
        if (index < 0) throw fail(where + ": frame " + std::to_string(index) + " is negative");
        where = "entry " + std::to_string(entry_no) + ", frame " + std::to_string(index);
        const json regions = f.value("regions", json::array());
        if (!regions.is_array()) throw fail(where + ": \"regions\" must be an array");
        Regions& list = entry.frames[index];
        if (const auto t = f.find("pts"); t != f.end() && t->is_number_integer()) entry.pts[index] = t->get<std::int64_t>();
        for (const json& r : regions) list.push_back(region_from_json(r, [&](const std::string& what) { return fail(where + ": " + what); }));
        where = "entry " + std::to_string(entry_no);
      }
      if (const auto r = e.find("review"); r != e.end()) entry.review = *r;
      if (const auto a = e.find("audit"); a != e.end() && a->is_object()) {
        const json& audit = *a;
        // The input the run read: render refuses a file of another size.
        if (audit.contains("input") && audit["input"].is_object()) {
          entry.info.input_bytes = json_integer(audit["input"], "size", std::int64_t{-1});
          if (audit["input"].contains("sha256") && audit["input"]["sha256"].is_string())
            entry.input_sha256 = audit["input"]["sha256"].get<std::string>();
        }
        if (audit.contains("output") && audit["output"].is_object() && audit["output"].contains("sha256") &&
            audit["output"]["sha256"].is_string())
          entry.output_sha256 = audit["output"]["sha256"].get<std::string>();
        // How the run that wrote it hid faces and plates (the first entry that says: one run, one setting).
        if (audit.contains("settings") && audit["settings"].is_object())
          for (const char* key : {"face_style", "plate_style"})
            if (audit["settings"].contains(key) && audit["settings"][key].is_object() && !file.builtin_styles_.contains(key)) {
              try {
                (void)style_from_json(audit["settings"][key]);
              } catch (const Error& e) {
                throw fail(where + ": audit settings." + key + ": " + e.what());
              }
              file.builtin_styles_[key] = audit["settings"][key];
            }
        // How the run that wrote it encoded (the first entry that says). A value no run writes (a file of an
        // older version, an edit) is left out: render then encodes with its own defaults, as it did before.
        if (audit.contains("settings") && audit["settings"].is_object() && file.encoding_.empty()) {
          const json& st = audit["settings"];
          const auto one_of = [](const json& v, const std::vector<std::string>& names) {
            return v.is_string() && std::find(names.begin(), names.end(), v.get<std::string>()) != names.end();
          };
          json enc = json::object();
          if (const auto c = st.find("codec"); c != st.end() && one_of(*c, media::kVideoCodecNames)) enc["codec"] = *c;
          if (const auto c = st.find("crf"); c != st.end() && (*c == "auto" || (c->is_number() && *c >= 0 && *c <= 51)))
            enc["crf"] = *c;
          if (const auto c = st.find("preset"); c != st.end() && one_of(*c, media::kX264Presets)) enc["preset"] = *c;
          if (const auto c = st.find("jpeg_quality");
              c != st.end() && (*c == "source" || (c->is_number_integer() && *c >= 1 && *c <= 31)))
            enc["jpeg_quality"] = *c;
          file.encoding_ = std::move(enc);
        }
        // How the run that wrote it hid the classes of its own models (its settings).
        if (audit.contains("settings") && audit["settings"].is_object() && audit["settings"].contains("class_styles") &&
            audit["settings"]["class_styles"].is_object())
          for (const auto& [name, st] : audit["settings"]["class_styles"].items()) {
            try {
              if (is_builtin(intern_object_class(name))) continue;  // faces and plates are styled by the options
            } catch (const Error& e) {
              throw fail(where + ": audit settings.class_styles: " + e.what());
            }
            if (!st.is_object()) throw fail(where + ": audit settings.class_styles." + name + " must be an object");
            try {
              (void)style_from_json(st);  // a value of the wrong type or a weak style fails here, naming the file
            } catch (const Error& e) {
              throw fail(where + ": audit settings.class_styles." + name + ": " + e.what());
            }
            file.class_styles_[name] = st;
          }
      }
      file.entries_.push_back(std::move(entry));
    }
  } catch (const json::exception& e) {  // a value of the wrong type ("width": "wide", "score": [1])
    throw fail(where + ": a value has the wrong type (" + e.what() + ")");
  }
  return file;
}

double RegionsEntry::time_of(std::int64_t index) const {
  if (!info.video) return 0;
  const double fps = info.frame_rate > 0 ? info.frame_rate : 25.0;
  const double tb = info.time_base_den > 0 ? static_cast<double>(info.time_base_num) / info.time_base_den : 0;
  if (tb <= 0 || pts.empty()) return static_cast<double>(index) / fps;
  auto known = pts.upper_bound(index);
  // Before the first frame with a timestamp: counted back from it (the stream may not start at 0).
  if (known == pts.begin()) return static_cast<double>(known->second) * tb - static_cast<double>(known->first - index) / fps;
  --known;  // the last frame at or before `index` with a timestamp
  return static_cast<double>(known->second) * tb + static_cast<double>(index - known->first) / fps;
}

void RegionsEntry::check_size(const std::filesystem::path& file, int width, int height, const std::string& why) const {
  if (info.width == width && info.height == height) return;
  throw Error(fmt::format("{}: is {}x{} but its regions entry ({}) describes {}x{}: {}", file.string(), width, height,
                          info.input.string(), info.width, info.height, why));
}

void RegionsEntry::check_bytes(const std::filesystem::path& file, const std::string& why) const {
  if (info.input_bytes < 0) return;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(file, ec);
  if (ec) return;  // unreadable: the decoder says so
  if (static_cast<std::int64_t>(bytes) != info.input_bytes)
    throw Error(fmt::format("{}: is {} bytes but its regions entry ({}) was made from a file of {} bytes: {}", file.string(),
                            bytes, info.input.string(), info.input_bytes, why));
  // Of one size is not one file: a raw or Y4M video of another scene, a camera's next chunk of the same length
  // and frame count, passed, and its faces went out under the other file's regions. The audit record says
  // which bytes the run read; reading them again costs less than the render that follows.
  if (input_sha256.empty()) return;
  std::string digest;
  try {
    digest = sha256_file_hex(file);
  } catch (const Error&) {
    return;  // unreadable: the decoder says so
  }
  if (digest != input_sha256)
    throw Error(fmt::format("{}: is not the file its regions entry ({}) was made from (the same size, other bytes: SHA-256 "
                            "{} where the run read {}): {}", file.string(), info.input.string(), digest.substr(0, 12),
                            input_sha256.substr(0, 12), why));
}

std::size_t common_tail(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::vector<std::filesystem::path> x(a.begin(), a.end()), y(b.begin(), b.end());
  std::size_t n = 0;
  while (n < x.size() && n < y.size() && x[x.size() - 1 - n] == y[y.size() - 1 - n] && !x[x.size() - 1 - n].empty()) ++n;
  return n;
}

namespace {

std::size_t matching_tail(const RegionsEntry& e, const std::filesystem::path& file, EntryPath by) {
  std::size_t tail = 0;
  if (by != EntryPath::Output && !e.info.input.empty()) tail = common_tail(e.info.input, file);
  if (by != EntryPath::Input && !e.info.output.empty()) tail = std::max(tail, common_tail(e.info.output, file));
  return tail;
}

bool is_known_by(const RegionsEntry& e, const std::filesystem::path& file, EntryPath by) {
  return (by != EntryPath::Output && !e.info.input.empty() && e.info.input == file) ||
         (by != EntryPath::Input && !e.info.output.empty() && e.info.output == file);
}

// An entry of a file that more than one entry matches as far is not guessed: one entry's boxes would be
// rendered into another picture.
const RegionsEntry* unambiguous(const EntryMatch& match, const std::filesystem::path& file, EntryPath by) {
  if (!match.ambiguous()) return match.entry;
  std::string names;
  for (std::size_t i = 0; i < match.tied.size() && i < 3; ++i) {
    const RegionsEntry& e = *match.tied[i];
    names += (i ? ", " : "") + (by == EntryPath::Output ? e.info.output : e.info.input).string();
  }
  if (match.tied.size() > 3) names += fmt::format(" and {} more", match.tied.size() - 3);
  throw Error(fmt::format("{}: the regions file has {} entries of that name ({}); name the file by the path the "
                          "regions file gives, or keep the folder layout of the run that wrote it",
                          file.string(), match.tied.size(), names));
}

}  // namespace

EntryMatch match_entry(const std::vector<RegionsEntry>& entries, const std::filesystem::path& file, EntryPath by) {
  EntryMatch match;
  for (const auto& e : entries)
    if (is_known_by(e, file, by)) {
      match.entry = &e;
      return match;
    }
  std::size_t best_tail = 0;
  for (const auto& e : entries) {
    const std::size_t tail = matching_tail(e, file, by);
    if (tail == 0 || tail < best_tail) continue;
    if (tail > best_tail) match.tied.clear();
    if (match.tied.empty()) match.entry = &e;
    best_tail = tail;
    match.tied.push_back(&e);
  }
  return match;
}

const RegionsEntry* RegionsFile::find(const std::filesystem::path& input, bool only_input) const {
  if (const RegionsEntry* e = unambiguous(match_entry(entries_, input, EntryPath::Input), input, EntryPath::Input)) return e;
  return only_input && entries_.size() == 1 ? &entries_.front() : nullptr;
}

const RegionsEntry* RegionsFile::find_output(const std::filesystem::path& output, bool only_file) const {
  if (const RegionsEntry* e = unambiguous(match_entry(entries_, output, EntryPath::Output), output, EntryPath::Output))
    return e;
  return only_file && entries_.size() == 1 ? &entries_.front() : nullptr;
}

}  // namespace roadveil::pipeline
