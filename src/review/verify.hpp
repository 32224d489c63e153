#pragma once
// `roadveil verify`: attacks a finished file the way someone trying to recover an identity would. Every
// checked frame of the output goes through the detectors (the most sensitive settings unless told
// otherwise), and two things are reported:
//  - exposed: a face, head or plate the networks find that no hidden region covers (with the regions file
//    of the run), or whose pixels show detail no mosaic, fill or blur leaves (without it);
//  - readable: a hidden region whose pixels kept more detail than its promised style leaves
//    (review/readability.hpp): rendered with more mosaic blocks than promised, or not at all.
// Each finding names the file, frame, time code, box and score, and can be saved as a PNG crop.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/region.hpp"
#include "detect/frame_detector.hpp"
#include "detect/upright_detector.hpp"
#include "pipeline/regions_file.hpp"
#include "redact/redact_plan.hpp"

namespace roadveil::review {

struct VerifyOptions {
  detect::DetectorConfig detector;  // the command sets the most sensitive preset (max)
  redact::ClassStyles styles;       // the styles the regions were promised to be hidden with
  // A detection counts as hidden when at least this share of its box lies inside hidden regions (drawn
  // as they are hidden, redact::style_for): a network firing on a mosaic it hides is not a leak.
  float covered_fraction = 0.5f;
  // ... and at least this share of the middle of its box (half its width and height), where a face's features
  // and a plate's characters are.
  static constexpr double kMiddleCovered = 0.9;
  int every = 1;                    // check every n-th frame (1: all)
  // A hidden region whose pixels deviate from its style's fixed point by more than this (mean, 8-bit luma
  // levels) is readable. Correct mosaics measured at most 3.6 after H.264 at CRF 18, most under 2
  // (docs/verify.md).
  double max_residual = 4.0;
  // Without a regions file: a detection whose box has more than this share of detailed pixels (deviation
  // from the 3x3 median above `detail_levels`) is exposed; a mosaic, fill or strong blur stays below.
  double max_detail_share = 0.15;
  double detail_levels = 4.0;
  std::filesystem::path crops;      // save a PNG of each finding here (empty: none)
};

enum class FindingKind : std::uint8_t { Exposed, Readable };
std::string_view to_string(FindingKind k);

struct Finding {
  FindingKind kind = FindingKind::Exposed;
  ObjectClass cls = ObjectClass::Face;
  RegionSource source = RegionSource::Detector;  // exposed: the network (detector, head); readable: the region's
  std::int64_t frame = 0;
  int picture_stream = -1;  // found on an attached picture (cover art): its stream index; `frame` is then 0
  double time = 0;        // seconds from the start of the stream
  Box box;
  float score = 0;        // exposed: detector score; readable: the region's
  double covered = 0;     // exposed: share of the box inside hidden regions
  double residual = 0;    // readable: detail kept (levels); exposed without regions: share of detailed pixels
  std::filesystem::path crop;
};

struct FileVerification {
  std::filesystem::path file;
  bool video = false;
  int width = 0, height = 0;
  std::int64_t frames = 0, frames_checked = 0;
  int pictures_checked = 0;  // attached pictures (cover art, images attached to a Matroska file)
  bool regions_known = false;
  std::int64_t regions_checked = 0;  // hidden regions measured for readability
  std::array<std::int64_t, kMaxObjectClasses> detections{};  // everything the networks found in checked frames
  std::vector<Finding> findings;
  // Copies of the picture inside a photo's metadata (an EXIF thumbnail, a preview, an original in extended
  // XMP): not checked, each reported as found, since each shows what the picture looked like.
  std::vector<std::string> metadata_pictures;
  bool damaged = false;
  bool found() const { return !findings.empty() || !metadata_pictures.empty(); }
};

class Verifier {
 public:
  explicit Verifier(VerifyOptions options);
  ~Verifier();
  // Checks one finished file (a video or a picture) against its regions entry (nullptr: unknown). Throws
  // Error naming the file when it cannot be read or does not match the entry.
  FileVerification verify(const std::filesystem::path& file, const pipeline::RegionsEntry* regions);

 private:
  std::string crop_prefix(const std::filesystem::path& file);  // what the crops of this file are named after
  std::map<std::filesystem::path, std::string> crop_prefixes_;
  // check_frame, with the file and frame named in any error.
  void checked_frame(const AVFrame& frame, std::int64_t index, double time, const Regions* regions,
                     FileVerification& out);
  void check_frame(const AVFrame& frame, std::int64_t index, double time, const Regions* regions,
                   FileVerification& out);
  void save_crop(const AVFrame& frame, Finding& f, const FileVerification& file);  // sets f.crop

  VerifyOptions options_;
  detect::FrameDetector detector_;
  // A file stored sideways (EXIF orientation, display matrix) is searched upright, as anonymize does.
  std::optional<detect::UprightDetector> upright_;
};

// "HH:MM:SS.mmm"
std::string timecode(double seconds);
nlohmann::json to_json(const FileVerification& v);

}  // namespace roadveil::review
