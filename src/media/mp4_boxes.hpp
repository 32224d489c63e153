#pragma once
// Boxes of an MP4/MOV file that FFmpeg's demuxer turns into nothing it could write again: cameras keep GPS
// logs, sensor data and their own records in boxes of their own types (a dashcam's top-level `gps ` box,
// Novatek's `gps ` index inside `moov`, XMP in a `uuid` box). Decoding and muxing anew would drop them
// without a word; found here, the top-level ones are copied into an MP4/MOV output as they are (they hold
// no offsets into the file) and the others are named in a warning.
#include <cstdint>
#include <string>
#include <vector>

#include "core/byte_source.hpp"

namespace roadveil::media {

struct Mp4Box {
  std::string type;    // four characters, as stored
  std::string parent;  // "" at the top level, else the enclosing box's type ("moov")
  std::int64_t offset = 0, size = 0;  // of the whole box, header included
  std::int64_t header = 8;            // bytes of its header: 16 with a 64-bit size
};

// The boxes of `source` (an MP4/MOV file) outside the file format's structure: top-level boxes other than
// ftyp, moov, mdat, free/skip/wide and the fragment and index boxes, and children of moov other than the
// track, header, metadata and fragment boxes. Stops at the first box whose size does not fit (a damaged or
// truncated file: the demuxer reports that) and after `max_boxes` top-level boxes (a fragmented file has one
// pair per fragment; each header is a read).
std::vector<Mp4Box> foreign_mp4_boxes(ByteSource& source, int max_boxes = 100000);

// Readable text for a box type ("gps ", "uuid"; bytes outside printable ASCII as \xNN).
std::string box_type_text(const std::string& type);

}  // namespace roadveil::media
