#pragma once
// What the product hides: a class, a box in source pixels, and where the region came from.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/geometry.hpp"

namespace roadveil {

// What a region hides. Faces (whole heads) and plates are built in; a model described by a manifest may add
// classes of its own ("hide_as": "screen"), which get the next ids when their names are first seen (manifest,
// regions file, ground truth) and flow through tracking, rendering, review, eval and the audit like the two
// built-in ones. The names are the identity: files store names, never ids, so the ids of one process are
// never compared with another's.
enum class ObjectClass : std::uint8_t { Face = 0, Plate = 1 };
inline constexpr int kBuiltinObjectClasses = 2;
inline constexpr int kMaxObjectClasses = 16;  // the size of per-class tables

// The classes known to this process so far: 0 .. object_class_count() - 1.
int object_class_count();
std::vector<ObjectClass> object_classes();
std::string_view to_string(ObjectClass c);
// A known class by its name.
std::optional<ObjectClass> object_class_from_string(std::string_view name);
// A known class, or a new one: names are 1-32 characters of a-z, 0-9, '-' and '_', starting with a letter.
// Throws Error for a malformed name or a class beyond kMaxObjectClasses.
ObjectClass intern_object_class(std::string_view name);
bool is_builtin(ObjectClass c);
// Counts per class in words: "3 face and 2 plate regions", and "..., 4 screen" for classes of one's own
// that occur.
using ClassCounts = std::array<std::int64_t, kMaxObjectClasses>;
std::string counts_in_words(const ClassCounts& counts, std::string_view noun);

// Where a hidden region came from; written to the detections file so a reviewer can see why it is there.
enum class RegionSource : std::uint8_t {
  Detector,      // the detector found it in this frame
  Interpolated,  // a gap between two detections of the same track, filled
  Extended,      // a track carried a few frames past its last (or before its first) detection
  Backward,      // carried back in time from a later detection (dashcam: small before it was near)
  Context,       // derived from a person or vehicle box (head region of a person)
  Manual,        // given by the user in a regions file
  Head,          // a whole head (any side) found by the head detector
};
inline constexpr int kRegionSourceCount = 7;
std::string_view to_string(RegionSource s);
std::optional<RegionSource> region_source_from_string(std::string_view name);

// Whether a region is hidden as the ellipse inscribed in its box, its class being drawn as ellipses. Only a
// head or face network's box, found on that frame or carried from such boxes, bounds a head, which the
// ellipse follows. A Context region is a guess of where a head is (the top of a person's or a body's box,
// head and shoulders through glass, a vehicle's window band), not a box around it: the head may sit in a
// corner, which the ellipse leaves out. A Manual region is the rectangle a person drew or wrote (review
// edits, regions files): hidden as drawn. Both are hidden whole. A region carried from a Context track
// (interpolated, extended, backward) is no longer marked as one and keeps the ellipse (hiding those whole
// too would add 13 head-frames on the zoom clips for 8% more face area: bench/zoom_clips/
// carried_guess_shape.py). Rendering, masks, verify and eval all draw regions by this rule.
inline bool drawn_as_ellipse(RegionSource source, bool class_ellipse) {
  return class_ellipse && source != RegionSource::Context && source != RegionSource::Manual;
}

struct Region {
  ObjectClass cls = ObjectClass::Face;
  Box box;              // the area hidden, in source pixels, after padding
  float score = 0;      // detector confidence (of the detection the region comes from); 1 for manual
  RegionSource source = RegionSource::Detector;
  int track_id = -1;    // -1 when not tracked
};

using Regions = std::vector<Region>;

// A raw detector output, before padding and tracking, in source pixels.
struct Detection {
  ObjectClass cls = ObjectClass::Face;
  Box box;
  float score = 0;
  // What found it, which decides its padding and its track: Detector (a tight face box, a plate box),
  // Head (a whole head box), Context (a head region derived from a person box: already the size of what
  // must be hidden). Each is tracked apart from the others.
  RegionSource source = RegionSource::Detector;
  // Scored under its network's threshold: found by a search that was told to accept weaker evidence near an
  // object already followed (see ScheduleConfig::continue_score_factor). It may continue that object's
  // track, never start one.
  bool weak = false;
  // Not a network's box: where the video schedule found an object again by its appearance after a network
  // missed it (detect/appearance.hpp). Hidden like any detection; never the start of an object, never a
  // measure of its motion.
  bool by_appearance = false;
};
using Detections = std::vector<Detection>;

}  // namespace roadveil
