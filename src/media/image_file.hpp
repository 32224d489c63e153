#pragma once
// Still images (JPEG, PNG, ...): decoded with FFmpeg like a one-frame video, encoded back in the format the
// output name asks for, with the source JPEG's metadata segments (EXIF, XMP, ICC profile) carried over.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/ffmpeg_util.hpp"

namespace roadveil::media {

bool is_image_path(const std::filesystem::path& p);
bool is_video_path(const std::filesystem::path& p);
// HEIC, HEIF and AVIF photos by their extension: not read (FFmpeg 5.1 has no HEIC decoder).
bool is_heif_path(const std::filesystem::path& p);
// A video roadveil reads and cannot write in its own container (Ogg Theora, MXF, DVD VOB, DV, raw MPEG-2):
// FFmpeg has no encoder for the codec the container needs, or the container takes only broadcast formats.
bool is_read_only_video_path(const std::filesystem::path& p);

// Decodes the first picture of an image file. Throws Error with the file name on failure. With `damage`, says
// there why a picture that decoded is damaged (errors the decoder met and concealed), or leaves it empty.
FramePtr decode_image(const std::filesystem::path& path, std::string* damage = nullptr);
// The EXIF orientation (1-8; 0 or 1: none) a PNG (eXIf chunk), WebP (EXIF chunk) or TIFF (its first IFD) file
// stores; JPEG's FFmpeg reads itself.
int stored_orientation(const std::vector<std::uint8_t>& file);
// A WebP's EXIF chunk from its TIFF header on (empty: none).
std::vector<std::uint8_t> webp_exif(const std::vector<std::uint8_t>& file);
// The smallest EXIF block (TIFF header on) holding only this orientation.
std::vector<std::uint8_t> orientation_exif(int orientation);

// Why a picture that decoded is still damaged, or "" when nothing is known to be wrong: a JPEG that ends
// before its end-of-image marker was cut off (the decoder fills the rest with grey and says nothing).
std::string picture_damage(const std::filesystem::path& path);

// Whether a file is a WebP whose picture is coded losslessly (a VP8L chunk).
bool is_lossless_webp(const std::vector<std::uint8_t>& file);

struct ImageEncodeOptions {
  // 1 (best) .. 31, FFmpeg's MJPEG quantiser; 0: a JPEG photo written as JPEG keeps its own quantisation
  // tables (its quality, about its size), anything else gets kDefaultJpegQscale.
  int jpeg_qscale = 0;
  bool webp_lossless = false;  // a WebP output coded losslessly (as its lossless WebP source was)
};
inline constexpr int kDefaultJpegQscale = 2;  // visually the same as any source

// The quantisation tables of a JPEG's first two components (luma, chroma; the same for a grey one), in
// natural (row by row) order, as its DQT segments give them before the first scan; none where they are
// 16-bit, missing or zero.
struct JpegQuantTables {
  std::array<std::uint16_t, 64> luma{}, chroma{};
};
std::optional<JpegQuantTables> jpeg_quant_tables(const std::uint8_t* data, std::size_t size);

// Decodes one picture from a packet of a stream with these parameters (cover art). Palette and 1-bit pictures
// come unpacked (RGBA, grey), as photos do. Throws Error naming `what`.
FramePtr decode_picture(const AVCodecParameters& parameters, const AVPacket& packet, const std::string& what);

// What bytes hold by their first bytes: a JPEG, PNG, GIF, BMP, WebP or TIFF picture (its codec), whatever a
// container says they are; AV_CODEC_ID_NONE when none of those.
AVCodecID picture_codec_of(const std::uint8_t* data, std::size_t size);

// A stream holding one still picture: cover art (a video stream FFmpeg marks as an attached picture) or a
// Matroska attachment whose bytes are a picture by picture_codec_of, whatever its MIME type says (FFmpeg 5.1
// makes a picture of image/jpeg, png, gif and tiff attachments only: an image/bmp, image/webp, image/jpg or
// application/octet-stream photo was copied as it was). Its codec; AV_CODEC_ID_NONE for other streams.
AVCodecID still_picture_codec(const AVStream& stream);

// The bytes of a still picture stream's picture: an attached picture's packet, an attachment's data.
std::span<const std::uint8_t> still_picture_bytes(const AVStream& stream);

// Decodes the picture of a stream still_picture_codec accepts. Throws Error naming `what`.
FramePtr decode_still_picture(const AVStream& stream, const std::string& what);

// What FFmpeg's MJPEG encoder allocates to make a picture's own Huffman tables (every coefficient's code
// stored first); above kOptimalHuffmanTableBytes (a 4:2:0 picture of 44 megapixels, a 4:4:4 one of 22) a
// JPEG is written with the standard's tables instead, ~8% larger, to keep a large photo's memory near its
// pixels'.
std::uint64_t jpeg_huffman_table_bytes(int width, int height, AVPixelFormat format);
inline constexpr std::uint64_t kOptimalHuffmanTableBytes = std::uint64_t{256} << 20;

// Encodes `frame` as one picture of codec `id` (MJPEG, PNG, ...) and returns the bytes; `what` names it in errors.
// A JPEG is quantised with `tables` where given (and options.jpeg_qscale is 0), else with the quantiser.
std::vector<std::uint8_t> encode_picture(const AVFrame& frame, AVCodecID id, const ImageEncodeOptions& options,
                                         const std::string& what, const JpegQuantTables* tables = nullptr);

// Encodes `frame` into `target` (format from its extension) via a temporary file renamed when complete.
// `metadata_source`: the photo whose metadata goes with the picture (media/photo_metadata.hpp, without the
// pictures inside it): a JPEG's APPn segments (EXIF, XMP, ICC, IPTC) into a JPEG, its EXIF into a PNG as eXIf;
// a PNG's eXIf, text, time and colour chunks into a PNG, its eXIf into a JPEG as APP1. A JPEG from a JPEG
// source is quantised with the source's own tables (unless options.jpeg_qscale says otherwise).
void encode_image(const AVFrame& frame, const std::filesystem::path& target, const ImageEncodeOptions& options,
                  const std::filesystem::path& metadata_source = {});

}  // namespace roadveil::media
