#pragma once
// A photo's metadata: what roadveil reads from it (the EXIF orientation, also of a PNG), carries into the
// output (EXIF, XMP, IPTC, PNG text and colour chunks) and removes from it (pictures).
//
// Pictures hidden in a photo's metadata. Cameras and phones store copies of the picture beside it: the EXIF
// thumbnail (a 160x120 JPEG of the whole photo), maker-note previews, Photoshop's thumbnail, a portrait photo's
// original in its extended XMP. Metadata that roadveil keeps (EXIF, XMP, IPTC) must not carry them: they show
// the faces and plates the anonymized picture hides. Each function edits a block in place, keeping its size
// and layout (offsets inside EXIF stay valid), and returns how many pictures it removed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace roadveil::media {

// The marker segments of a JPEG's header (from `from`, after its SOI), walked as a decoder walks them: fill
// bytes and markers without a length skipped, each segment by its length field, up to the first start of
// scan. Every reader of a JPEG's header here walks it with this.
struct JpegSegment {
  std::uint8_t marker;
  std::size_t pos;  // of its FF
  std::size_t len;  // its length field: the bytes after the marker, the field included
};
struct JpegHeader {
  std::vector<JpegSegment> segments;
  enum class Stop {
    Scan,        // at the first start of scan (SOS)
    EndOfImage,  // at an end-of-image marker before any scan
    Truncated,   // a segment runs past the data's end
    Unknown,     // bytes that are no marker where one must be: a layout not known
  } stop = Stop::Unknown;
  std::size_t stop_pos = 0;  // the SOS or EOI marker's FF, or where the unreadable bytes start
};
JpegHeader jpeg_header(const std::uint8_t* data, std::size_t size, std::size_t from = 2);

// An EXIF block from its TIFF header on ("II*\0" / "MM\0*"): the thumbnail IFD (IFD1) unlinked and its picture
// (JPEG or strips of pixels) zeroed, then any JPEG or PNG left inside (a maker note's preview) zeroed; a block
// with no valid TIFF header still gets the latter.
int remove_exif_pictures(std::uint8_t* tiff, std::size_t size);

// Binary data (a Photoshop resource block, a maker note, a packet of a data stream): every JPEG (from FF D8 FF
// to its FF D9), PNG (from its signature to IEND) and WebP ("RIFF", its size, "WEBPVP8") inside it zeroed.
// Only what walks as a picture (JPEG segments to a scan, a PNG's IHDR) counts: a chance FF D8 FF in maker-note
// values is left alone. A picture cut by the block's end (one split over two segments) is zeroed to the end,
// and `runs_past_end` says so: the next segment holds the rest of it.
int remove_binary_pictures(std::uint8_t* data, std::size_t size, bool* runs_past_end = nullptr);

// XMP text: every base64 JPEG ("/9j/...") or PNG ("iVBORw0KGgo...") turned into 'A's up to the end of its
// value (a quote or '<'): it then decodes to zeros, and the XML stays well-formed.
int remove_base64_pictures(std::uint8_t* text, std::size_t size);
// Text that leaves the file as it is (a Matroska attachment, a camera's box): the base64 pictures above, every
// data URI's payload (a BMP, a video) and any other run of at least `min_run` base64 characters turned into 'A's.
// Returns how many were removed.
int remove_base64_data(std::uint8_t* text, std::size_t size, std::size_t min_run = 256);

// For verify: where a photo file holds a copy of a picture besides the picture itself, one line each: a JPEG's
// metadata segments (EXIF thumbnail, JFIF thumbnail, pictures in APPn or comments, base64 in XMP, extended
// XMP) and a second picture after its end; a PNG's eXIf and text chunks.
std::vector<std::string> pictures_in_photo_metadata(const std::vector<std::uint8_t>& file);

// The Orientation tag (1-8) of an EXIF block from its TIFF header on; 1 where there is none or the block is
// not EXIF.
int exif_orientation(const std::uint8_t* tiff, std::size_t size);
// The pages of a TIFF file: its IFDs that are not reduced-resolution copies (thumbnails, NewSubfileType bit 0),
// an IFD chain that loops back ending where it does; 0: not a TIFF.
int tiff_pages(const std::uint8_t* tiff, std::size_t size);

// The chunks of a PNG file in order (type and data, CRCs not checked); empty if it is not a PNG.
struct PngChunk {
  std::string type;
  std::vector<std::uint8_t> data;
};
std::vector<PngChunk> png_chunks(const std::vector<std::uint8_t>& png);

// `png` with `chunks` inserted right after IHDR (before PLTE and IDAT, where colour chunks and eXIf must be).
std::vector<std::uint8_t> png_with_chunks(const std::vector<std::uint8_t>& png, const std::vector<PngChunk>& chunks);

}  // namespace roadveil::media
