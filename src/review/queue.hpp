#pragma once
// `roadveil review-queue`: which frames a person should look at first. No detector hides everything; what
// it misses is not random. A dashcam approaches what it films, so an object is usually visible, smaller,
// before the first frame it was found in and after the last, where only carried regions (or nothing)
// cover it; a head region guessed from a body box means the head itself was not seen; a long interpolated
// gap means the object was lost for a while. The regions file records all of this (sources and track
// ids), so frames are ranked by these signals, plus whatever `verify` found, without running a network.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/regions_file.hpp"

namespace roadveil::review {

struct QueueOptions {
  // How far before a track's first region and after its last the object may still have been visible.
  int reach_frames = 24;
  // A track that starts or ends this close to the frame edge (share of the frame size) entered or left
  // the picture there: its object was likely not visible before (after) it.
  float edge_margin = 0.02f;
};

// One signal at one frame: what a person should check there.
struct Reason {
  std::string what;    // "before the first detection", "head guessed from a body", ...
  int track = -1;
  ObjectClass cls = ObjectClass::Face;
  Box box;             // where to look (the nearest region of the track)
  double weight = 0;
};

struct QueuedFrame {
  std::size_t entry = 0;        // index into the entries of the files ranked
  std::int64_t frame = 0;
  double time = 0;              // seconds, from the frame rate
  double risk = 0;              // sum of the reasons' weights
  std::vector<Reason> reasons;  // heaviest first
};

// An exposed finding of `verify`, by the input or output it was found in.
struct ExposedFinding {
  std::filesystem::path file;
  std::int64_t frame = 0;
  ObjectClass cls = ObjectClass::Face;
  Box box;
  float score = 0;
  bool readable = false;  // a hidden region that kept readable detail, not a detection outside the regions
};

// The entry a finding is of (its index): the one whose output or input is the file verify named, else the one
// whose output or input path ends with the most of that file's last components, as render and verify match
// files (pipeline::match_entry): a delivered copy of a folder run's out/b/x.jpg, final/b/x.jpg, is b's, not
// a's. None when no entry matches or several match as far.
std::optional<std::size_t> entry_of_finding(const ExposedFinding& v, const std::vector<pipeline::RegionsEntry>& entries);

// Every frame with a reason, riskiest first (ties: earlier entry, earlier frame).
std::vector<QueuedFrame> rank_frames(const std::vector<pipeline::RegionsEntry>& entries,
                                     const std::vector<ExposedFinding>& verified, const QueueOptions& options = {});

// Reads the exposed findings of a `verify --json` report. Throws Error naming the file.
std::vector<ExposedFinding> read_verify_report(const std::filesystem::path& path);

nlohmann::json to_json(const QueuedFrame& q, const pipeline::RegionsEntry& entry);

}  // namespace roadveil::review
