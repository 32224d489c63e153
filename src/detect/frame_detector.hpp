#pragma once
// All detection for one frame: which networks run, at which resolution, on which part of the frame.
//
// Faces and plates are small; people and vehicles are large and far easier to find. So besides the face
// and plate networks on the whole frame, a COCO detector (YOLOX-nano) finds people and vehicles, and:
//  - every person tall enough to show an identifiable head gets a head region at the top of its box
//    (faces seen from the side or too small for the face network are still hidden);
//  - optionally, the top of each person and each small vehicle is searched again at twice the resolution
//    for faces and plates, spending full resolution only where they can be.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/region.hpp"
#include "detect/detectors.hpp"
#include "detect/model_manifest.hpp"
#include "detect/model_registry.hpp"
#include "detect/side_lane.hpp"

namespace roadveil::detect {

// Where a head lies in a person box, as fractions of the box (measured on dashcam-berlin-dev: head top at
// the box top, head height 0.15 of the person height, centre within +-0.3 of the box width from its
// middle). The region spans the box width so that heads turned or leaning away from the centre, and
// cyclists' heads over the handlebars, are still inside.
struct HeadGeometry {
  float top = -0.03f;       // region top, relative to the person box top, in person heights
  float height = 0.25f;     // in person heights
  float max_width = 0.5f;   // width is the person width, at most this many person heights
};

struct ContextConfig {
  bool enabled = true;
  int max_side = 1280;
  // Head regions of the person boxes (when the head network runs, its own body boxes give them instead).
  bool persons = true;
  float person_threshold = 0.4f;
  // A person shorter than this share of the frame height has a head under ~1% of it (about 9 px at
  // 1080p): too small to identify, and below the size annotators mark.
  float min_person_height = 0.055f;
  HeadGeometry head;
  // Drivers and passengers, seen through glass as head and shoulders (a person box less than
  // `occupant_max_aspect` times taller than wide, centred in the upper 60% of a vehicle box), score low:
  // they are accepted from `occupant_threshold` and hidden whole (plus 10% above).
  float occupant_threshold = 0.25f;
  float occupant_max_aspect = 1.6f;
  float vehicle_threshold = 0.5f;  // cars, buses and trucks whose occupants are looked for
  // Occupants no detector sees (behind glass, in reflections): the window band of every car, bus and truck
  // whose occupants' heads would be at least `window_min_head_px` tall. A head is about 0.15 of a
  // vehicle's height from any side (1.5 m car, 0.22 m head); the windows span its upper half. Off by
  // default: on dashcam-berlin-dev, from 8 px it hid 6 more of 131 heads but 4% more of the frame
  // (docs/eval.md).
  float window_min_head_px = 0;  // 0: off
  float window_head_share = 0.15f;
  float window_top = 0.05f, window_bottom = 0.5f;  // band, in vehicle heights from the box top
  // Second look at twice the resolution, inside the top of each person (faces) and inside vehicles
  // narrower than `small_vehicle_width` of the frame width (plates).
  bool refine = false;
  // The same looks on photos only. A photo is detected once, while a video sees a far face or plate again,
  // larger, as the camera approaches, so the looks pay most on photos (dashcam-berlin-dev stills: plates
  // 0.956 -> 0.978 and heads 0.847 -> 0.855 for 19% more time; docs/eval.md).
  bool refine_photos = false;
  float refine_vehicle_threshold = 0.3f;
  float small_vehicle_width = 0.13f;
  float refine_face_threshold = 0.5f;
  float refine_plate_threshold = 0.5f;
  // Video keyframes: plates are on vehicles, and the plate network costs more than twice the person/vehicle
  // detector at the same size (93 vs 42 ms at 1280 px); so it runs only on the vehicles that detector found
  // (cars, buses, trucks, motorbikes from `guided_vehicle_threshold`, lower two thirds plus margins,
  // scaled so the vehicle is about `guided_vehicle_px` wide: a distant car's plate is enlarged, a near
  // one's shrunk), and over the whole frame at `guided_whole_scale` of the full resolution only, for the
  // plates of vehicles it missed (cut by the frame edge, a close-up): at half resolution a mid-size plate
  // (32-64 px at 1080p) is still 16 px or more, at a third it is lost (dashcam-berlin-dev: 3 of 64 more
  // missed). Photos keep the full whole-frame pass.
  bool guided_plates = false;
  float guided_vehicle_threshold = 0.25f;
  float guided_vehicle_px = 256.0f;
  float guided_whole_scale = 0.5f;
};

// The head detector (YOLOX-N Body-Head-Hand) boxes every head seen from any side, backs of heads
// included, which the face network (frontal faces) misses; its body boxes add a head region where the head
// class missed a head.
struct HeadConfig {
  bool enabled = true;
  int max_side = 1920;          // small heads need the full resolution (at 1280 px it found 0.60 of them)
  // Low thresholds: on dashcam-berlin-dev most of what they add beyond 0.4/0.5 are real heads the
  // annotation lacks (backs of heads, crowds), and a false head costs a small mosaic, a missed one a face.
  float head_threshold = 0.3f;
  bool body_regions = true;     // a head region at the top of every body box
  float body_threshold = 0.3f;
};

struct DetectorConfig {
  bool faces = true;
  bool plates = true;
  bool face_network = true;  // YuNet: tight frontal face boxes (faces only; heads come from `heads`)
  HeadConfig heads;
  float face_threshold = 0.5f;
  float plate_threshold = 0.35f;
  int face_max_side = 1920;   // detector input's longer side for the whole frame (pixels)
  int plate_max_side = 1920;
  ContextConfig context;
  std::optional<std::filesystem::path> models_dir;  // else ROADVEIL_MODELS
  // Detectors described by manifests (--model): run beside the built-in networks, or instead of those that
  // find the same class when the manifest says `replaces_builtin`.
  std::vector<ModelManifest> custom_models;
  int threads = 0;                                  // ONNX Runtime intra-op threads, 0: one per core
  // The detector has a second thread on which video keyframes and glances can run the face and head
  // networks beside the others (FrameDetector::set_networks_side_by_side).
  bool networks_side_by_side = false;
};

// Named trade-offs between hiding more and running faster (--quality). Each sets resolutions and which
// context passes run; thresholds stay as they are.
//   fast: faces and plates at 1280 px, no context; balanced: 1920 px, head regions, vehicle-guided plates on
//   video keyframes, the 2x refine looks on photos; max: balanced with the full plate pass on every keyframe
//   and the 2x refine looks on video too.
enum class Quality { Fast, Balanced, Max };  // indexes apply_quality's preset table
std::optional<Quality> quality_from_string(std::string_view name);
// The built-in networks a configuration runs (what FrameDetector loads), for the audit record.
std::vector<ModelId> models_in_use(const DetectorConfig& config);
// Reads a manifest and checks its model file's checksum (once per process). Throws Error naming the file.
ModelManifest load_manifest(const std::filesystem::path& path);
void apply_quality(Quality q, DetectorConfig& config);

// What a search around known objects looks for: the network that found each kind of object.
struct SearchTargets {
  bool faces = false;    // the face network (tight face boxes)
  bool heads = false;    // the head network's head boxes
  bool plates = false;   // the plate network
  bool persons = false;  // the person detector (head regions of people, occupants)
  std::uint32_t own_classes = 0;  // the networks of one's own classes (bit k: ObjectClass k, never face or plate)
  // The networks' thresholds are multiplied by this; what scores between the two is returned marked `weak`.
  float score_factor = 1.0f;
  bool any() const { return faces || heads || plates || persons || own_classes; }
  bool wants_own(ObjectClass c) const { return (own_classes >> static_cast<int>(c)) & 1u; }
  // What a window merged from two looks for (every field: a forgotten one silently stops a search).
  SearchTargets operator|(const SearchTargets& o) const {
    return {.faces = faces || o.faces, .heads = heads || o.heads, .plates = plates || o.plates, .persons = persons || o.persons,
            .own_classes = own_classes | o.own_classes, .score_factor = std::min(score_factor, o.score_factor)};
  }
};

// How a whole frame is searched: a photo (enlarged when small, every network on the whole frame) or the
// keyframe of a video (never enlarged; plates guided by vehicles when the configuration allows).
struct WholeFramePass {
  float max_upscale = 2.0f;  // how much a frame smaller than the configured resolution is enlarged (1: never)
  bool video = false;
  // Boxes of the face, head and plate networks (and one's own) from this share of their thresholds come
  // back marked `weak` (the video schedule keeps those that continue an object it followed; 1: none).
  float score_factor = 1.0f;
  static WholeFramePass photo() { return {2.0f, false}; }
  static WholeFramePass video_keyframe() { return {1.0f, true}; }
};

// A cheap look at a whole frame between two keyframes (detect::ScheduleConfig::glances), for what is large
// enough to identify: the head network's head boxes (the face network where there is none) at `head_scale`
// of the frame, the plate network at `plate_scale`, one's own networks at `head_scale`; no person/vehicle
// network and no head regions guessed from bodies. A head
// 20 px tall is 10 px at half the resolution, about the least the head network finds; a plate 48 px wide,
// about the least whose characters can be read, is 16 px at a third, about the least the plate network
// finds.
struct GlancePass {
  float head_scale = 0.5f;
  float plate_scale = 1.0f / 3.0f;
  // ...but never a network input shorter than this (longer side), nor larger than the frame: the plate
  // network was trained at 416 px, and at a third of a 512x366 frame (171 px) it boxed the whole frame.
  int min_side = 416;
  float score_factor = 1.0f;  // as WholeFramePass::score_factor
};

// A person seen in a vehicle (head and shoulders through its glass, ContextConfig::occupant_threshold, or a
// face, head or body whose head is in its windows): the region hidden for them, the vehicle they were seen
// in, and what found them.
struct Occupant {
  Box region;
  Box vehicle;
  float score = 0;
  RegionSource source = RegionSource::Context;
};

// The two searches the video schedule combines (pipeline/detection_schedule.hpp): the whole frame, and a
// window around objects already known. An interface, so that the schedule can be tested without networks.
class Detector {
 public:
  virtual ~Detector() = default;
  // Every network over the whole frame; a video keyframe's duplicates merged.
  virtual Detections detect_whole(const AVFrame& frame, const WholeFramePass& pass) = 0;
  // The targets' networks on `window` only (source pixels), `scale` detector pixels per source pixel (at
  // most 2; the person detector never enlarges): a cheap, sharper look where an object is expected.
  virtual Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets,
                                   float scale) = 0;
  // The glance (GlancePass). A detector without a cheaper whole-frame look has none (the tests' scripted
  // detectors that do not script one).
  virtual Detections detect_glance(const AVFrame& /*frame*/, const GlancePass& /*pass*/) { return {}; }
  // The area a detection's network must see to find it again (a head region's whole person), and which
  // network that is.
  virtual Box search_area(const Detection& d) const { return d.box; }
  // The vehicle occupants among the detections of the latest call (each also one of its detections), and
  // the vehicles (cars, buses, trucks) in which it looked for them.
  virtual std::span<const Occupant> occupants() const { return {}; }
  virtual std::span<const Box> vehicles() const { return {}; }
  // How wide a pixel of the frames to come is shown, in units of its height (a video's sample aspect ratio;
  // 1: square, as photos are shown). The networks are trained on pictures as shown: a face stored at half its
  // width (anamorphic video, shown 2:1) was missed in 24 of 140 faces of faces-street when searched as stored.
  // (Detectors that look at no pixels, as the tests' scripted ones, have nothing to scale.) `scale` of
  // detect_around is then in detector pixels per source row: sizes as shown are width * pixel_aspect() by
  // height, in source rows.
  virtual void set_pixel_aspect(float /*aspect*/) {}
  virtual float pixel_aspect() const { return 1.0f; }
  static SearchTargets targets_for(const Detection& d) {
    SearchTargets t;
    if (d.source == RegionSource::Context) t.persons = true;
    else if (d.source == RegionSource::Head) t.heads = true;
    else if (d.cls == ObjectClass::Face) t.faces = true;
    else if (d.cls == ObjectClass::Plate) t.plates = true;
    else t.own_classes = 1u << static_cast<int>(d.cls);
    return t;
  }
};

class FrameDetector final : public Detector {
 public:
  explicit FrameDetector(const DetectorConfig& config);
  // A still picture: the whole frame, small pictures enlarged up to twice for the small objects in them.
  Detections detect(const AVFrame& frame) { return detect_whole(frame, WholeFramePass::photo()); }
  Detections detect_whole(const AVFrame& frame, const WholeFramePass& pass) override;
  Detections detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets,
                           float scale) override;
  Detections detect_glance(const AVFrame& frame, const GlancePass& pass) override;
  Box search_area(const Detection& d) const override;
  std::span<const Occupant> occupants() const override { return occupants_; }
  std::span<const Box> vehicles() const override { return vehicles_; }
  void set_pixel_aspect(float aspect) override;
  float pixel_aspect() const override { return pixel_aspect_; }
  const DetectorConfig& config() const { return config_; }
  // From now on (with DetectorConfig::networks_side_by_side), video keyframes and glances run the face and
  // head networks on a second thread beside the person/vehicle and plate networks (detect/side_lane.hpp):
  // the same detections, known sooner, for the same CPU time. It pays where detection is the stage the
  // encoder waits for, and costs memory: input buffers and working memory for two networks at once
  // (pipeline/anonymizer.cpp says where it is used). Off at first.
  // False where there is nothing to run beside the others (no second thread: no head network, or the
  // configuration did not ask for one): then every pass stays on one thread.
  bool set_networks_side_by_side(bool side_by_side);
  // How many network runs went to the side lane so far.
  std::size_t side_lane_jobs() const { return lane_ ? lane_->jobs_run() : 0; }

 private:
  // The longer side of `crop` as shown (pixel_aspect_), in source rows.
  float shown_longer(const PixelRect& crop) const;
  int side_at_scale(const PixelRect& crop, float scale) const;
  void add_context(const AVFrame& frame, const PixelRect& crop, int max_side, bool refine, Detections& out);
  // The face network's boxes (Face, Detector) and the plate network's (Plate, Detector) on `crop`, from
  // `score_factor` times their thresholds, marked weak under the thresholds.
  void add_faces(const AVFrame& frame, const PixelRect& crop, int max_side, float score_factor, Detections& out);
  void add_plates(const AVFrame& frame, const PixelRect& crop, int max_side, float score_factor, Detections& out);
  // Head boxes (Face, Head) and, with `bodies`, the head regions of body boxes (Face, Context).
  // Scores from `score_factor` times the thresholds are kept, marked weak under the thresholds.
  void add_heads(const AVFrame& frame, const PixelRect& crop, int max_side, bool bodies, Detections& out,
                 float score_factor = 1.0f);
  void finish(const AVFrame& frame, Detections& out) const;
  // Fills plate_crops_ from plate_vehicles_; false when the full pass is cheaper.
  bool plan_plate_crops(const AVFrame& frame, int plate_side);
  int coarse_plate_side(int plate_side) const;

  DetectorConfig config_;
  RuntimeOptions shared_buffers_;  // the input buffers the networks take turns with
  RuntimeOptions lane_buffers_;    // the face and head networks' while they run on the side lane
  // The shipped networks, each run from its manifest (detect/builtin_models.hpp), thresholds per call.
  std::unique_ptr<ManifestNetwork> faces_;
  std::unique_ptr<ManifestNetwork> plates_;
  std::unique_ptr<ManifestNetwork> context_;
  std::unique_ptr<ManifestNetwork> heads_;
  std::vector<std::unique_ptr<ManifestNetwork>> custom_;
  // The custom networks' boxes of the classes asked for (`wanted`: faces, plates, own classes as in
  // SearchTargets), as detections (weak under their class threshold).
  void add_custom(const AVFrame& frame, const PixelRect& crop, int max_side, const SearchTargets& wanted, float factor,
                  Detections& out);
  std::vector<Box> vehicles_;        // of the latest call: vehicles whose occupants are looked for
  std::vector<Box> plate_vehicles_;  // scratch: vehicles whose plates the guided pass looks for
  std::vector<Occupant> occupants_;  // of the latest call
  struct PlateCrop {
    Box area;
    float scale;
  };
  std::vector<PlateCrop> plate_crops_;  // scratch
  float pixel_aspect_ = 1.0f;
  std::unique_ptr<SideLane> lane_;  // with DetectorConfig::networks_side_by_side
  bool beside_ = false;              // set_networks_side_by_side
  Detections head_scratch_, other_scratch_;
};

// Merges detections found twice (forward and backward, in two overlapping windows, or by a keyframe's coarse
// plate pass and its vehicle's look): same class and source, IoU above `iou`, the higher score kept.
void merge_duplicates(Detections& detections, float iou = 0.5f);

// The head region hidden for a person box (source pixels, not clamped; `pixel_aspect`: how wide a source
// pixel is shown, the head's proportions being those shown).
Box head_region(const Box& person, const HeadGeometry& head, float pixel_aspect = 1.0f);
// The person box a head region came from (its width only when the person was narrower than max_width).
Box person_from_head_region(const Box& region, const HeadGeometry& head);
// Where a vehicle's plate can be: its lower two thirds, widened by 10% on each side and 10% below (plates
// stick out of loose boxes).
Box plate_area_of_vehicle(const Box& vehicle);
// Whether a person box looks like a vehicle occupant: head and shoulders, centred in the upper part of a
// vehicle box. occupied_vehicle: the smallest such vehicle (nullptr: none).
const Box* occupied_vehicle(const Box& person, const std::vector<Box>& vehicles, float max_aspect, float pixel_aspect = 1.0f);
bool is_occupant(const Box& person, const std::vector<Box>& vehicles, float max_aspect);

}  // namespace roadveil::detect
