#include "review/edit_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "core/atomic_file.hpp"
#include "core/utc_time.hpp"

namespace roadveil::review {

using nlohmann::json;

namespace {

// A box may be added as any class this session knows: face, plate, and the classes of one's own models that
// the regions file holds.
void check_class(const std::string& cls) {
  if (object_class_from_string(cls)) return;
  std::string known;
  for (const ObjectClass c : object_classes()) known += (known.empty() ? "" : ", ") + std::string(to_string(c));
  throw BadEdit("\"class\" must be one of " + known + ", not '" + cls + "'");
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

bool same_box(const json& a, const json& b) {
  if (!a.is_array() || !b.is_array() || a.size() != 4 || b.size() != 4) return false;
  for (int i = 0; i < 4; ++i) {
    if (!a[i].is_number() || !b[i].is_number()) return false;
    if (std::abs(a[i].get<double>() - b[i].get<double>()) > 0.006) return false;
  }
  return true;
}

int track_of(const json& region) {
  const auto t = region.find("track");
  return t != region.end() && t->is_number_integer() && std::in_range<int>(t->get<std::int64_t>()) ? t->get<int>() : -1;
}

std::string class_of(const json& region) { return region.value("class", ""); }

// "forward", "backward", "track" (both sides) or "frame" (this frame only, the default).
std::string checked_scope(const json& edit) {
  const std::string scope = edit.value("scope", "frame");
  if (scope != "frame" && scope != "forward" && scope != "backward" && scope != "track")
    throw BadEdit("scope must be frame, forward, backward or track, not '" + scope + "'");
  return scope;
}

}  // namespace

EditSession::EditSession(const std::filesystem::path& regions_path, const std::filesystem::path& input,
                         std::vector<std::int64_t> frame_timestamps, int width, int height)
    : path_(regions_path), timestamps_(std::move(frame_timestamps)) {
  const auto file = pipeline::RegionsFile::read(regions_path);  // checks the format, names the file
  const pipeline::RegionsEntry* entry = file.find(input, /*only_input=*/true);
  if (!entry)
    throw Error(regions_path.string() + ": has no entry for " + input.string() + " (its entries are for other files)");
  entry_index_ = static_cast<std::size_t>(entry - file.entries().data());
  info_ = entry->info;
  // A file of the same size, frame count and timestamps (a camera's next chunk) was opened under these regions,
  // and the reviewed boxes went to the file the entry names, where no one looked: the run's size and SHA-256 of
  // its input are checked, as render checks them.
  entry->check_bytes(input, "review the file the regions were made from");
  const std::string mismatch = regions_path.string() + " was written for another video than " + input.string() + ": ";
  if ((info_.width && info_.width != width) || (info_.height && info_.height != height))
    throw Error(mismatch + "its frames are " + std::to_string(info_.width) + "x" + std::to_string(info_.height) +
                ", the video's " + std::to_string(width) + "x" + std::to_string(height));
  const auto count = static_cast<std::int64_t>(timestamps_.size());
  if (info_.frame_count > 0 && info_.frame_count != count)
    throw Error(mismatch + "it lists " + std::to_string(info_.frame_count) + " frames, the video has " + std::to_string(count));
  {
    std::ifstream in(regions_path);
    doc_ = json::parse(in);
  }
  const json& e = doc_["entries"][entry_index_];
  for (const json& f : e.value("frames", json::array())) {
    const std::int64_t index = json_integer<std::int64_t>(f["frame"]);
    if (index < 0 || index >= count)
      throw Error(mismatch + "it has regions on frame " + std::to_string(index) + ", the video has " + std::to_string(count) + " frames");
    if (info_.video && f.contains("pts") && f["pts"].is_number_integer() && f["pts"].get<std::int64_t>() != timestamps_[index])
      throw Error(mismatch + "its frame " + std::to_string(index) + " has timestamp " + std::to_string(f["pts"].get<std::int64_t>()) +
                  ", the video's " + std::to_string(timestamps_[index]));
    const json regions = f.value("regions", json::array());
    if (regions.empty()) continue;
    json& list = frames_[index];
    if (list.is_null()) list = json::array();
    for (const json& r : regions) list.push_back(r);
  }
  if (e.contains("review") && e["review"].is_object()) {
    try {  // the review journal is not checked by RegionsFile::read
      for (const json& mark : e["review"].value("reviewed", json::array()))
        if (mark.contains("frame")) reviewed_[json_integer<std::int64_t>(mark["frame"])] = {{"by", mark.value("by", "")}, {"at", mark.value("at", "")}};
    } catch (const json::exception& x) {
      throw Error(regions_path.string() + ": its review's \"reviewed\" list is malformed (" + x.what() + ")");
    }
    edits_ = e["review"].value("edits", json::array());
  }
  std::error_code ec;
  saved_time_ = std::filesystem::last_write_time(path_, ec);
}

const json& EditSession::regions_at(std::int64_t frame) const {
  static const json empty = json::array();
  const auto it = frames_.find(frame);
  return it == frames_.end() ? empty : it->second;
}

json EditSession::frame(std::int64_t index) const {
  if (index < 0 || index >= frame_count())
    throw BadEdit("frame " + std::to_string(index) + " is outside the video (frames 0-" + std::to_string(frame_count() - 1) + ")");
  const auto mark = reviewed_.find(index);
  const double tb = info_.time_base_den > 0 ? static_cast<double>(info_.time_base_num) / info_.time_base_den : 0;
  return {{"frame", index},
          {"time", info_.video ? static_cast<double>(timestamps_[index]) * tb : 0.0},
          {"regions", regions_at(index)},
          {"reviewed", mark == reviewed_.end() ? json() : mark->second},
          {"revision", revision()}};
}

json EditSession::overview() const {
  json with_regions = json::array(), reviewed = json::array();
  for (const auto& [f, _] : frames_) with_regions.push_back(f);
  for (const auto& [f, _] : reviewed_) reviewed.push_back(f);
  return {{"frames_with_regions", with_regions}, {"reviewed", reviewed}, {"revision", revision()}};
}

pipeline::RegionsEntry EditSession::entry() const {
  pipeline::RegionsEntry out;
  out.info = info_;
  out.info.frame_count = frame_count();
  for (const auto& [index, regions] : frames_) {
    Regions& list = out.frames[index];
    for (const json& r : regions) {
      Region region;
      region.cls = object_class_from_string(class_of(r)).value_or(ObjectClass::Face);
      const json& b = r["box"];
      region.box = {b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
      region.score = r.value("score", 1.0f);
      region.source = region_source_from_string(r.value("source", "manual")).value_or(RegionSource::Manual);
      region.track_id = track_of(r);
      list.push_back(region);
    }
  }
  return out;
}

std::int64_t EditSession::checked_frame(const json& edit, const char* key) const {
  if (!edit.contains(key) || !edit[key].is_number_integer()) throw BadEdit(std::string("\"") + key + "\" must be a frame number");
  const std::int64_t f = edit[key].get<std::int64_t>();
  if (f < 0 || f >= frame_count())
    throw BadEdit("frame " + std::to_string(f) + " is outside the video (frames 0-" + std::to_string(frame_count() - 1) + ")");
  return f;
}

json EditSession::checked_box(const json& value) const {
  if (!value.is_array() || value.size() != 4 || !std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number(); }))
    throw BadEdit("\"box\" must be [x1, y1, x2, y2]");
  double x1 = value[0].get<double>(), y1 = value[1].get<double>(), x2 = value[2].get<double>(), y2 = value[3].get<double>();
  if (!std::isfinite(x1) || !std::isfinite(y1) || !std::isfinite(x2) || !std::isfinite(y2)) throw BadEdit("box is not finite");
  if (x2 < x1) std::swap(x1, x2);
  if (y2 < y1) std::swap(y1, y2);
  const double w = info_.width, h = info_.height;
  x1 = std::clamp(x1, 0.0, w), x2 = std::clamp(x2, 0.0, w), y1 = std::clamp(y1, 0.0, h), y2 = std::clamp(y2, 0.0, h);
  if (x2 - x1 < 1 || y2 - y1 < 1) throw BadEdit("box is smaller than a pixel inside the frame");
  return json::array({round2(x1), round2(y1), round2(x2), round2(y2)});
}

std::size_t EditSession::resolve(std::int64_t frame, const json& ref) const {
  if (!ref.is_object() || !ref.contains("box")) throw BadEdit("\"region\" must give the region's \"index\", \"class\" and \"box\"");
  const json& regions = regions_at(frame);
  const std::string cls = ref.value("class", "");
  auto matches = [&](const json& r) { return class_of(r) == cls && same_box(r["box"], ref["box"]); };
  if (ref.contains("index") && ref["index"].is_number_integer()) {
    const auto i = ref["index"].get<std::int64_t>();
    if (i >= 0 && i < static_cast<std::int64_t>(regions.size()) && matches(regions[i])) return static_cast<std::size_t>(i);
  }
  for (std::size_t i = 0; i < regions.size(); ++i)
    if (matches(regions[i])) return i;
  throw EditConflict("frame " + std::to_string(frame) + ": that region was changed or deleted meanwhile (another tab?); the frame is reloaded");
}

int EditSession::next_track() const {
  int top = -1;
  for (const auto& [_, regions] : frames_)
    for (const json& r : regions) top = std::max(top, track_of(r));
  for (const json& edit : edits_)  // tracks of regions since deleted stay taken: an undo may bring them back
    for (const json& c : edit.value("changes", json::array()))
      for (const json& r : c.value("before", json::array())) top = std::max(top, track_of(r));
  return top + 1;
}

std::vector<std::int64_t> EditSession::track_frames(std::int64_t frame, int track, const std::string& cls,
                                                    const std::string& scope) const {
  std::vector<std::int64_t> out;
  if (track < 0 || scope == "frame") return out;
  for (const auto& [f, regions] : frames_) {
    if (f == frame || (scope == "forward" && f < frame) || (scope == "backward" && f > frame)) continue;
    if (std::any_of(regions.begin(), regions.end(), [&](const json& r) { return track_of(r) == track && class_of(r) == cls; }))
      out.push_back(f);
  }
  return out;
}

void EditSession::set_regions(std::int64_t frame, json regions) {
  if (regions.empty())
    frames_.erase(frame);
  else
    frames_[frame] = std::move(regions);
}

json EditSession::apply(const json& edit, const std::string& reviewer, std::chrono::system_clock::time_point now) {
  if (reviewer.empty()) throw BadEdit("give a reviewer name: every change is recorded with who made it");
  if (!edit.is_object() || !edit.contains("op") || !edit["op"].is_string()) throw BadEdit("an edit needs an \"op\"");
  const std::string op = edit["op"].get<std::string>();
  json record = {{"op", op}};
  std::vector<Change> changes;
  auto change = [&](std::int64_t f) -> Change& {
    for (Change& c : changes)
      if (c.frame == f) return c;
    changes.push_back({f, regions_at(f), regions_at(f)});
    return changes.back();
  };

  if (op == "reviewed") {
    const std::int64_t first = checked_frame(edit);
    const std::int64_t last = edit.contains("through") ? checked_frame(edit, "through") : first;
    if (last < first) throw BadEdit("\"through\" is before \"frame\"");
    const bool mark = edit.value("reviewed", true);
    json marks = json::array();
    const json by = {{"by", reviewer}, {"at", utc_time_text(now)}};
    for (std::int64_t f = first; f <= last; ++f) {
      const auto it = reviewed_.find(f);
      const json before = it == reviewed_.end() ? json() : it->second;
      const json after = mark ? by : json();
      if (before != after) marks.push_back({{"frame", f}, {"before", before}, {"after", after}});
    }
    record["frame"] = first;
    if (last != first) record["through"] = last;
    record["reviewed"] = mark;
    record["marks"] = std::move(marks);
    return commit(std::move(record), {}, reviewer, now);
  }

  const std::int64_t frame = checked_frame(edit);
  record["frame"] = frame;
  if (op == "add") {
    const std::string cls = edit.value("class", "");
    check_class(cls);
    const json region = {{"class", cls}, {"box", checked_box(edit.value("box", json()))}, {"score", 1.0},
                         {"source", "manual"}, {"track", next_track()}};
    change(frame).after.push_back(region);
    record["region"] = region;
  } else if (op == "delete" || op == "update") {
    const std::size_t index = resolve(frame, edit.value("region", json()));
    const json old = regions_at(frame)[index];
    const std::string scope = checked_scope(edit);
    record["scope"] = scope;
    if (op == "delete") {
      change(frame).after.erase(index);
      for (std::int64_t f : track_frames(frame, track_of(old), class_of(old), scope)) {
        json& after = change(f).after;
        json kept = json::array();
        for (const json& r : after)
          if (!(track_of(r) == track_of(old) && class_of(r) == class_of(old))) kept.push_back(r);
        after = std::move(kept);
      }
    } else {
      const json box = checked_box(edit.value("box", json()));
      const std::string cls = edit.value("class", class_of(old));
      check_class(cls);
      json updated = old;
      updated["box"] = box;
      updated["class"] = cls;
      updated["source"] = "manual";
      change(frame).after[index] = updated;
      record["box"] = box;
      // The rest of the track moves and grows by the same edges, scaled to each region's size.
      const double ow = old["box"][2].get<double>() - old["box"][0].get<double>();
      const double oh = old["box"][3].get<double>() - old["box"][1].get<double>();
      const double d[4] = {box[0].get<double>() - old["box"][0].get<double>(), box[1].get<double>() - old["box"][1].get<double>(),
                           box[2].get<double>() - old["box"][2].get<double>(), box[3].get<double>() - old["box"][3].get<double>()};
      for (std::int64_t f : track_frames(frame, track_of(old), class_of(old), scope)) {
        for (json& r : change(f).after) {
          if (track_of(r) != track_of(old) || class_of(r) != class_of(old)) continue;
          const json& b = r["box"];
          const double sx = ow > 0 ? (b[2].get<double>() - b[0].get<double>()) / ow : 1;
          const double sy = oh > 0 ? (b[3].get<double>() - b[1].get<double>()) / oh : 1;
          try {
            r["box"] = checked_box(json::array({b[0].get<double>() + d[0] * sx, b[1].get<double>() + d[1] * sy,
                                                b[2].get<double>() + d[2] * sx, b[3].get<double>() + d[3] * sy}));
          } catch (const BadEdit&) {
            continue;  // moved out of the frame there: keep that frame's box
          }
          r["class"] = cls;
          r["source"] = "manual";
        }
      }
    }
  } else if (op == "extend") {
    const std::size_t index = resolve(frame, edit.value("region", json()));
    const std::string direction = edit.value("direction", "");
    if (direction != "forward" && direction != "backward") throw BadEdit("\"direction\" must be forward or backward");
    // From the browser: {"frames": 1e300} was cast to int as it came.
    const auto frames = edit.find("frames");
    if (frames == edit.end() || !frames->is_number_integer() || frames->get<std::int64_t>() < 1 || frames->get<std::int64_t>() > 100000)
      throw BadEdit("\"frames\" must be 1 to 100000");
    const int count = frames->get<int>();
    json source = regions_at(frame)[index];
    if (track_of(source) < 0) {  // give it a track so that the copies and it can be edited together
      source["track"] = next_track();
      change(frame).after[index] = source;
    }
    json copy = source;
    copy["source"] = "manual";
    copy["score"] = 1.0;
    const std::int64_t step = direction == "forward" ? 1 : -1;
    for (std::int64_t i = 1, f = frame + step; i <= count && f >= 0 && f < frame_count(); ++i, f += step) {
      const json& here = regions_at(f);
      if (std::any_of(here.begin(), here.end(), [&](const json& r) { return track_of(r) == track_of(source) && class_of(r) == class_of(source); }))
        continue;  // the track is there already
      change(f).after.push_back(copy);
    }
    record["direction"] = direction;
    record["frames"] = count;
  } else {
    throw BadEdit("unknown op '" + op + "' (add, delete, update, extend, reviewed)");
  }
  return commit(std::move(record), std::move(changes), reviewer, now);
}

json EditSession::undo(const std::string& reviewer, std::chrono::system_clock::time_point now) {
  if (reviewer.empty()) throw BadEdit("give a reviewer name: every change is recorded with who made it");
  for (auto it = edits_.rbegin(); it != edits_.rend(); ++it) {
    json& edit = *it;
    if (edit.value("by", "") != reviewer || edit.value("op", "") == "undo" || edit.contains("undone_by")) continue;
    const std::int64_t undone = json_integer(edit, "id", std::int64_t{0});
    std::vector<Change> changes;
    for (const json& c : edit.value("changes", json::array())) {
      const std::int64_t f = json_integer<std::int64_t>(c["frame"]);
      if (regions_at(f) != c["after"])
        throw EditConflict("frame " + std::to_string(f) + " was changed after edit " + std::to_string(undone) +
                           ": undo that change by hand");
      changes.push_back({f, c["after"], c["before"]});
    }
    json marks = json::array();
    for (const json& m : edit.value("marks", json::array())) {
      const std::int64_t f = json_integer<std::int64_t>(m["frame"]);
      const auto r = reviewed_.find(f);
      const json now_mark = r == reviewed_.end() ? json() : r->second;
      if (now_mark != m["after"])
        throw EditConflict("frame " + std::to_string(f) + " was marked again after edit " + std::to_string(undone));
      marks.push_back({{"frame", f}, {"before", m["after"]}, {"after", m["before"]}});
    }
    json record = {{"op", "undo"}, {"undoes", undone}, {"frame", json_integer(edit, "frame", std::int64_t{0})}, {"marks", marks}};
    if (marks.empty()) record.erase("marks");
    // By position, not by reference: commit appends to edits_, which may move every element (a failed save
    // then erased through a dangling reference and left the mark on the edit: undone, yet still applied).
    const std::size_t position = static_cast<std::size_t>(edits_.rend() - it) - 1;
    edit["undone_by"] = revision() + 1;
    try {
      return commit(std::move(record), std::move(changes), reviewer, now);
    } catch (...) {
      edits_[position].erase("undone_by");
      throw;
    }
  }
  throw BadEdit("nothing of " + reviewer + "'s to undo");
}

json EditSession::commit(json record, std::vector<Change> changes, const std::string& reviewer,
                         std::chrono::system_clock::time_point now) {
  std::error_code ec;
  if (std::filesystem::last_write_time(path_, ec) != saved_time_)
    throw Error(path_.string() + " was changed by another program since the review began: restart the review to load it");
  record["id"] = revision() + 1;
  record["by"] = reviewer;
  record["at"] = utc_time_text(now);
  json changed = json::array();
  json list = json::array();
  for (Change& c : changes) {
    if (c.before == c.after) continue;
    list.push_back({{"frame", c.frame}, {"before", c.before}, {"after", c.after}});
    changed.push_back(c.frame);
  }
  if (!list.empty()) record["changes"] = list;
  // Keep the state to restore if saving fails: the file and the memory never disagree.
  std::vector<Change> undo_state;
  for (const Change& c : changes) undo_state.push_back({c.frame, c.before, c.after});
  const auto reviewed_before = reviewed_;
  for (Change& c : changes) set_regions(c.frame, std::move(c.after));
  for (const json& m : record.value("marks", json::array())) {
    const std::int64_t f = m["frame"].get<std::int64_t>();
    if (m["after"].is_null())
      reviewed_.erase(f);
    else
      reviewed_[f] = m["after"];
    changed.push_back(f);
  }
  edits_.push_back(record);
  try {
    save();
  } catch (...) {
    edits_.erase(edits_.end() - 1);
    for (Change& c : undo_state) set_regions(c.frame, std::move(c.before));
    reviewed_ = reviewed_before;
    throw;
  }
  return {{"revision", revision()}, {"frames", changed}, {"id", record["id"]}};
}

void EditSession::save() {
  json& entry = doc_["entries"][entry_index_];
  json frames = json::array();
  const double tb = info_.time_base_den > 0 ? static_cast<double>(info_.time_base_num) / info_.time_base_den : 0;
  for (const auto& [index, regions] : frames_) {
    json f = {{"frame", index}, {"pts", info_.video ? timestamps_[index] : 0}};
    if (info_.video && tb > 0) f["time"] = std::round(1e6 * static_cast<double>(timestamps_[index]) * tb) / 1e6;
    f["regions"] = regions;
    frames.push_back(std::move(f));
  }
  entry["frames"] = std::move(frames);
  json marks = json::array();
  for (const auto& [index, mark] : reviewed_) marks.push_back({{"frame", index}, {"by", mark["by"]}, {"at", mark["at"]}});
  entry["review"] = {{"reviewed", std::move(marks)}, {"edits", edits_}};

  // A regions file reached through a symbolic link (one in a shared folder) is edited where it is: replacing
  // the link with a file of its own left the review out of the file that `render` and the others read.
  std::error_code ec;
  std::filesystem::path where = path_;
  if (std::filesystem::is_symlink(path_, ec))
    if (auto resolved = std::filesystem::canonical(path_, ec); !ec) where = std::move(resolved);
  write_file_atomically(
      where,
      [&](std::ostream& out) {
        json head = doc_;
        head.erase("entries");
        std::string text = head.dump(-1, ' ', false, json::error_handler_t::replace);
        text.pop_back();
        out << text << (head.empty() ? "" : ", ") << "\"entries\": [";
        const json& entries = doc_["entries"];
        for (std::size_t i = 0; i < entries.size(); ++i) {
          out << (i ? ",\n" : "\n");
          pipeline::write_regions_entry(out, entries[i]);
        }
        out << "\n]}\n";
      },
      "regions file");
  saved_time_ = std::filesystem::last_write_time(path_, ec);
}

}  // namespace roadveil::review
