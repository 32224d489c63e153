#include "eval/video_truth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "dataset/cvat.hpp"
#include "dataset/xml.hpp"

namespace roadveil::eval {

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(path.string() + ": no such file");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) throw Error(path.string() + ": cannot read");
  return ss.str();
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool same_object(const VideoTruthBox& a, const VideoTruthBox& b) { return a.object == b.object && a.cls == b.cls; }

bool looks_like_xml(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return start != std::string_view::npos && text[start] == '<';
}

double number(std::string_view s, const std::string& where) {
  double v = 0;
  const auto first = s.find_first_not_of(" \t");
  const auto last = s.find_last_not_of(" \t\r");
  if (first == std::string_view::npos) throw Error(where + ": empty number");
  s = s.substr(first, last - first + 1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    throw Error(where + ": not a number: \"" + std::string(s) + "\"");
  // No frame, id or coordinate of a real annotation comes near this, and every value then fits an int.
  if (std::abs(v) > 1e9) throw Error(where + ": out of range: \"" + std::string(s) + "\"");
  return v;
}

// Frames, ids and classes: whole numbers.
int whole_number(std::string_view s, const std::string& where) {
  const double v = number(s, where);
  if (v != std::floor(v)) throw Error(where + ": not a whole number: \"" + std::string(s) + "\"");
  return static_cast<int>(v);
}

VideoTruth read_cvat(const std::filesystem::path& path, std::string_view text) {
  dataset::xml::Element root;
  try {
    root = dataset::xml::parse(text);
  } catch (const dataset::xml::ParseError& e) {
    throw Error(path.string() + ":" + std::to_string(e.line) + ": " + e.message);
  }
  if (root.name != "annotations") throw Error(path.string() + ": not CVAT for video XML (the root is <" + root.name + ">)");
  VideoTruth truth;
  if (const auto* meta = root.child("meta")) {
    for (const auto* holder : {meta->child("task"), meta->child("job"), meta})
      if (holder)
        if (const auto* size = holder->child("original_size")) {
          truth.width = whole_number(size->child_text("width"), path.string() + ": original_size width");
          truth.height = whole_number(size->child_text("height"), path.string() + ": original_size height");
          break;
        }
    // A task made with a frame step ("step=5") annotates every fifth frame of the video, numbered as in the
    // video: two annotated frames in a row are `step` apart (the longest exposure was capped at one frame).
    for (const auto* holder : {meta->child("task"), meta->child("job"), meta})
      if (holder)
        if (const std::string_view filter = holder->child_text("frame_filter"); filter.starts_with("step=")) {
          truth.frame_step = std::max(1, whole_number(filter.substr(5), path.string() + ": frame_filter step"));
          break;
        }
  }
  bool any_track = false;
  for (const auto& track : root.children) {
    if (track.name != "track") continue;
    any_track = true;
    const std::string where = path.string() + ":" + std::to_string(track.line);
    const int id = whole_number(track.attribute("id"), where + ": track id");
    const auto cls = class_for_label(track.attribute("label"));
    for (const auto& box : track.children) {
      // Every shape a track can be drawn with, as the box around it (a face track drawn as an ellipse or a
      // polygon was no ground truth at all, without a word); attributes and other children are not shapes.
      if (box.attribute("frame").empty()) continue;
      if (!cls) {
        ++truth.unknown_labels;
        continue;
      }
      if (box.attribute("outside") == "1") continue;
      const std::string bw = path.string() + ":" + std::to_string(box.line);
      if (box.name == "box")  // its coordinates checked one by one, for a message naming the one
        for (const char* key : {"xtl", "ytl", "xbr", "ybr"}) number(box.attribute(key), bw + ": " + key);
      const std::optional<Box> bounds = dataset::cvat_shape_bounds(box);
      if (!bounds) throw Error(bw + ": <" + box.name + "> has no coordinates roadveil can read");
      const Box b = *bounds;
      const int frame = whole_number(box.attribute("frame"), bw + ": frame");
      if (frame < 0 || b.empty()) throw Error(bw + ": a box needs frame >= 0 and xtl < xbr, ytl < ybr");
      truth.boxes.push_back({static_cast<std::int64_t>(frame), id, *cls, b});
    }
  }
  if (!any_track) throw Error(path.string() + ": no <track> elements (CVAT for video 1.1 expected; images are read by `eval` without a video)");
  return truth;
}

VideoTruth read_mot(const std::filesystem::path& path, std::string_view text, const std::map<int, ObjectClass>& classes) {
  VideoTruth truth;
  std::size_t line_no = 0, pos = 0, ignored = 0;
  if (text.starts_with(kUtf8Bom)) pos = kUtf8Bom.size();  // an editor's byte-order mark: "frame: not a number" before
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos || line.front() == '#') continue;
    std::vector<std::string_view> cols;
    for (size_t s = 0;;) {
      const size_t c = line.find(',', s);
      cols.push_back(line.substr(s, c == std::string_view::npos ? std::string_view::npos : c - s));
      if (c == std::string_view::npos) break;
      s = c + 1;
    }
    const std::string where = path.string() + ":" + std::to_string(line_no);
    if (cols.size() < 6) throw Error(where + ": expected frame,id,left,top,width,height[,conf,class,visibility]");
    const int frame = whole_number(cols[0], where + ": frame"), id = whole_number(cols[1], where + ": id");
    const double x = number(cols[2], where + ": left"), y = number(cols[3], where + ": top");
    const double w = number(cols[4], where + ": width"), h = number(cols[5], where + ": height");
    if (frame < 1) throw Error(where + ": MOT frames count from 1");
    if (w <= 0 || h <= 0) throw Error(where + ": width and height must be positive");
    // MOT ground truth marks boxes to ignore with confidence 0, and a wholly occluded object with visibility
    // 0: nothing of it is in view to hide (counted exposed, it made recall 0.5 for an object hidden whenever seen).
    if ((cols.size() > 6 && number(cols[6], where + ": confidence") == 0) ||
        (cols.size() > 8 && number(cols[8], where + ": visibility") == 0)) {  // visibility -1: not known
      ++ignored;
      continue;
    }
    ObjectClass cls = ObjectClass::Face;
    if (cols.size() > 7) {
      const auto it = classes.find(whole_number(cols[7], where + ": class"));
      if (it == classes.end()) {
        ++truth.unknown_labels;
        continue;
      }
      cls = it->second;
    }
    truth.boxes.push_back({static_cast<std::int64_t>(frame) - 1, id, cls,
                           Box{static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + w), static_cast<float>(y + h)}});
  }
  if (truth.boxes.empty() && truth.unknown_labels == 0)
    throw Error(path.string() + (ignored ? ": every box is marked to be ignored (confidence 0) or not in view (visibility 0): nothing to measure"
                                         : ": no boxes (MOT text expected)"));
  return truth;
}

}  // namespace

namespace {
// A CVAT export unzipped: its folder holds annotations.xml.
std::filesystem::path truth_file_in(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) && std::filesystem::is_regular_file(path / "annotations.xml", ec))
    return path / "annotations.xml";
  return path;
}
}  // namespace

bool is_video_truth_file(const std::filesystem::path& given) {
  std::error_code ec;
  const std::filesystem::path path = truth_file_in(given);
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (looks_like_xml(head)) {
    if (head.find("<annotations") == std::string::npos) return false;
    // The first track may come after a long <meta> (a task with many labels): the whole file is looked at.
    if (head.find("<track") != std::string::npos) return true;
    // Neither a <track> nor an <image> anywhere: a CVAT task with nothing annotated, which the video reader
    // names as such (the images reader said "holds no <image>: not a CVAT for images export" to a video's truth).
    bool image = head.find("<image") != std::string::npos;
    std::string rest = head.substr(head.size() >= 6 ? head.size() - 6 : 0);
    std::string chunk(1 << 16, '\0');
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
      rest.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
      if (rest.find("<track") != std::string::npos) return true;
      image = image || rest.find("<image") != std::string::npos;
      rest.erase(0, rest.size() >= 6 ? rest.size() - 6 : 0);
    }
    return !image;
  }
  // MOT: lines of at least six comma-separated numbers; the first lines are looked at, so that a typo
  // in the first line is reported by the MOT reader with its line (it was "cannot tell the annotation format",
  // naming formats without MOT), while a CSV header over lines of names (Open Images) is not MOT.
  auto numeric = [](const std::string& line) {
    return std::count(line.begin(), line.end(), ',') >= 5 && line.find_first_not_of("0123456789.,-+eE \t\r") == std::string::npos;
  };
  if (head.starts_with(kUtf8Bom)) head.erase(0, kUtf8Bom.size());
  std::istringstream lines(head);
  std::vector<std::string> first;
  for (std::string line; first.size() < 3 && std::getline(lines, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) first.push_back(line);
  if (first.empty()) return false;
  if (numeric(first[0])) return true;
  // A malformed first line of MOT: the same number of fields as the numeric lines after it.
  auto fields = [](const std::string& line) { return std::count(line.begin(), line.end(), ','); };
  return first.size() >= 2 && numeric(first[1]) && (first.size() < 3 || numeric(first[2])) && fields(first[0]) == fields(first[1]);
}

VideoTruth read_video_truth(const std::filesystem::path& given, const std::map<int, ObjectClass>& mot_classes) {
  const std::filesystem::path path = truth_file_in(given);
  const std::string text = read_file(path);
  VideoTruth truth = looks_like_xml(text) ? read_cvat(path, text) : read_mot(path, text, mot_classes);
  // An object is its class and id: MOT numbers ids per class in some exports (id 1 a face and id 1 a plate
  // were one "face" object, the plate's frames counted as the face's).
  std::sort(truth.boxes.begin(), truth.boxes.end(), [](const VideoTruthBox& a, const VideoTruthBox& b) {
    if (a.cls != b.cls) return a.cls < b.cls;
    return a.object != b.object ? a.object < b.object : a.frame < b.frame;
  });
  // One box per object and frame: a second was counted as another object-frame (a CVAT track with two boxes
  // on one frame measured 0.5 where its object was hidden).
  for (size_t i = 1; i < truth.boxes.size(); ++i)
    if (same_object(truth.boxes[i], truth.boxes[i - 1]) && truth.boxes[i].frame == truth.boxes[i - 1].frame)
      throw Error(fmt::format("{}: object {} has two boxes on frame {} (counted from {})", path.string(), truth.boxes[i].object,
                              truth.boxes[i].frame + (looks_like_xml(text) ? 0 : 1), looks_like_xml(text) ? 0 : 1));
  return truth;
}

VideoReport evaluate_video(const VideoTruth& truth, const std::map<std::int64_t, Regions>& regions,
                           std::int64_t frame_count, int width, int height, const EvalConfig& config) {
  VideoReport report;
  report.frames = frame_count;
  report.exposed_per_frame.assign(static_cast<std::size_t>(std::max<std::int64_t>(0, frame_count)), 0);
  static const Regions kNone;
  auto regions_at = [&](std::int64_t f) -> const Regions& {
    const auto it = regions.find(f);
    return it == regions.end() ? kNone : it->second;
  };
  // Boxes are sorted by object, then frame: each object's frames in one run.
  std::vector<DrawnRegion> of_class;
  for (const VideoTruthBox& t : truth.boxes)
    if (t.frame >= frame_count) {
      ++report.boxes_past_end;
      if (report.first_frame_past_end < 0 || t.frame < report.first_frame_past_end) report.first_frame_past_end = t.frame;
    }
  for (size_t i = 0; i < truth.boxes.size();) {
    const VideoTruthBox& first = truth.boxes[i];
    // An object whose every box is past the video's end (reported "never exposed" before).
    bool in_video = false;
    for (size_t k = i; k < truth.boxes.size() && same_object(truth.boxes[k], first); ++k) in_video |= truth.boxes[k].frame < frame_count;
    if (!in_video) {
      while (i < truth.boxes.size() && same_object(truth.boxes[i], first)) ++i;
      continue;
    }
    VideoClassReport& cr = report.classes[static_cast<int>(first.cls)];
    VideoReport::Object& object = report.objects.emplace_back(VideoReport::Object{first.cls, first.object, 0, 0});
    bool exposed = false;
    int run = 0;
    std::int64_t previous = -2, run_from = -1;
    const int step = std::max(1, truth.frame_step);
    for (; i < truth.boxes.size() && same_object(truth.boxes[i], first); ++i) {
      const VideoTruthBox& t = truth.boxes[i];
      if (t.frame >= frame_count) continue;  // the annotation runs past the video
      // Only what is in the picture can be hidden: a box reaching past the frame's edge (MOT boxes often
      // start left of it) was measured against regions that stop at the edge, and could never count hidden.
      Box box = t.box;
      if (width > 0 && height > 0) {
        box = intersection(box, Box{0, 0, static_cast<float>(width), static_cast<float>(height)});
        if (box.empty()) {
          ++report.boxes_outside;
          continue;
        }
      }
      of_class.clear();
      for (const Region& r : regions_at(t.frame))
        if (r.cls == t.cls) of_class.push_back(drawn(r, config));
      const bool hidden = covered_fraction(box, of_class) >= config.hidden_fraction;
      ++cr.object_frames;
      cr.hidden_frames += hidden;
      ++object.frames;
      object.hidden += hidden;
      if (hidden) {
        run = 0;
      } else {
        exposed = true;
        if (t.frame >= 0 && t.frame < frame_count) ++report.exposed_per_frame[static_cast<std::size_t>(t.frame)];
        // An exposure run continues over consecutive annotated frames only (an object out of view ends
        // it), and counts the video's frames (every `step`-th one annotated).
        if (run == 0 || t.frame != previous + step) {
          run = 0;
          run_from = t.frame;
        }
        // The last annotated frame stands for `step` frames, not past the clip's end (a 16-frame clip annotated
        // every 5th frame had an exposure of 20).
        run = static_cast<int>(std::min(t.frame + step, frame_count) - run_from);
        if (run > cr.longest_exposure) {
          cr.longest_exposure = run;
          cr.longest_object = first.object;
          cr.longest_from = run_from;
        }
      }
      previous = t.frame;
    }
    // An object none of whose boxes is in the picture was never measured: not an object, nor "never exposed".
    if (object.frames == 0) {
      report.objects.pop_back();
      continue;
    }
    ++cr.objects;
    cr.never_exposed += !exposed;
  }
  if (frame_count > 0 && width > 0 && height > 0) {
    double sum = 0;
    report.hidden_area_per_frame.assign(static_cast<std::size_t>(frame_count), 0.0);
    for (const auto& [f, r] : regions)
      if (f >= 0 && f < frame_count) {
        const double share = hidden_area_share(r, width, height, config);
        report.hidden_area_per_frame[static_cast<std::size_t>(f)] = share;
        sum += share;
      }
    report.hidden_area_share = sum / static_cast<double>(frame_count);
  }
  return report;
}

std::string format_video_table(const VideoReport& r, const std::string& title) {
  std::string out = fmt::format("{}: {} frames, {:.1f}% of the frame hidden\n", title, r.frames, r.hidden_area_share * 100);
  out += fmt::format("{:<6} {:>8} {:>14} {:>10} {:>21}  {}\n", "class", "objects", "object-frames", "recall",
                     "never exposed", "longest exposure");
  for (int c = 0; c < object_class_count(); ++c) {
    const VideoClassReport& cr = r.classes[c];
    if (cr.objects == 0) continue;
    out += fmt::format("{:<6} {:>8} {:>14} {:>10.3f} {:>9} = {:>9.3f}  {}\n", to_string(static_cast<ObjectClass>(c)),
                       cr.objects, cr.object_frames, cr.recall(), cr.never_exposed, cr.never_exposed_share(),
                       cr.longest_exposure == 0 ? std::string("0 frames")
                                                : fmt::format("{} frames (object {} from frame {})", cr.longest_exposure,
                                                              cr.longest_object, cr.longest_from));
  }
  return out;
}

nlohmann::json to_json(const VideoReport& r) {
  nlohmann::json j = {{"frames", r.frames}, {"hidden_area_share", r.hidden_area_share}};
  nlohmann::json classes = nlohmann::json::object();
  for (int c = 0; c < object_class_count(); ++c) {
    const VideoClassReport& cr = r.classes[c];
    if (!is_builtin(static_cast<ObjectClass>(c)) && cr.objects == 0) continue;
    classes[std::string(to_string(static_cast<ObjectClass>(c)))] = {
        {"objects", cr.objects},
        {"object_frames", cr.object_frames},
        {"hidden_object_frames", cr.hidden_frames},
        {"recall", cr.recall()},
        {"never_exposed", cr.never_exposed},
        {"never_exposed_share", cr.never_exposed_share()},
        {"longest_exposure_frames", cr.longest_exposure},
        {"longest_exposure_object", cr.longest_object},
        {"longest_exposure_from_frame", cr.longest_from}};
  }
  j["classes"] = std::move(classes);
  j["exposed_per_frame"] = r.exposed_per_frame;
  nlohmann::json objects = nlohmann::json::array();
  for (const VideoReport::Object& o : r.objects)
    objects.push_back({{"class", to_string(o.cls)}, {"id", o.id}, {"frames", o.frames}, {"hidden", o.hidden}});
  j["per_object"] = std::move(objects);
  j["hidden_area_per_frame"] = r.hidden_area_per_frame;
  return j;
}

}  // namespace roadveil::eval
