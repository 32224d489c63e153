// Video ground truth: MOT text and CVAT for video XML (format told from the content).
#include "core/error.hpp"
#include "eval/video_truth.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = roadveil::fuzz::write_input("truth.txt", roadveil::fuzz::as_view(data, size));
  try {
    if (roadveil::eval::is_video_truth_file(path)) {
      const auto truth = roadveil::eval::read_video_truth(path);
      (void)truth.boxes.size();
    }
  } catch (const roadveil::Error&) {
  }
  return 0;
}
