// The regions file (--detections output, --regions input of render/verify/review/review-queue).
#include "core/error.hpp"
#include "fuzz_input.hpp"
#include "pipeline/regions_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = roadveil::fuzz::write_input("regions.json", roadveil::fuzz::as_view(data, size));
  try {
    const auto file = roadveil::pipeline::RegionsFile::read(path);
    for (const auto& entry : file.entries()) (void)entry.frame_total();
    (void)file.find("clip.mp4", true);
  } catch (const roadveil::Error&) {
  }
  return 0;
}
