#include "media/image_file.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/atomic_file.hpp"
#include "media/input_file.hpp"
#include "media/photo_metadata.hpp"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace roadveil::media {
namespace {

std::string lower_ext(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// .jfif: what Windows browsers name a saved JPEG.
bool is_jpeg_ext(const std::string& e) { return e == ".jpg" || e == ".jpeg" || e == ".jpe" || e == ".jfif"; }

std::vector<std::uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A segment (from its marker on, `len` its length field) holding (a chunk of) an ICC profile.
bool is_icc_segment(const std::uint8_t* segment, std::size_t len) {
  static const char kIcc[] = "ICC_PROFILE";
  return segment[1] == 0xE2 && len >= 2 + sizeof kIcc && std::equal(kIcc, kIcc + sizeof kIcc - 1, segment + 4);
}

// An EXIF APP1 segment (from its marker on, `len` its length field): "Exif" and two zeros, then a TIFF header.
bool is_exif_segment(const std::uint8_t* segment, std::size_t len) {
  return segment[1] == 0xE1 && len >= 8 && std::memcmp(segment + 4, "Exif\0\0", 6) == 0;
}

// A metadata segment (from its marker on, `len` its length field) with the pictures inside it removed
// (media/photo_metadata.hpp): the EXIF thumbnail and maker-note previews, Photoshop's thumbnail, pictures in
// comments, base64 pictures in XMP. False where the whole segment goes: extended XMP, where phones keep a
// portrait photo's original and its depth map, and the multi-picture index (MPF) of pictures that are not
// copied. `runs_past_end`: a picture inside continues past the segment (Photoshop and FlashPix split large
// blocks over several segments of the same marker).
bool keep_without_pictures(std::uint8_t* segment, std::size_t len, bool& runs_past_end) {
  auto starts = [&](const char* text, std::size_t n) { return len >= 2 + n && std::memcmp(segment + 4, text, n) == 0; };
  const std::uint8_t marker = segment[1];
  if (is_icc_segment(segment, len)) return true;
  // Only the segments whose content roadveil knows go out: EXIF, XMP (not its extension, where phones keep a
  // portrait's original and depth map), Photoshop's IPTC block and comments, each with the pictures in it
  // removed. Any other (a camera's or an app's APP3..APP15, MPF, FlashPix, FLIR's thermal picture) may hold a
  // copy of the photo in a form no search finds (a WebP, GIF or BMP, raw pixels): those went out unchanged and
  // showed every face the picture hides. So did base64 WebP and raw data in XMP.
  const bool exif = is_exif_segment(segment, len);
  const bool xmp = marker == 0xE1 && starts("http://ns.adobe.com/xap/1.0/\0", 29);
  const bool iptc = marker == 0xED && starts("Photoshop 3.0\0", 14);
  const bool comment = marker == 0xFE;
  if (!exif && !xmp && !iptc && !comment) {
    spdlog::debug("a metadata segment (APP{}) that roadveil cannot check for pictures is not copied", marker - 0xE0);
    return false;
  }
  std::uint8_t* payload = segment + 4;
  const std::size_t size = len - 2;
  int removed = 0;
  if (exif) removed += remove_exif_pictures(payload + 6, size - 6);
  else removed += remove_binary_pictures(payload, size, &runs_past_end) + remove_base64_data(payload, size);
  if (removed > 0) spdlog::debug("removed {} picture(s) from a metadata segment (marker {:02X})", removed, marker);
  return true;
}

// APP1..APP15 and COM segments of a JPEG, in order, up to the first SOF/SOS: the metadata, not the picture.
// The segments of a source JPEG that describe the picture rather than its encoding: EXIF, XMP, ICC profile,
// comments. Not Adobe's APP14, which says how the source's components are coded (RGB, CMYK, YCCK): copied into
// the YCbCr JPEG roadveil writes, it made viewers show false colours. Not the ICC profile of a 4-component
// (CMYK/YCCK) source either: a CMYK profile on the YCbCr output is wrong the same way.
std::vector<std::uint8_t> jpeg_metadata_segments(const std::vector<std::uint8_t>& jpeg) {
  std::vector<std::uint8_t> out;
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return out;
  std::vector<JpegSegment> kept;
  int components = 0;
  for (const JpegSegment& s : jpeg_header(jpeg.data(), jpeg.size()).segments) {
    if (s.marker >= 0xC0 && s.marker <= 0xCF && s.marker != 0xC4 && s.marker != 0xC8 && s.marker != 0xCC) {
      if (s.len >= 8) components = jpeg[s.pos + 9];  // SOF: P, Y, X, then Nf
      break;
    }
    const bool adobe = s.marker == 0xEE && s.len >= 7 && std::equal(jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos + 4),
                                                                     jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos + 9), "Adobe");
    if (((s.marker >= 0xE1 && s.marker <= 0xEF) || s.marker == 0xFE) && !adobe) kept.push_back(s);
  }
  int continued_marker = -1;
  bool exif_kept = false;
  for (const JpegSegment& s : kept) {
    if (components == 4 && is_icc_segment(jpeg.data() + s.pos, s.len)) continue;
    // One EXIF block: viewers read the first, FFmpeg the last; the first is what the photo is shown by (and
    // searched by: decode_image), and a second one that says otherwise would turn the output for some tools.
    const bool exif = is_exif_segment(jpeg.data() + s.pos, s.len);
    if (exif && exif_kept) continue;
    exif_kept = exif_kept || exif;
    const std::size_t start = out.size();
    out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos),
               jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos + 2 + s.len));
    // The segments continuing one whose picture ran past its end hold the rest of that picture: dropped.
    if (continued_marker == s.marker) {
      out.resize(start);
      continue;
    }
    bool runs_past_end = false;
    if (!keep_without_pictures(out.data() + start, s.len, runs_past_end)) out.resize(start);
    continued_marker = runs_past_end ? s.marker : -1;
  }
  return out;
}

// The encoder's own header segments (before the first SOF or SOS) that `drop` selects, removed. FFmpeg's MJPEG
// encoder writes the decoder's ICC profile (frame side data) and a "Lavc" comment itself: beside the source's
// copied segments the profile was there twice, and readers that expect one "1 of 1" ICC chunk (PIL) found none.
std::vector<std::uint8_t> without_jpeg_segments(const std::vector<std::uint8_t>& jpeg,
                                                const std::function<bool(const std::uint8_t*, std::size_t)>& drop) {
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return jpeg;
  std::vector<std::uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  size_t pos = 2;
  for (const JpegSegment& s : jpeg_header(jpeg.data(), jpeg.size()).segments) {
    if (s.marker >= 0xC0 && s.marker <= 0xCF) break;
    if (!drop(jpeg.data() + s.pos, s.len))
      out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos), jpeg.begin() + static_cast<std::ptrdiff_t>(s.pos + 2 + s.len));
    pos = s.pos + 2 + s.len;
  }
  out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(pos), jpeg.end());
  return out;
}

// Inserts metadata segments after SOI and the encoder's own APP0 (JFIF) segment.
std::vector<std::uint8_t> insert_jpeg_segments(const std::uint8_t* data, size_t size,
                                               const std::vector<std::uint8_t>& segments) {
  std::vector<std::uint8_t> out;
  size_t pos = 2;
  if (size > 6 && data[2] == 0xFF && data[3] == 0xE0) pos = 4 + ((static_cast<size_t>(data[4]) << 8) | data[5]);
  pos = std::min(pos, size);
  out.reserve(size + segments.size());
  out.insert(out.end(), data, data + pos);
  out.insert(out.end(), segments.begin(), segments.end());
  out.insert(out.end(), data + pos, data + size);
  return out;
}

bool is_png(const std::vector<std::uint8_t>& b) { return b.size() > 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0; }
bool is_jpeg(const std::vector<std::uint8_t>& b) { return b.size() > 3 && b[0] == 0xFF && b[1] == 0xD8; }

// A display matrix for an EXIF orientation, as FFmpeg's MJPEG decoder attaches it to a JPEG's frame (its PNG
// decoder reads no eXIf chunk), so that a PNG stored sideways is searched upright like a JPEG.
void attach_orientation(AVFrame& frame, int orientation) {
  if (orientation < 2 || orientation > 8) return;
  AVFrameSideData* sd = av_frame_new_side_data(&frame, AV_FRAME_DATA_DISPLAYMATRIX, sizeof(std::int32_t) * 9);
  if (!sd) throw std::bad_alloc();
  auto* m = reinterpret_cast<std::int32_t*>(sd->data);
  switch (orientation) {
    case 2: av_display_rotation_set(m, 0.0); av_display_matrix_flip(m, 1, 0); break;
    case 3: av_display_rotation_set(m, 180.0); break;
    case 4: av_display_rotation_set(m, 180.0); av_display_matrix_flip(m, 1, 0); break;
    case 5: av_display_rotation_set(m, -90.0); av_display_matrix_flip(m, 0, 1); break;
    case 6: av_display_rotation_set(m, 90.0); break;
    case 7: av_display_rotation_set(m, 90.0); av_display_matrix_flip(m, 0, 1); break;
    default: av_display_rotation_set(m, -90.0); break;  // 8
  }
}

// Whether any pixel of the picture is less than opaque (an RGBA picture may well be opaque throughout).
bool has_transparency(const AVFrame& frame) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  if (!d || !(d->flags & AV_PIX_FMT_FLAG_ALPHA) || frame.width <= 0) return false;
  const int alpha = d->nb_components - 1;
  // Float or 32-bit alpha is not read as integers here: said to be transparent, which only costs a warning.
  if ((d->flags & AV_PIX_FMT_FLAG_FLOAT) || d->comp[alpha].depth > 16) return true;
  const std::uint32_t opaque = (1u << d->comp[alpha].depth) - 1;
  std::vector<std::uint32_t> line(static_cast<std::size_t>(frame.width));
  for (int y = 0; y < frame.height; ++y) {
    av_read_image_line2(line.data(), const_cast<const std::uint8_t**>(frame.data), frame.linesize, d, 0, y, alpha,
                        frame.width, 0, 4);
    if (std::any_of(line.begin(), line.end(), [&](std::uint32_t a) { return a < opaque; })) return true;
  }
  return false;
}

// The source JPEG's JFIF density (units, horizontal, vertical: "300 dpi") into the encoder's JFIF header, which
// FFmpeg writes from the pixel aspect ratio alone (units 0): a print resolution is the picture's, not its coding.
void keep_jfif_density(const std::vector<std::uint8_t>& source, std::vector<std::uint8_t>& out) {
  // SOI, then APP0 "JFIF\0", version (2 bytes), units, Xdensity, Ydensity (2 bytes each).
  auto jfif = [](const std::vector<std::uint8_t>& b) {
    return b.size() >= 20 && b[2] == 0xFF && b[3] == 0xE0 && ((std::size_t{b[4]} << 8) | b[5]) >= 16 &&
           std::memcmp(b.data() + 6, "JFIF\0", 5) == 0;
  };
  if (!jfif(source) || !jfif(out) || source[13] == 0) return;  // units 0: an aspect ratio, as the encoder writes
  std::copy(source.begin() + 13, source.begin() + 18, out.begin() + 13);
}

// The EXIF block (from its TIFF header on) among a JPEG's copied metadata segments, or empty.
std::vector<std::uint8_t> exif_of_segments(const std::vector<std::uint8_t>& segments) {
  for (const auto& [marker, pos, len] : jpeg_header(segments.data(), segments.size(), 0).segments)
    if (is_exif_segment(segments.data() + pos, len))
      return {segments.begin() + static_cast<std::ptrdiff_t>(pos + 10), segments.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len)};
  return {};
}

// The chunks of a source PNG that describe the picture, not its encoding, for a PNG output that lacks them:
// EXIF (its orientation), text (XMP in iTXt), time, colour (gAMA, cHRM, sRGB unless the output has an ICC
// profile), without pictures. Compressed text (zTXt, compressed iTXt) and ImageMagick's hex-coded "Raw profile"
// text are left out: what they hold cannot be checked for pictures.
std::vector<PngChunk> png_metadata_chunks(const std::vector<std::uint8_t>& source, const std::vector<std::uint8_t>& output) {
  std::vector<std::string> present;
  for (const PngChunk& c : png_chunks(output)) present.push_back(c.type);
  auto has = [&](const std::string& type) { return std::find(present.begin(), present.end(), type) != present.end(); };
  std::vector<PngChunk> out;
  for (PngChunk& c : png_chunks(source)) {
    // One of each, but text: a second eXIf or gAMA would make an invalid PNG.
    if (c.type != "tEXt" && c.type != "iTXt" &&
        std::any_of(out.begin(), out.end(), [&](const PngChunk& o) { return o.type == c.type; }))
      continue;
    const bool text = c.type == "tEXt" || c.type == "iTXt";
    const bool colour = c.type == "gAMA" || c.type == "cHRM" || (c.type == "sRGB" && !has("iCCP"));
    if (!(c.type == "eXIf" || c.type == "tIME" || text || colour) || (!text && has(c.type))) continue;
    if (text) {
      const auto nul = std::find(c.data.begin(), c.data.end(), std::uint8_t{0});
      const std::string keyword(c.data.begin(), nul);
      if (keyword.rfind("Raw profile", 0) == 0 || nul == c.data.end()) continue;
      if (c.type == "iTXt" && (nul + 1 == c.data.end() || nul[1] != 0)) continue;  // compressed
      // Any long base64 (a WebP or raw pixels), not only JPEG/PNG; and a picture's own bytes, which an iTXt
      // holds as readily as text (verify found one that anonymize had kept).
      remove_binary_pictures(c.data.data(), c.data.size());
      remove_base64_data(c.data.data(), c.data.size());
    }
    if (c.type == "eXIf") remove_exif_pictures(c.data.data(), c.data.size());
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

bool is_image_path(const std::filesystem::path& p) {
  static const std::array<const char*, 10> exts = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm"};
  const std::string e = lower_ext(p);
  return std::find(exts.begin(), exts.end(), e) != exts.end();
}

bool is_heif_path(const std::filesystem::path& p) {
  const std::string e = lower_ext(p);
  return e == ".heic" || e == ".heif" || e == ".avif";
}

bool is_video_path(const std::filesystem::path& p) {
  // .gif: a GIF is read and written as a video (one or more frames, its timing kept); a folder run left it out
  // while the same file given alone was anonymized.
  static const std::array<const char*, 21> exts = {".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm", ".ts",
                                                   ".mts", ".m2ts", ".mpg", ".mpeg", ".3gp", ".3g2", ".flv",
                                                   ".wmv", ".ogv", ".mxf", ".vob", ".dv", ".m2v", ".gif"};
  const std::string e = lower_ext(p);
  return std::find(exts.begin(), exts.end(), e) != exts.end();
}

bool is_read_only_video_path(const std::filesystem::path& p) {
  static const std::array<const char*, 5> exts = {".ogv", ".mxf", ".vob", ".dv", ".m2v"};
  const std::string e = lower_ext(p);
  return std::find(exts.begin(), exts.end(), e) != exts.end();
}


std::vector<std::uint8_t> webp_exif(const std::vector<std::uint8_t>& file) {
  if (file.size() < 12 || std::memcmp(file.data(), "RIFF", 4) != 0 || std::memcmp(file.data() + 8, "WEBP", 4) != 0) return {};
  for (std::size_t at = 12; at + 8 <= file.size();) {
    const std::size_t size = file[at + 4] | (file[at + 5] << 8) | (file[at + 6] << 16) | (std::size_t{file[at + 7]} << 24);
    if (size > file.size() - at - 8) return {};
    if (std::memcmp(file.data() + at, "EXIF", 4) == 0) {
      std::size_t from = at + 8;
      // Some writers put JPEG's "Exif\0\0" before the TIFF header, as in an APP1 segment.
      if (size >= 6 && std::memcmp(file.data() + from, "Exif\0\0", 6) == 0) from += 6;
      return {file.begin() + static_cast<std::ptrdiff_t>(from), file.begin() + static_cast<std::ptrdiff_t>(at + 8 + size)};
    }
    at += 8 + size + (size & 1);
  }
  return {};
}

int stored_orientation(const std::vector<std::uint8_t>& file) {
  if (is_png(file)) {
    for (const PngChunk& c : png_chunks(file))
      if (c.type == "eXIf") return exif_orientation(c.data.data(), c.data.size());
    return 0;
  }
  if (const std::vector<std::uint8_t> exif = webp_exif(file); !exif.empty()) return exif_orientation(exif.data(), exif.size());
  // A TIFF file is itself a TIFF header and IFDs: its first IFD's orientation tag is the picture's (anything
  // else has no TIFF header: 1).
  return exif_orientation(file.data(), file.size());
}

std::vector<std::uint8_t> orientation_exif(int orientation) {
  if (orientation < 1 || orientation > 8) return {};
  // Big-endian TIFF header, IFD0 at 8 with one entry (tag 274, SHORT, count 1, the value), no next IFD.
  return {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, static_cast<std::uint8_t>(orientation), 0, 0, 0, 0, 0, 0};
}

bool is_lossless_webp(const std::vector<std::uint8_t>& file) {
  if (file.size() < 20 || std::memcmp(file.data(), "RIFF", 4) != 0 || std::memcmp(file.data() + 8, "WEBP", 4) != 0) return false;
  // The chunks after the header: a lossless picture is a VP8L chunk (alone, or after VP8X's), a lossy one VP8.
  for (std::size_t pos = 12; pos + 8 <= file.size();) {
    const std::size_t size = file[pos + 4] | (file[pos + 5] << 8) | (file[pos + 6] << 16) | (std::size_t{file[pos + 7]} << 24);
    if (std::memcmp(file.data() + pos, "VP8L", 4) == 0) return true;
    if (std::memcmp(file.data() + pos, "VP8 ", 4) == 0) return false;
    pos += 8 + size + (size & 1);
  }
  return false;
}

FramePtr decode_image(const std::filesystem::path& path, std::string* damage) {
  InputFile input(path);
  FramePtr frame = make_frame();
  PacketPtr packet = make_packet();
  for (;;) {
    const ReadResult r = input.read(frame.get(), packet.get());
    ReadResult r2 = ReadResult::End;
    if (r == ReadResult::VideoFrame) {
      // An animated PNG, or a video under a photo's name, has more pictures than the one a photo output keeps:
      // its other frames (and its sound) would be lost, as they were, silently. Only a video output keeps them.
      // Pictures read by an image demuxer ("image2", "jpeg_pipe"...) are not counted: a phone's JPEG may
      // carry a second picture after the first (a multi-picture preview or depth map), which is not a video.
      const std::string_view demuxer = input.format_context()->iformat->name;
      const bool image_demuxer = demuxer == "image2" || demuxer.ends_with("_pipe");
      if (!image_demuxer) {
        FramePtr next = make_frame();
        while ((r2 = input.read(next.get(), packet.get())) == ReadResult::Packet) av_packet_unref(packet.get());
      }
      if (r2 == ReadResult::VideoFrame) {
        if (demuxer == "apng")
          throw Error(path.string() + ": an animated PNG (more than one frame); roadveil writes photos with one "
                      "picture: make it a video first (ffmpeg -i " + path.filename().string() +
                      " -c:v libx264 -pix_fmt yuv444p animation.mkv) and anonymize that");
        throw Error(path.string() + ": a video (" + input.format_context()->iformat->name + ", more than one frame) under "
                    "a photo's name; roadveil writes photos with one picture: rename it to the video's own extension "
                    "(e.g. .mp4) and anonymize that");
      }
      // The decoder's own errors, concealed ones included (damaged JPEG scan data decodes with no error: the
      // MJPEG decoder says so only in its log, which InputFile counts).
      if (damage && input.decode_errors() > 0) *damage = "the image data is damaged (the decoder concealed errors)";
      const AVCodecID codec = input.decoder()->codec_id;
      if (codec == AV_CODEC_ID_PNG || codec == AV_CODEC_ID_WEBP || codec == AV_CODEC_ID_TIFF) {
        const std::vector<std::uint8_t> file = read_all(path);
        // A multi-page TIFF (a scan, a fax) decodes as its first page: the others would be lost, and verify
        // would pass faces on them. Reduced-resolution copies (thumbnails) are no pages: they are not written.
        if (const int pages = codec == AV_CODEC_ID_TIFF ? tiff_pages(file.data(), file.size()) : 0; pages > 1)
          throw Error(path.string() + ": a TIFF of " + std::to_string(pages) + " pages; roadveil writes photos with one "
                      "picture: split it into one file per page (tiffsplit, or convert " + path.filename().string() +
                      " page-%d.tif) and anonymize those");
        // FFmpeg 5.1 turns only a JPEG's EXIF orientation into a display matrix: a PNG's eXIf chunk, a WebP's
        // EXIF chunk and a TIFF's own orientation tag are read here (a sideways WebP or TIFF was searched as
        // stored: 7 of a street photo's 15 faces found, the rest left visible).
        if (!av_frame_get_side_data(frame.get(), AV_FRAME_DATA_DISPLAYMATRIX)) attach_orientation(*frame, stored_orientation(file));
      }
      // A JPEG with two EXIF blocks that disagree: FFmpeg's decoder turns it by the last, viewers (browsers,
      // libexif, exiftool) by the first. Searched by the last, a photo shown turned kept 3 of its 4 faces
      // visible, and verify passed it. The first decides, as for viewers; the output keeps only that one.
      if (codec == AV_CODEC_ID_MJPEG) {
        const std::vector<std::uint8_t> file = read_all(path);
        std::vector<JpegSegment> exif;
        for (const JpegSegment& s : jpeg_header(file.data(), file.size()).segments)
          if (is_exif_segment(file.data() + s.pos, s.len)) exif.push_back(s);
        if (exif.size() > 1) {
          av_frame_remove_side_data(frame.get(), AV_FRAME_DATA_DISPLAYMATRIX);
          attach_orientation(*frame, exif_orientation(file.data() + exif.front().pos + 10, exif.front().len - 8));
        }
      }
      // Palette and 1-bit pictures arrive unpacked (RGBA, grey) from InputFile, and are written back so.
      return frame;
    }
    if (r == ReadResult::End) throw Error(path.string() + ": no picture could be decoded (corrupt or truncated image)");
  }
}

std::string picture_damage(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> data = read_all(path);
  if (data.size() < 4 || data[0] != 0xFF || data[1] != 0xD8) return "";  // not a JPEG
  // Walk the marker segments to the first start of scan of the picture itself (an EXIF thumbnail inside
  // APP1 has its own markers), then look for the end-of-image marker after it. Data a camera appends after
  // the marker (a motion photo's video) is no damage; a file that stops inside the scan is.
  const JpegHeader header = jpeg_header(data.data(), data.size());
  if (header.stop == JpegHeader::Stop::Unknown) return "";  // not a layout we know: say nothing rather than guess
  const std::size_t pos = header.stop == JpegHeader::Stop::Truncated ? data.size() : header.stop_pos;
  for (std::size_t i = pos; i + 1 < data.size(); ++i)
    if (data[i] == 0xFF && data[i + 1] == 0xD9) return "";
  return "the JPEG ends before its end-of-image marker (truncated?)";
}

FramePtr decode_picture(const AVCodecParameters& parameters, const AVPacket& packet, const std::string& what) {
  const AVCodec* codec = avcodec_find_decoder(parameters.codec_id);
  if (!codec) throw Error(what + ": no decoder for " + avcodec_get_name(parameters.codec_id));
  CodecContextPtr dec(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec.get(), &parameters);
  dec->thread_count = 1;
  int err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) throw Error(what + ": cannot open the " + codec->name + " decoder (" + av_error_text(err) + ")");
  FramePtr frame = make_frame();
  err = avcodec_send_packet(dec.get(), &packet);
  if (err >= 0) avcodec_send_packet(dec.get(), nullptr);
  if (err < 0 || avcodec_receive_frame(dec.get(), frame.get()) < 0)
    throw Error(what + ": the picture cannot be decoded (" + av_error_text(err) + ")");
  const auto source = static_cast<AVPixelFormat>(frame->format);
  if (const AVPixelFormat target = unpacked_format(source); target != source) {
    FramePtr unpacked = make_frame();
    unpacked->format = target;
    unpacked->width = frame->width;
    unpacked->height = frame->height;
    SwsContext* sws = sws_getContext(frame->width, frame->height, source, frame->width, frame->height, target, SWS_POINT,
                                     nullptr, nullptr, nullptr);
    const char* name = av_get_pix_fmt_name(source);
    if (!sws || av_frame_get_buffer(unpacked.get(), 0) < 0) {
      sws_freeContext(sws);
      throw Error(what + ": cannot unpack its " + (name ? name : "?") + " picture");
    }
    const int rows = sws_scale(sws, frame->data, frame->linesize, 0, frame->height, unpacked->data, unpacked->linesize);
    sws_freeContext(sws);
    if (rows != frame->height) throw Error(what + ": cannot unpack its " + (name ? name : "?") + " picture");
    av_frame_copy_props(unpacked.get(), frame.get());
    return unpacked;
  }
  return frame;
}

AVCodecID picture_codec_of(const std::uint8_t* d, std::size_t n) {
  auto starts = [&](const char* magic, std::size_t at = 0) {
    const std::size_t len = std::strlen(magic);
    return n >= at + len && std::memcmp(d + at, magic, len) == 0;
  };
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return AV_CODEC_ID_MJPEG;
  if (starts("\x89PNG\r\n\x1a\n")) return AV_CODEC_ID_PNG;
  if (starts("GIF87a") || starts("GIF89a")) return AV_CODEC_ID_GIF;
  if (starts("RIFF") && starts("WEBP", 8)) return AV_CODEC_ID_WEBP;
  if (n >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) || (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)))
    return AV_CODEC_ID_TIFF;
  // BMP: "BM", then the file size, two reserved zeros and a pixel offset inside the file.
  if (starts("BM") && n >= 26) {
    const std::uint32_t offset = d[10] | (d[11] << 8) | (d[12] << 16) | (std::uint32_t{d[13]} << 24);
    const std::uint32_t header = d[14] | (d[15] << 8) | (d[16] << 16) | (std::uint32_t{d[17]} << 24);
    if (d[6] == 0 && d[7] == 0 && d[8] == 0 && d[9] == 0 && offset >= 26 && offset < n && header >= 12 && header <= 124)
      return AV_CODEC_ID_BMP;
  }
  return AV_CODEC_ID_NONE;
}

AVCodecID still_picture_codec(const AVStream& stream) {
  const AVCodecParameters& par = *stream.codecpar;
  if (par.codec_type == AVMEDIA_TYPE_VIDEO && (stream.disposition & AV_DISPOSITION_ATTACHED_PIC)) return par.codec_id;
  if (par.codec_type == AVMEDIA_TYPE_ATTACHMENT && par.extradata_size > 0)
    return picture_codec_of(par.extradata, static_cast<std::size_t>(par.extradata_size));
  return AV_CODEC_ID_NONE;
}

std::span<const std::uint8_t> still_picture_bytes(const AVStream& stream) {
  const bool attachment = stream.codecpar->codec_type == AVMEDIA_TYPE_ATTACHMENT;
  const std::uint8_t* data = attachment ? stream.codecpar->extradata : stream.attached_pic.data;
  const int size = attachment ? stream.codecpar->extradata_size : stream.attached_pic.size;
  return data && size > 0 ? std::span<const std::uint8_t>(data, static_cast<std::size_t>(size)) : std::span<const std::uint8_t>();
}

FramePtr decode_still_picture(const AVStream& stream, const std::string& what) {
  if (stream.codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT) return decode_picture(*stream.codecpar, stream.attached_pic, what);
  const AVCodecID codec = still_picture_codec(stream);
  std::unique_ptr<AVCodecParameters, void (*)(AVCodecParameters*)> par(avcodec_parameters_alloc(),
                                                                       [](AVCodecParameters* p) { avcodec_parameters_free(&p); });
  PacketPtr packet = make_packet();
  const std::span<const std::uint8_t> bytes = still_picture_bytes(stream);
  if (!par || av_new_packet(packet.get(), static_cast<int>(bytes.size())) < 0) throw std::bad_alloc();
  par->codec_type = AVMEDIA_TYPE_VIDEO;
  par->codec_id = codec;
  std::copy(bytes.begin(), bytes.end(), packet->data);
  packet->flags |= AV_PKT_FLAG_KEY;
  return decode_picture(*par, *packet, what);
}

std::optional<JpegQuantTables> jpeg_quant_tables(const std::uint8_t* data, std::size_t size) {
  // Where each zig-zag position of a DQT segment lies in the 8x8 block, row by row.
  static constexpr std::array<std::uint8_t, 64> kZigzag = {
      0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
      41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
      30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return std::nullopt;
  const JpegHeader header = jpeg_header(data, size);
  if (header.stop != JpegHeader::Stop::Scan) return std::nullopt;
  std::array<std::optional<std::array<std::uint16_t, 64>>, 4> defined;
  std::vector<int> component_tables;
  for (const JpegSegment& s : header.segments) {
    const std::uint8_t* body = data + s.pos + 4;
    const std::size_t length = s.len >= 2 ? s.len - 2 : 0;
    if (s.marker == 0xDB) {
      for (std::size_t at = 0; at < length;) {
        const int precision = body[at] >> 4, id = body[at] & 15;
        const std::size_t bytes = precision == 0 ? 64 : 128;
        if (id > 3 || at + 1 + bytes > length) return std::nullopt;
        if (precision != 0) {
          defined[static_cast<std::size_t>(id)].reset();  // 16-bit: FFmpeg's encoder writes 8-bit tables only
        } else {
          std::array<std::uint16_t, 64> natural{};
          for (std::size_t k = 0; k < 64; ++k) natural[kZigzag[k]] = body[at + 1 + k];
          defined[static_cast<std::size_t>(id)] = natural;
        }
        at += 1 + bytes;
      }
    }
    // Start of frame (not DHT C4, JPG C8, DAC CC): its components name their tables. A 12-bit picture's
    // tables step 12-bit samples: on the 8-bit ones written they would be 16 times too coarse.
    const bool frame_start = s.marker >= 0xC0 && s.marker <= 0xCF && s.marker != 0xC4 && s.marker != 0xC8 && s.marker != 0xCC;
    if (frame_start && length >= 6) {
      if (body[0] != 8) return std::nullopt;
      const std::size_t components = body[5];
      if (length < 6 + 3 * components) return std::nullopt;
      component_tables.clear();
      for (std::size_t c = 0; c < components; ++c) component_tables.push_back(body[6 + 3 * c + 2]);
    }
  }
  // Tables are those defined before the first scan: a sequential picture with a scan per component may
  // define (or redefine) a later component's table between scans; then there is none (quantiser 2), or an
  // earlier one that only costs size or quality, never privacy.
  if (component_tables.empty()) return std::nullopt;
  auto table = [&](std::size_t component) -> const std::optional<std::array<std::uint16_t, 64>>& {
    const int id = component_tables[component];
    static const std::optional<std::array<std::uint16_t, 64>> none;
    return id >= 0 && id <= 3 ? defined[static_cast<std::size_t>(id)] : none;
  };
  const auto& luma = table(0);
  if (!luma) return std::nullopt;
  // The output's two chroma components share a table: the finest of the source's others (Cb's and Cr's may
  // differ), position by position; a grey picture's is its only table.
  std::array<std::uint16_t, 64> chroma = *luma;
  if (component_tables.size() > 1) {
    chroma.fill(0xFFFF);
    for (std::size_t c = 1; c < component_tables.size(); ++c) {
      const auto& t = table(c);
      if (!t) return std::nullopt;
      for (std::size_t i = 0; i < 64; ++i) chroma[i] = std::min(chroma[i], (*t)[i]);
    }
  }
  for (std::size_t i = 0; i < 64; ++i)
    if ((*luma)[i] == 0 || chroma[i] == 0) return std::nullopt;
  return JpegQuantTables{*luma, chroma};
}

std::uint64_t jpeg_huffman_table_bytes(int width, int height, AVPixelFormat format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  if (!d || width <= 0 || height <= 0) return 0;
  // Per 16x16 macroblock: four luma blocks and the chroma blocks its subsampling leaves (two at 4:2:0).
  const int chroma_blocks = d->nb_components < 3 ? 0 : 2 * (4 >> (d->log2_chroma_w + d->log2_chroma_h));
  const std::uint64_t macroblocks = static_cast<std::uint64_t>((width + 15) / 16) * static_cast<std::uint64_t>((height + 15) / 16);
  return macroblocks * static_cast<std::uint64_t>(4 + chroma_blocks) * 64 * 4;
}

std::vector<std::uint8_t> encode_picture(const AVFrame& frame, AVCodecID id, const ImageEncodeOptions& options,
                                         const std::string& what, const JpegQuantTables* tables) {
  const bool jpeg = id == AV_CODEC_ID_MJPEG;
  const AVCodec* codec = avcodec_find_encoder(id);
  if (!codec) throw Error(what + ": no encoder for " + avcodec_get_name(id) + " in this FFmpeg build");
  CodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) throw std::bad_alloc();
  // FFmpeg 5.1's avcodec_free_context frees intra_matrix but not chroma_intra_matrix (LeakSanitizer: 128
  // bytes a JPEG): freed here, before the context (av_freep leaves nothing for a later FFmpeg to free twice).
  struct FreeChromaMatrix {
    AVCodecContext* context;
    ~FreeChromaMatrix() { av_freep(&context->chroma_intra_matrix); }
  } free_chroma_matrix{enc.get()};
  const auto src_fmt = static_cast<AVPixelFormat>(frame.format);
  AVPixelFormat fmt = src_fmt;
  bool supported = false;
  for (const AVPixelFormat* p = codec->pix_fmts; p && *p != AV_PIX_FMT_NONE; ++p) supported |= *p == src_fmt;
  if (!supported && codec->pix_fmts) fmt = avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, src_fmt, 0, nullptr);
  // A grey picture (a night or infrared camera's, a scan) into JPEG, which FFmpeg writes with three
  // components: the best format by loss was 4:4:4, four times the samples of constant chroma, where 4:2:0
  // loses nothing (there is no colour): a grey 1080p test card, `roadveil anonymize grey.png -o grey.jpg`, 83,695 -> 71,004 bytes.
  const AVPixFmtDescriptor* src_desc = av_pix_fmt_desc_get(src_fmt);
  if (jpeg && !supported && src_desc && !(src_desc->flags & AV_PIX_FMT_FLAG_RGB) &&
      src_desc->nb_components - ((src_desc->flags & AV_PIX_FMT_FLAG_ALPHA) ? 1 : 0) == 1)
    fmt = AV_PIX_FMT_YUVJ420P;
  enc->width = frame.width;
  enc->height = frame.height;
  enc->pix_fmt = fmt;
  enc->time_base = {1, 25};
  enc->color_range = jpeg ? AVCOL_RANGE_JPEG : frame.color_range;
  enc->sample_aspect_ratio = frame.sample_aspect_ratio;
  if (jpeg) {
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    int qscale = options.jpeg_qscale > 0 ? options.jpeg_qscale : kDefaultJpegQscale;
    if (tables && options.jpeg_qscale == 0) {
      // The source's own tables: FFmpeg's MJPEG encoder quantises with (matrix * quantiser) / 8 and writes
      // that as the file's tables, so at quantiser 8 they are the source's (but the DC step, which it fixes
      // at 8). Re-encoding a photo on the grid it was quantised on loses next to nothing more and keeps its
      // size: a 1080p dashcam JPEG of 314,673 bytes (`roadveil anonymize --no-faces --no-plates`) became
      // 365,732 at quantiser 2 and 310,902 with its own tables, 55.9 dB PSNR against the source.
      auto matrix = [](const std::array<std::uint16_t, 64>& table) {
        auto* m = static_cast<std::uint16_t*>(av_malloc(64 * sizeof(std::uint16_t)));  // freed with the context or above
        if (!m) throw std::bad_alloc();
        std::copy(table.begin(), table.end(), m);
        return m;
      };
      enc->intra_matrix = matrix(tables->luma);
      enc->chroma_intra_matrix = matrix(tables->chroma);
      qscale = 8;
    }
    enc->global_quality = FF_QP2LAMBDA * std::clamp(qscale, 1, 31);
    enc->qmin = 1;  // FFmpeg's default floor, 2, would turn a quantiser of 1 into 2
    enc->qmax = 31;
    enc->strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL;  // limited-range YUV input is fine for us
    // FFmpeg 5.1's MJPEG encoder makes Huffman tables for each picture (smaller files: a 1080p photo 9% smaller
    // than with the standard's tables) by first storing every coefficient's code: 4 bytes for each of the 64
    // coefficients of every block, 6 bytes a pixel at 4:2:0 and 12 at 4:4:4, allocated whole when it opens
    // (1.1 GB for a 183-megapixel photo, more than the picture itself). Above what a phone's photo needs,
    // the standard's tables.
    if (jpeg_huffman_table_bytes(frame.width, frame.height, fmt) > kOptimalHuffmanTableBytes)
      av_opt_set(enc->priv_data, "huffman", "default", 0);
  }
  if (id == AV_CODEC_ID_WEBP && options.webp_lossless) av_opt_set_int(enc->priv_data, "lossless", 1, 0);
  int err = avcodec_open2(enc.get(), codec, nullptr);
  if (err < 0) throw Error(what + ": cannot open the image encoder (" + av_error_text(err) + ")");

  FramePtr converted;
  const AVFrame* send = &frame;
  if (fmt != src_fmt) {
    converted = make_frame();
    converted->format = fmt;
    converted->width = frame.width;
    converted->height = frame.height;
    if (av_frame_get_buffer(converted.get(), 0) < 0) throw Error(what + ": out of memory");
    SwsContext* sws = sws_getContext(frame.width, frame.height, src_fmt, frame.width, frame.height, fmt,
                                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
    if (!sws) throw Error(what + ": cannot convert the picture for the encoder");
    sws_scale(sws, frame.data, frame.linesize, 0, frame.height, converted->data, converted->linesize);
    sws_freeContext(sws);
    // The picture's properties go with it, its colour profile among them (a JPEG written as PNG lost its ICC
    // profile, and a PNG written as JPEG its iCCP: colours shifted in colour-managed viewers). A profile of
    // another colour space than the converted picture's (CMYK) would be wrong on it: dropped.
    av_frame_copy_props(converted.get(), &frame);
    if (const AVFrameSideData* icc = av_frame_get_side_data(converted.get(), AV_FRAME_DATA_ICC_PROFILE))
      if (icc->size < 20 || (std::memcmp(icc->data + 16, "RGB ", 4) != 0 && std::memcmp(icc->data + 16, "GRAY", 4) != 0))
        av_frame_remove_side_data(converted.get(), AV_FRAME_DATA_ICC_PROFILE);
    send = converted.get();
  }
  FramePtr copy = make_frame();
  av_frame_ref(copy.get(), send);
  copy->pts = 0;
  // The quantiser an encoder with a fixed one takes is the frame's (fftools sets it so): left at 0, every JPEG
  // was written at FFmpeg's floor, 2, whatever --jpeg-quality said (1, 10, 31: the same 365,732 bytes).
  copy->quality = enc->global_quality;
  err = avcodec_send_frame(enc.get(), copy.get());
  if (err >= 0) err = avcodec_send_frame(enc.get(), nullptr);
  PacketPtr pkt = make_packet();
  std::vector<std::uint8_t> bytes;
  while ((err = avcodec_receive_packet(enc.get(), pkt.get())) >= 0) {
    bytes.insert(bytes.end(), pkt->data, pkt->data + pkt->size);
    av_packet_unref(pkt.get());
  }
  if (bytes.empty()) throw Error(what + ": encoding the image failed");
  return bytes;
}

void encode_image(const AVFrame& frame, const std::filesystem::path& target, const ImageEncodeOptions& options,
                  const std::filesystem::path& metadata_source) {
  const std::string ext = lower_ext(target);
  const bool jpeg = is_jpeg_ext(ext);
  const AVCodecID id = jpeg              ? AV_CODEC_ID_MJPEG
                       : ext == ".png"   ? AV_CODEC_ID_PNG
                       : ext == ".bmp"   ? AV_CODEC_ID_BMP
                       : (ext == ".tif" || ext == ".tiff") ? AV_CODEC_ID_TIFF
                       : ext == ".webp"  ? AV_CODEC_ID_WEBP
                       : ext == ".ppm"   ? AV_CODEC_ID_PPM
                                         : AV_CODEC_ID_NONE;
  if (id == AV_CODEC_ID_NONE) throw Error(target.string() + ": unsupported image extension (use .jpg, .png, .webp, .tif, .bmp or .ppm; .jpg and .png keep the metadata)");
  // Only JPEG and PNG outputs carry the source's metadata, its orientation included: a photo shown turned or
  // mirrored (an EXIF orientation) written as .webp, .tif, .bmp or .ppm showed sideways, exit 0. Refused, as
  // a video whose container cannot store its rotation is.
  if (id != AV_CODEC_ID_MJPEG && id != AV_CODEC_ID_PNG)
    if (const AVFrameSideData* sd = av_frame_get_side_data(&frame, AV_FRAME_DATA_DISPLAYMATRIX); sd && sd->size >= 9 * sizeof(std::int32_t)) {
      const auto* m = reinterpret_cast<const std::int32_t*>(sd->data);
      if (m[0] != m[4] || m[0] <= 0 || m[1] != 0 || m[3] != 0)
        throw Error(target.string() + ": the photo is shown turned or mirrored (its EXIF orientation) and " + ext +
                    " keeps no orientation: it would show wrongly. Write .jpg or .png, which keep it");
    }
  const std::vector<std::uint8_t> source = metadata_source.empty() ? std::vector<std::uint8_t>{} : read_all(metadata_source);
  const std::optional<JpegQuantTables> tables =
      jpeg && options.jpeg_qscale == 0 && is_jpeg(source) ? jpeg_quant_tables(source.data(), source.size()) : std::nullopt;
  // A lossless WebP stays lossless (it came back lossy: 280 KB to 25 KB, 3.4 levels off outside every region).
  ImageEncodeOptions encode = options;
  encode.webp_lossless = id == AV_CODEC_ID_WEBP && is_lossless_webp(source);
  std::vector<std::uint8_t> bytes = encode_picture(frame, id, encode, target.string(), tables ? &*tables : nullptr);
  // A transparent picture written where there is no transparency (a PNG with alpha into JPEG) is opaque.
  if (id != AV_CODEC_ID_PNG && id != AV_CODEC_ID_WEBP && id != AV_CODEC_ID_TIFF && has_transparency(frame))
    spdlog::warn("{}: the picture's transparency is dropped ({} holds none): write .png to keep it", target.string(),
                 ext);
  // What the source's metadata says about the picture goes with it, from JPEG or PNG into JPEG or PNG: an EXIF
  // orientation must still apply to the stored pixels written (a sideways JPEG into PNG played sideways).
  if (jpeg && (is_jpeg(source) || is_png(source))) {
    std::vector<std::uint8_t> segments;
    if (is_jpeg(source)) {
      segments = jpeg_metadata_segments(source);
    } else {
      for (PngChunk& c : png_chunks(source)) {
        if (c.type != "eXIf" || c.data.size() + 8 > 0xFFFF) continue;
        remove_exif_pictures(c.data.data(), c.data.size());
        const std::size_t len = c.data.size() + 8;
        segments = {0xFF, 0xE1, std::uint8_t(len >> 8), std::uint8_t(len), 'E', 'x', 'i', 'f', 0, 0};
        segments.insert(segments.end(), c.data.begin(), c.data.end());
      }
    }
    // The source's segments decide the profile and the comments: the encoder's ICC copy goes (also where the
    // source's was not copied, a CMYK profile that does not describe the YCbCr output), and its own comment
    // where the source has comments of its own.
    bool source_comments = false;
    for (const JpegSegment& s : jpeg_header(segments.data(), segments.size(), 0).segments)
      source_comments = source_comments || s.marker == 0xFE;
    if (is_jpeg(source))
      bytes = without_jpeg_segments(bytes, [&](const std::uint8_t* segment, std::size_t len) {
        return is_icc_segment(segment, len) || (source_comments && segment[1] == 0xFE);
      });
    if (!segments.empty()) bytes = insert_jpeg_segments(bytes.data(), bytes.size(), segments);
    if (is_jpeg(source)) keep_jfif_density(source, bytes);
  } else if (id == AV_CODEC_ID_PNG && is_png(source)) {
    bytes = png_with_chunks(bytes, png_metadata_chunks(source, bytes));
  } else if (id == AV_CODEC_ID_PNG && is_jpeg(source)) {
    const std::vector<std::uint8_t> exif = exif_of_segments(jpeg_metadata_segments(source));
    if (!exif.empty()) bytes = png_with_chunks(bytes, {{"eXIf", exif}});
  }
  // From a WebP or TIFF (whose metadata is not carried), the orientation alone, so that the stored pixels
  // written still show upright.
  if ((jpeg || id == AV_CODEC_ID_PNG) && !source.empty() && !is_jpeg(source) && !is_png(source))
    if (const int orientation = stored_orientation(source); orientation > 1) {
      const std::vector<std::uint8_t> exif = orientation_exif(orientation);
      if (jpeg) {
        const std::size_t len = exif.size() + 8;
        std::vector<std::uint8_t> segment = {0xFF, 0xE1, std::uint8_t(len >> 8), std::uint8_t(len), 'E', 'x', 'i', 'f', 0, 0};
        segment.insert(segment.end(), exif.begin(), exif.end());
        bytes = insert_jpeg_segments(bytes.data(), bytes.size(), segment);
      } else {
        bytes = png_with_chunks(bytes, {{"eXIf", exif}});
      }
    }
  write_file_atomically(
      target,
      [&](std::ostream& out) { out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())); },
      "image");
}

}  // namespace roadveil::media
