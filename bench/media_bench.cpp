// What opening a video costs before its first frame: the container and decoder set-up, with and without the
// look for a turn said only by an H.264/HEVC stream (DecodeOptions::find_bitstream_rotation: a second opening
// of the file that decodes its first frame). Needs a real clip: $ROADVEIL_SHARED/eval/videos (default: the
// models folder's sibling, as CI lays out ../shared); skipped without it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "media/input_file.hpp"

namespace {

std::filesystem::path shared_clip(const char* name) {
  if (const char* shared = std::getenv("ROADVEIL_SHARED")) return std::filesystem::path(shared) / "eval/videos" / name;
  if (const char* models = std::getenv("ROADVEIL_MODELS")) return std::filesystem::path(models).parent_path() / "eval/videos" / name;
  return std::filesystem::path("../shared/eval/videos") / name;
}

// Argument 0: open only; 1: open and look for a turn in the bitstream (the default for every input).
void BM_OpenVideo_720pH264(benchmark::State& state) {
  const auto clip = shared_clip("udacity_vehicle_detection_test_video.mp4");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(clip, ec)) {
    state.SkipWithError(("no " + clip.string() + " (set ROADVEIL_SHARED)").c_str());
    return;
  }
  roadveil::media::DecodeOptions options;
  options.find_bitstream_rotation = state.range(0) != 0;
  for (auto _ : state) {
    roadveil::media::InputFile in(clip, options);
    benchmark::DoNotOptimize(in.video().rotation_degrees);
  }
}
BENCHMARK(BM_OpenVideo_720pH264)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
