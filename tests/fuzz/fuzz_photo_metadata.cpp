// A photo's metadata (media/photo_metadata.hpp) and header (media/picture_header.hpp): bytes are a photo whose metadata goes into a JPEG and a PNG
// output (JPEG segments walked and scrubbed of pictures, EXIF parsed, PNG chunks read and written, JFIF
// density copied), scanned as verify scans it, and given to each scrubber as a raw block. The first byte
// picks JPEG or PNG naming and which raw block functions run.
#include <vector>

#include "core/error.hpp"
#include "fuzz_ffmpeg.hpp"
#include "fuzz_input.hpp"
#include "media/ffmpeg_util.hpp"
#include "media/image_file.hpp"
#include "media/photo_metadata.hpp"
#include "media/picture_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  roadveil::fuzz::quiet_ffmpeg_log();
  if (size < 1) return 0;
  const std::uint8_t choice = data[0];
  const std::vector<std::uint8_t> bytes(data + 1, data + size);
  namespace media = roadveil::media;
  (void)media::pictures_in_photo_metadata(bytes);
  (void)media::picture_header(bytes);  // the size a photo's memory is decided by, before it is decoded
  for (const auto& c : media::png_chunks(bytes)) (void)c.type;
  std::vector<std::uint8_t> block = bytes;
  switch (choice % 4) {
    case 0: (void)media::remove_exif_pictures(block.data(), block.size()); (void)media::exif_orientation(bytes.data(), bytes.size()); break;
    case 1: (void)media::remove_binary_pictures(block.data(), block.size()); break;
    case 2: (void)media::remove_base64_pictures(block.data(), block.size()); break;
    default: (void)media::png_with_chunks(bytes, {{"eXIf", block}}); break;
  }
  // The metadata of the fuzzed file carried into a small picture written as JPEG and as PNG.
  const auto source = roadveil::fuzz::write_input(choice & 0x80 ? "source.png" : "source.jpg", roadveil::fuzz::as_view(data + 1, size - 1));
  static const media::FramePtr picture = [] {
    media::FramePtr f = media::make_frame();
    f->format = AV_PIX_FMT_YUVJ420P;
    f->width = 16;
    f->height = 16;
    if (av_frame_get_buffer(f.get(), 0) < 0) std::abort();
    for (int p = 0; p < 3; ++p)
      for (int y = 0; y < (p ? 8 : 16); ++y) std::fill_n(f->data[p] + y * f->linesize[p], p ? 8 : 16, 128);
    return f;
  }();
  for (const char* name : {"out.jpg", "out.png"}) {
    try {
      media::encode_image(*picture, source.parent_path() / name, {}, source);
    } catch (const roadveil::Error&) {
    }
  }
  return 0;
}
