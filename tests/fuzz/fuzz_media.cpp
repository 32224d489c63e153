// Opening, decoding and redacting media: bytes become a file that is opened as a video (demux + decode of at
// most a few frames) or as a photo, and every decoded frame in a supported pixel format gets each redaction
// style on a rect inside, across and outside the frame. The first byte picks video or photo and the style.
#include "core/error.hpp"
#include "fuzz_ffmpeg.hpp"
#include "fuzz_input.hpp"
#include "media/ffmpeg_util.hpp"
#include "media/image_file.hpp"
#include "media/input_file.hpp"
#include "redact/redactor.hpp"

namespace {

void redact_all(roadveil::redact::Redactor& redactor, AVFrame& frame, std::uint8_t choice) {
  if (!roadveil::redact::supports(static_cast<AVPixelFormat>(frame.format))) return;
  if (av_frame_make_writable(&frame) < 0) return;
  roadveil::redact::StyleOptions style;
  style.style = static_cast<roadveil::redact::Style>(choice % 3);
  style.shape = (choice / 3) % 2 ? roadveil::redact::Shape::Ellipse : roadveil::redact::Shape::Box;
  const int w = frame.width, h = frame.height;
  for (const roadveil::PixelRect r : {roadveil::PixelRect{w / 4, h / 4, w / 2 + 1, h / 2 + 1},
                                      roadveil::PixelRect{-3, -3, w + 7, h + 7}, roadveil::PixelRect{w - 1, h - 1, 5, 5},
                                      roadveil::PixelRect{w + 10, 0, 4, 4}})
    redactor.apply(frame, r, style);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  roadveil::fuzz::quiet_ffmpeg_log();
  if (size < 1) return 0;
  const std::uint8_t choice = data[0];
  const bool photo = choice & 0x80;
  const auto path = roadveil::fuzz::write_input(photo ? "input.jpg" : "input.mkv", roadveil::fuzz::as_view(data + 1, size - 1));
  roadveil::redact::Redactor redactor;
  try {
    if (photo) {
      auto frame = roadveil::media::decode_image(path);
      (void)roadveil::media::picture_damage(path);
      redact_all(redactor, *frame, choice);
      return 0;
    }
    roadveil::media::InputFile input(path, {.threads = 1});
    auto frame = roadveil::media::make_frame();
    auto packet = roadveil::media::make_packet();
    int frames = 0, reads = 0;
    for (roadveil::media::ReadResult r; frames < 4 && reads < 256 &&
                                        (r = input.read(frame.get(), packet.get())) != roadveil::media::ReadResult::End;
         ++reads) {
      if (r == roadveil::media::ReadResult::VideoFrame) {
        redact_all(redactor, *frame, choice);
        av_frame_unref(frame.get());
        ++frames;
      } else {
        av_packet_unref(packet.get());
      }
    }
  } catch (const roadveil::Error&) {
  }
  return 0;
}
