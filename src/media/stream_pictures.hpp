#pragma once
// Pictures inside the streams a video file carries beside its video: a data track (a camera's telemetry, or
// anything a tool put there) and subtitles are copied as they are, and their bytes may hold a picture of what
// the video hides. anonymize zeroes them (media/output_file.cpp); verify counts them (review/verify.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

struct AVCodecParameters;

namespace roadveil::media {

// Every JPEG, PNG or WebP inside a packet or a stream's header, and every long run of base64, zeroed (as in a
// photo's metadata, media/photo_metadata.hpp); the rest is kept, so that telemetry and text still read. How
// many were found.
int remove_stream_pictures(std::uint8_t* data, std::size_t size);

// A subtitle script's [Graphics] section (ASS/SSA: pictures embedded in the script's header, uuencoded, one
// "filename:" line each) left out, the rest of the script as it was; how many pictures it held.
int remove_ass_graphics(std::vector<std::uint8_t>& script);

// Text: UTF-8 without control bytes other than tab, line feed, carriage return and form feed (and NULs at the
// end, which some writers pad with). What roadveil can look inside; binary data could be any picture or video.
bool is_plain_text(std::string_view text);

// What a Matroska attachment holds, by its bytes (its MIME type and name are the writer's word): anonymize
// keeps fonts as they are and text with its pictures zeroed, and drops the rest; verify searches the text.
enum class AttachmentKind { Font, Text, Other };
AttachmentKind attachment_kind(const AVCodecParameters& par);

// A stream whose bytes are searched this way: data and subtitle streams.
bool may_carry_pictures(const AVCodecParameters& par);
// Subtitles drawn as pictures (DVD, Blu-ray, DVB): pictures roadveil does not look into.
bool is_bitmap_subtitle(const AVCodecParameters& par);

}  // namespace roadveil::media
