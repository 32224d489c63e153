#pragma once
// Ground truth for a video: per-frame boxes with object ids, and what a run's hidden regions did with them
// over time. Reads the formats annotation tools export for video: CVAT for video 1.1 (XML: one <track> per
// object, a <box frame=...> per frame, outside="1" where it is not in view) and MOT Challenge text (one
// line per object and frame: frame (from 1), id, left, top, width, height, confidence, class, visibility).
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/region.hpp"
#include "eval/coverage.hpp"

namespace roadveil::eval {

struct VideoTruthBox {
  std::int64_t frame = 0;  // from 0, in presentation order
  int object = 0;          // the same object keeps its id in every frame it is visible in
  ObjectClass cls = ObjectClass::Face;
  Box box;
};

struct VideoTruth {
  std::vector<VideoTruthBox> boxes;  // visible objects only
  int width = 0, height = 0;         // frame size when the file says it (CVAT), else 0
  int unknown_labels = 0;            // boxes of classes that are neither face nor plate (ignored)
  int frame_step = 1;                // every n-th frame annotated (CVAT's frame_filter "step=n")
};

// MOT files have numeric classes: `mot_classes` maps them (default 1 = face, 2 = plate). Throws Error naming
// the file and the line for anything malformed.
VideoTruth read_video_truth(const std::filesystem::path& path, const std::map<int, ObjectClass>& mot_classes = {
                                                                    {1, ObjectClass::Face}, {2, ObjectClass::Plate}});
// Whether a file looks like video ground truth (CVAT for video XML, MOT text) rather than per-image annotations.
bool is_video_truth_file(const std::filesystem::path& path);

struct VideoClassReport {
  std::int64_t object_frames = 0, hidden_frames = 0;  // (object, frame) pairs visible / hidden
  int objects = 0, never_exposed = 0;                // objects, and those hidden in every frame they are visible in
  int longest_exposure = 0;                          // consecutive frames an object was visible and not hidden
  int longest_object = -1;
  std::int64_t longest_from = -1;                    // the first frame of that run
  double recall() const { return object_frames ? static_cast<double>(hidden_frames) / object_frames : 0; }
  double never_exposed_share() const { return objects ? static_cast<double>(never_exposed) / objects : 0; }
};

struct VideoReport {
  struct Object {
    ObjectClass cls = ObjectClass::Face;
    int id = 0;
    int frames = 0, hidden = 0;  // frames it is visible in, and hidden in
  };
  std::int64_t frames = 0;
  // Truth boxes on frames the video does not have (a truth of another clip, or MOT's frames counted from 0)
  // are not counted; an object with no frame in the video is no object of it.
  std::int64_t boxes_past_end = 0, first_frame_past_end = -1;
  // Truth boxes wholly outside the picture (the truth of a scaled or turned copy): not counted.
  std::int64_t boxes_outside = 0;
  std::vector<Object> objects;               // in the truth's order (eval --compare pairs them by class and id)
  std::vector<double> hidden_area_per_frame;  // share of each frame hidden
  std::array<VideoClassReport, kMaxObjectClasses> classes;
  double hidden_area_share = 0;  // mean over frames
  // Per frame (index < frames): objects of any class visible and not hidden, which a review queue should
  // lead a person to (bench/zoom_clips measures how well `roadveil review-queue` does).
  std::vector<int> exposed_per_frame;
};

// `regions`: frame index -> hidden regions (a detections file's entry); frames missing hide nothing.
VideoReport evaluate_video(const VideoTruth& truth, const std::map<std::int64_t, Regions>& regions,
                           std::int64_t frame_count, int width, int height, const EvalConfig& config);
std::string format_video_table(const VideoReport& report, const std::string& title);
nlohmann::json to_json(const VideoReport& report);

}  // namespace roadveil::eval
