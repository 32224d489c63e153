#include "detect/frame_detector.hpp"

#include "detect/builtin_models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "detect/model_registry.hpp"
#include "detect/side_lane.hpp"

namespace roadveil::detect {

std::optional<Quality> quality_from_string(std::string_view name) {
  if (name == "fast") return Quality::Fast;
  if (name == "balanced") return Quality::Balanced;
  if (name == "max") return Quality::Max;
  return std::nullopt;
}

void apply_quality(Quality q, DetectorConfig& c) {
  struct Preset {
    int max_side;
    bool context, refine, refine_photos, guided_plates, face_network;
  };
  // The head network is in every preset: at 1280 px alone it hides more heads than every network of the
  // previous balanced preset together (dashcam-berlin-dev 0.70 vs 0.71 at a third of the time). The face
  // network adds a few frontal faces at full resolution only.
  static constexpr Preset kPresets[] = {
      {1280, false, false, false, false, false}, {1920, true, false, true, true, true}, {1920, true, true, true, false, true}};
  const Preset& p = kPresets[static_cast<int>(q)];
  c.face_max_side = c.plate_max_side = c.heads.max_side = p.max_side;
  c.face_network = p.face_network;
  c.heads.enabled = true;
  c.context.enabled = p.context;
  c.context.refine = p.refine;
  c.context.refine_photos = p.refine_photos;
  c.context.guided_plates = p.guided_plates;
}

void merge_duplicates(Detections& detections, float iou_threshold) {
  // A network's box over its threshold before a box found by appearance, and both before a weak one (scores
  // of different networks or sources are judged against different thresholds: a weak box may score higher
  // than a strong duplicate), then the higher score.
  auto rank = [](const Detection& d) { return d.weak ? 2 : d.by_appearance ? 1 : 0; };
  std::stable_sort(detections.begin(), detections.end(), [&](const Detection& a, const Detection& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a.score > b.score;
  });
  Detections kept;
  kept.reserve(detections.size());
  for (const Detection& d : detections) {
    const bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.cls == d.cls && k.source == d.source && iou(k.box, d.box) > iou_threshold;
    });
    if (!duplicate) kept.push_back(d);
  }
  detections.swap(kept);
}

Box head_region(const Box& person, const HeadGeometry& head, float pixel_aspect) {
  const float w = std::min(person.width(), head.max_width * person.height() / pixel_aspect);
  const float top = person.y1 + head.top * person.height();
  return {person.cx() - 0.5f * w, top, person.cx() + 0.5f * w, top + head.height * person.height()};
}

Box person_from_head_region(const Box& region, const HeadGeometry& head) {
  const float h = region.height() / head.height;
  const float top = region.y1 - head.top * h;
  return {region.x1, top, region.x2, top + h};
}

Box plate_area_of_vehicle(const Box& v) {
  const float w = v.width(), h = v.height();
  return {v.x1 - 0.1f * w, v.y1 + h / 3.0f, v.x2 + 0.1f * w, v.y2 + 0.1f * h};
}

const Box* occupied_vehicle(const Box& person, const std::vector<Box>& vehicles, float max_aspect, float pixel_aspect) {
  if (person.height() >= max_aspect * pixel_aspect * person.width()) return nullptr;
  const float cx = person.cx(), cy = person.cy();
  // The smallest that holds it: a car in front of a bus holds its own driver.
  const Box* found = nullptr;
  for (const Box& v : vehicles)
    if (cx >= v.x1 && cx <= v.x2 && cy >= v.y1 && cy <= v.y1 + 0.6f * v.height() && (!found || v.area() < found->area()))
      found = &v;
  return found;
}

bool is_occupant(const Box& person, const std::vector<Box>& vehicles, float max_aspect) {
  return occupied_vehicle(person, vehicles, max_aspect) != nullptr;
}

std::vector<ModelId> models_in_use(const DetectorConfig& config) {
  auto replaced = [&](ObjectClass cls) {
    return std::any_of(config.custom_models.begin(), config.custom_models.end(),
                       [&](const ModelManifest& m) { return m.replaces_builtin && m.hides(cls); });
  };
  const bool builtin_faces = config.faces && !replaced(ObjectClass::Face);
  std::vector<ModelId> out;
  if (builtin_faces && config.face_network) out.push_back(ModelId::FaceYunet);
  if (builtin_faces && config.heads.enabled) out.push_back(ModelId::HeadYolox);
  if (config.plates && !replaced(ObjectClass::Plate)) out.push_back(ModelId::PlateYolov9);
  // Person boxes serve faces; vehicle boxes serve plates through the refine and guided passes.
  if (config.context.enabled && (config.faces || (config.plates && (config.context.refine || config.context.refine_photos || config.context.guided_plates))))
    out.push_back(ModelId::ContextYolox);
  return out;
}

ModelManifest load_manifest(const std::filesystem::path& path) {
  ModelManifest m = read_manifest(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(m.model, ec))
    throw Error("model " + m.model.string() + " (manifest " + path.string() + ") is missing: get it from " + m.source);
  std::string actual;
  if (!model_file_matches(m.model, m.sha256, actual))
    throw Error("model " + m.model.string() + " has sha256 " + actual + ", but its manifest " + path.string() +
                " says " + m.sha256 + ": a different file, or the manifest is out of date");
  return m;
}

FrameDetector::FrameDetector(const DetectorConfig& config)
    : config_(config),
      shared_buffers_{config.threads, std::make_shared<std::vector<float>>(), std::make_shared<std::vector<std::uint8_t>>()},
      lane_buffers_{config.threads, std::make_shared<std::vector<float>>(), std::make_shared<std::vector<std::uint8_t>>()} {
  const auto models = models_in_use(config);
  const RuntimeOptions& runtime = shared_buffers_;
  const auto dir = models.empty() ? std::filesystem::path{} : resolve_models_dir(config.models_dir);
  for (const ModelId id : models) {
    auto network = make_builtin_network(id, dir, runtime);
    switch (id) {
      case ModelId::FaceYunet: faces_ = std::move(network); break;
      case ModelId::HeadYolox: heads_ = std::move(network); break;
      case ModelId::PlateYolov9: plates_ = std::move(network); break;
      case ModelId::ContextYolox: context_ = std::move(network); break;
    }
  }
  // A model of one's own classes always runs; one that hides faces or plates, when those are hidden.
  for (const ModelManifest& m : config.custom_models)
    if ((config.faces && m.hides(ObjectClass::Face)) || (config.plates && m.hides(ObjectClass::Plate)) || m.hides_own_class())
      custom_.push_back(std::make_unique<ManifestNetwork>(m, runtime));
  if (config.networks_side_by_side && heads_) lane_ = std::make_unique<SideLane>();
}

bool FrameDetector::set_networks_side_by_side(bool side_by_side) {
  if (!lane_) return false;
  if (side_by_side == beside_) return true;
  beside_ = side_by_side;
  // On the side lane the face and head networks fill input buffers of their own; back on one thread, they
  // share the others' again and their own are given back.
  const RuntimeOptions& buffers = beside_ ? lane_buffers_ : shared_buffers_;
  heads_->use_buffers(buffers);
  if (faces_) faces_->use_buffers(buffers);
  if (!beside_) {
    std::vector<float>().swap(*lane_buffers_.shared_input);
    std::vector<std::uint8_t>().swap(*lane_buffers_.shared_planes);
  }
  return true;
}

void FrameDetector::set_pixel_aspect(float aspect) {
  pixel_aspect_ = aspect > 0 && std::isfinite(aspect) ? aspect : 1.0f;
  for (ManifestNetwork* net : {faces_.get(), heads_.get(), plates_.get(), context_.get()})
    if (net) net->set_pixel_aspect(pixel_aspect_);
  for (auto& net : custom_) net->set_pixel_aspect(pixel_aspect_);
}

float FrameDetector::shown_longer(const PixelRect& crop) const {
  return std::max(pixel_aspect_ * static_cast<float>(crop.w), static_cast<float>(crop.h));
}

// The detector input's longer side for `crop` shown at `scale` detector pixels per source row.
int FrameDetector::side_at_scale(const PixelRect& crop, float scale) const {
  return std::max(32, static_cast<int>(std::lround(scale * shown_longer(crop))));
}

namespace {
bool wants(const SearchTargets& wanted, ObjectClass c) {
  return c == ObjectClass::Face ? wanted.faces : c == ObjectClass::Plate ? wanted.plates : wanted.wants_own(c);
}
// What a whole-frame pass looks for: the classes switched on, and every class of one's own.
SearchTargets whole_frame_targets(const DetectorConfig& config) {
  return {.faces = config.faces, .plates = config.plates, .own_classes = ~0u << kBuiltinObjectClasses};
}
}  // namespace

void FrameDetector::add_custom(const AVFrame& frame, const PixelRect& crop, int max_side, const SearchTargets& wanted,
                               float factor, Detections& out) {
  for (auto& net : custom_) {
    const ModelManifest& m = net->manifest();
    if (std::none_of(m.classes.begin(), m.classes.end(), [&](const ManifestClass& c) { return c.hidden && wants(wanted, c.hide_as); }))
      continue;
    for (const RawBox& b : net->detect(frame, crop, std::min(max_side, m.max_side), factor)) {
      const ManifestClass* c = net->class_of(b.label);
      if (!c || !wants(wanted, c->hide_as)) continue;
      out.push_back({c->hide_as, b.box, b.score, RegionSource::Detector, b.score < c->threshold});
    }
  }
}

Detections FrameDetector::detect_whole(const AVFrame& frame, const WholeFramePass& pass) {
  Detections out;
  occupants_.clear();
  vehicles_.clear();
  const PixelRect whole{0, 0, frame.width, frame.height};
  const float longer = shown_longer(whole);
  auto side = [&](int configured) { return std::min(configured, static_cast<int>(pass.max_upscale * longer)); };
  const bool guided = pass.video && plates_ && context_ && config_.context.guided_plates;
  const float factor = std::clamp(pass.score_factor, 0.0f, 1.0f);
  // One network after the other: faces, heads, the person/vehicle network (whose vehicles guide the plate
  // search), plates. On a video keyframe with the networks side by side (set_networks_side_by_side), the face
  // and head networks run on the side lane while the person/vehicle and plate networks run here (at 720p
  // ~130 and ~170 ms). The detections are in the same order either way (merging keeps the first of equal
  // duplicates).
  Detections& heads = head_scratch_;
  Detections& others = other_scratch_;
  heads.clear();
  others.clear();
  auto faces_and_heads = [&] {
    if (faces_) add_faces(frame, whole, side(config_.face_max_side), factor, out);
    if (heads_) add_heads(frame, whole, side(config_.heads.max_side), config_.heads.body_regions, heads, factor);
  };
  // The 2x looks of the person/vehicle network's pass run the face network too: then on one thread.
  const bool refine_looks = config_.context.refine || (!pass.video && config_.context.refine_photos);
  std::optional<SideLane::Running> beside;
  if (beside_ && pass.video && !(refine_looks && context_)) beside.emplace(*lane_, faces_and_heads);
  else faces_and_heads();
  if (context_) add_context(frame, whole, side(config_.context.max_side), refine_looks, others);
  if (plates_) {
    const int plate_side = side(config_.plate_max_side);
    const bool crops = guided && plan_plate_crops(frame, plate_side);
    add_plates(frame, whole, crops ? coarse_plate_side(plate_side) : plate_side, factor, others);
    if (crops)
      for (const PlateCrop& c : plate_crops_) {
        const PixelRect rect = covering_rect(c.area, frame.width, frame.height);
        add_plates(frame, rect, side_at_scale(rect, c.scale), factor, others);
      }
  }
  if (beside) beside->finish();
  out.insert(out.end(), heads.begin(), heads.end());
  // The faces, heads and head regions of bodies found inside a vehicle's windows are its occupants too: the
  // head's own centre in the vehicle's upper part (a body is as tall as it is, a head about as tall as wide).
  // (After the person/vehicle network's own occupants, as on one thread.)
  for (const Detection& d : out) {
    if (d.weak || d.cls != ObjectClass::Face) continue;
    if (const Box* vehicle = occupied_vehicle(d.box, vehicles_, std::numeric_limits<float>::infinity()))
      occupants_.push_back({clamp_to(d.box, static_cast<float>(frame.width), static_cast<float>(frame.height)), *vehicle, d.score, d.source});
  }
  out.insert(out.end(), others.begin(), others.end());
  // Custom networks look at the whole frame at their own resolution, enlarged like the built-in ones.
  add_custom(frame, whole, static_cast<int>(pass.max_upscale * longer), whole_frame_targets(config_), factor, out);
  finish(frame, out);
  if (pass.video) merge_duplicates(out);
  return out;
}

int FrameDetector::coarse_plate_side(int plate_side) const {
  return std::max(32, static_cast<int>(std::lround(config_.context.guided_whole_scale * static_cast<float>(plate_side))));
}

bool FrameDetector::plan_plate_crops(const AVFrame& frame, int plate_side) {
  const ContextConfig& c = config_.context;
  const Box whole{0, 0, static_cast<float>(frame.width), static_cast<float>(frame.height)};
  plate_crops_.clear();
  for (const Box& v : plate_vehicles_) {
    const Box area = intersection(plate_area_of_vehicle(v), whole);
    if (area.empty()) continue;
    const float scale = std::clamp(c.guided_vehicle_px / std::max(1.0f, pixel_aspect_ * v.width()), 0.5f, 2.0f);
    plate_crops_.push_back({area, scale});
  }
  // A queue of cars: overlapping crops become one where that costs no more detector pixels (a near car's
  // crop merged with a far one's at the far one's scale would show the near plate too large to be found).
  merge_overlapping(plate_crops_, [](const PlateCrop& p) -> const Box& { return p.area; },
                    [](const PlateCrop& a, const PlateCrop& b, const Box& u) {
                      return union_costs_no_more(a.area, a.scale, b.area, b.scale, u);
                    },
                    [](const PlateCrop& a, const PlateCrop& b, const Box& u) {
                      return PlateCrop{u, std::max(a.scale, b.scale)};
                    });
  // Dense traffic: when the crops and the coarse pass would cost more detector pixels than the full pass,
  // the full pass it is.
  const float longer = shown_longer({0, 0, frame.width, frame.height});
  const float full_scale = static_cast<float>(plate_side) / longer;
  const float coarse_scale = static_cast<float>(coarse_plate_side(plate_side)) / longer;
  float guided_cost = coarse_scale * coarse_scale * whole.area();
  for (const PlateCrop& p : plate_crops_) guided_cost += p.scale * p.scale * p.area.area();
  return guided_cost < full_scale * full_scale * whole.area();
}

Detections FrameDetector::detect_around(const AVFrame& frame, const Box& window, const SearchTargets& targets,
                                        float scale) {
  Detections out;
  occupants_.clear();
  vehicles_.clear();
  const PixelRect crop = covering_rect(window, frame.width, frame.height);
  if (crop.w < 8 || crop.h < 8) return out;
  const int scaled = side_at_scale(crop, std::clamp(scale, 0.05f, 2.0f));
  const float factor = std::clamp(targets.score_factor, 0.0f, 1.0f);
  if (targets.faces && faces_) add_faces(frame, crop, std::min(scaled, config_.face_max_side), factor, out);
  if (targets.plates && plates_) add_plates(frame, crop, std::min(scaled, config_.plate_max_side), factor, out);
  // A person's head region is searched by the network that found the person: the head network's bodies, or
  // the person detector's people.
  const bool body_regions = heads_ && config_.heads.body_regions;
  if (heads_ && (targets.heads || (targets.persons && body_regions)))
    add_heads(frame, crop, std::min(scaled, config_.heads.max_side), targets.persons && body_regions, out, factor);
  add_custom(frame, crop, scaled, targets, factor, out);
  if (targets.persons && context_ && !body_regions) add_context(frame, crop, config_.context.max_side, config_.context.refine, out);
  finish(frame, out);
  return out;
}

Detections FrameDetector::detect_glance(const AVFrame& frame, const GlancePass& pass) {
  Detections out;
  occupants_.clear();
  vehicles_.clear();
  const PixelRect whole{0, 0, frame.width, frame.height};
  const float factor = std::clamp(pass.score_factor, 0.0f, 1.0f);
  // Never enlarged, never above the resolution the preset gives each network, never under min_side.
  const int frame_side = side_at_scale(whole, 1.0f);
  const auto side = [&](float scale, int configured) {
    const int scaled = std::max(side_at_scale(whole, std::clamp(scale, 0.05f, 1.0f)), std::min(pass.min_side, frame_side));
    return std::min(configured, scaled);
  };
  // Head boxes only: a body's head region is a guess, and at a coarse look a poor one (its motion, measured
  // from two such guesses, carried a zoom clip's head region 26 px a frame back across the picture, and its
  // neighbour's carry with it).
  // The head network beside the plate network (set_networks_side_by_side); the detections in the order of
  // one thread's run (heads, plates, one's own).
  Detections& others = other_scratch_;
  others.clear();
  auto run_heads = [&] { add_heads(frame, whole, side(pass.head_scale, config_.heads.max_side), false, out, factor); };
  std::optional<SideLane::Running> beside;
  if (heads_ && beside_) beside.emplace(*lane_, run_heads);
  else if (heads_) run_heads();
  else if (faces_)
    add_faces(frame, whole, side(pass.head_scale, config_.face_max_side), factor, out);
  if (plates_) add_plates(frame, whole, side(pass.plate_scale, config_.plate_max_side), factor, others);
  add_custom(frame, whole, side(pass.head_scale, std::numeric_limits<int>::max()), whole_frame_targets(config_), factor, others);
  if (beside) beside->finish();
  out.insert(out.end(), others.begin(), others.end());
  finish(frame, out);
  merge_duplicates(out);
  return out;
}

Box FrameDetector::search_area(const Detection& d) const {
  return d.source == RegionSource::Context ? person_from_head_region(d.box, config_.context.head) : d.box;
}

void FrameDetector::finish(const AVFrame& frame, Detections& out) const {
  for (Detection& d : out) d.box = clamp_to(d.box, static_cast<float>(frame.width), static_cast<float>(frame.height));
  std::erase_if(out, [](const Detection& d) { return d.box.empty(); });
}

void FrameDetector::add_faces(const AVFrame& frame, const PixelRect& crop, int max_side, float score_factor,
                              Detections& out) {
  for (const RawBox& b : faces_->detect(frame, crop, max_side, score_factor * config_.face_threshold))
    out.push_back({ObjectClass::Face, b.box, b.score, RegionSource::Detector, b.score < config_.face_threshold});
}

void FrameDetector::add_plates(const AVFrame& frame, const PixelRect& crop, int max_side, float score_factor,
                               Detections& out) {
  for (const RawBox& b : plates_->detect(frame, crop, max_side, score_factor * config_.plate_threshold))
    out.push_back({ObjectClass::Plate, b.box, b.score, RegionSource::Detector, b.score < config_.plate_threshold});
}

void FrameDetector::add_heads(const AVFrame& frame, const PixelRect& crop, int max_side, bool bodies,
                              Detections& out, float score_factor) {
  const HeadConfig& c = config_.heads;
  const float min_body_height = config_.context.min_person_height * static_cast<float>(frame.height);
  const float head_threshold = score_factor * c.head_threshold, body_threshold = score_factor * c.body_threshold;
  for (const RawBox& b : heads_->detect(frame, crop, max_side, bodies ? std::min(head_threshold, body_threshold) : head_threshold)) {
    if (b.label == kHead && b.score >= head_threshold) {
      out.push_back({ObjectClass::Face, b.box, b.score, RegionSource::Head, b.score < c.head_threshold});
    } else if (bodies && b.label == kBody && b.score >= body_threshold && b.box.height() >= min_body_height) {
      out.push_back({ObjectClass::Face, head_region(b.box, config_.context.head, pixel_aspect_), b.score, RegionSource::Context,
                     b.score < c.body_threshold});
    }
  }
}

void FrameDetector::add_context(const AVFrame& frame, const PixelRect& crop, int max_side, bool refine_looks,
                                Detections& out) {
  const ContextConfig& c = config_.context;
  const float fw = static_cast<float>(frame.width), fh = static_cast<float>(frame.height);
  const float lowest = std::min({c.person_threshold, c.occupant_threshold, c.vehicle_threshold,
                                 refine_looks ? c.refine_vehicle_threshold : 1.0f,
                                 c.guided_plates ? c.guided_vehicle_threshold : 1.0f});
  const auto found = context_->detect(frame, crop, max_side, lowest);
  // The head network's bodies replace the person detector's people as the source of head regions.
  const bool person_regions = c.persons && !(heads_ && config_.heads.body_regions);
  auto is_vehicle = [](int label) { return label == kCar || label == kBus || label == kTruck || label == kMotorcycle; };
  vehicles_.clear();
  plate_vehicles_.clear();
  for (const RawBox& b : found) {
    if (b.label != kMotorcycle && is_vehicle(b.label) && b.score >= c.vehicle_threshold) {
      vehicles_.push_back(b.box);
      const float h = b.box.height();
      if (config_.faces && c.window_min_head_px > 0 && c.window_head_share * h >= c.window_min_head_px)
        out.push_back({ObjectClass::Face, {b.box.x1, b.box.y1 + c.window_top * h, b.box.x2, b.box.y1 + c.window_bottom * h},
                       b.score, RegionSource::Context});
    }
    if (c.guided_plates && is_vehicle(b.label) && b.score >= c.guided_vehicle_threshold) plate_vehicles_.push_back(b.box);
  }
  // Crops are searched at twice their size (the networks' max_upscale), so the input side is 2x the crop's.
  auto refine = [&](NetworkDetector& net, const Box& area, ObjectClass cls, float threshold) {
    const PixelRect crop = covering_rect(area, frame.width, frame.height);
    if (crop.w < 8 || crop.h < 8) return;
    for (const RawBox& b : net.detect(frame, crop, static_cast<int>(std::lround(2.0f * shown_longer(crop))), threshold))
      out.push_back({cls, b.box, b.score});
  };
  for (const RawBox& b : found) {
    const float w = b.box.width(), h = b.box.height();
    if (b.label == kPerson) {
      const Box* vehicle = b.score >= c.occupant_threshold && config_.faces ? occupied_vehicle(b.box, vehicles_, c.occupant_max_aspect, pixel_aspect_) : nullptr;
      if (vehicle) {
        const Box region{b.box.x1, b.box.y1 - 0.1f * h, b.box.x2, b.box.y2};
        out.push_back({ObjectClass::Face, region, b.score, RegionSource::Context});
        occupants_.push_back({clamp_to(region, fw, fh), *vehicle, b.score, RegionSource::Context});
        continue;
      }
      if (b.score < c.person_threshold || h < c.min_person_height * fh) continue;
      if (config_.faces && person_regions) out.push_back({ObjectClass::Face, head_region(b.box, c.head, pixel_aspect_), b.score, RegionSource::Context});
      if (refine_looks && faces_)
        refine(*faces_, {b.box.x1 - 0.1f * w, b.box.y1 - 0.1f * h, b.box.x2 + 0.1f * w, b.box.y1 + 0.45f * h},
               ObjectClass::Face, c.refine_face_threshold);
    } else if (refine_looks && plates_ && b.score >= c.refine_vehicle_threshold && w < c.small_vehicle_width * fw &&
               is_vehicle(b.label)) {
      refine(*plates_, Box::from_center(b.box.cx(), b.box.cy(), 1.1f * w, 1.1f * h), ObjectClass::Plate,
             c.refine_plate_threshold);
    }
  }
}

}  // namespace roadveil::detect
