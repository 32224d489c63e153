#pragma once
// One ONNX Runtime session with a reusable input buffer: the tensor memory lives as long as the model, so
// steady-state inference allocates only what ONNX Runtime allocates for outputs.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace roadveil::detect {

struct RuntimeOptions {
  RuntimeOptions(int threads = 0, std::shared_ptr<std::vector<float>> input = nullptr,
                 std::shared_ptr<std::vector<std::uint8_t>> planes = nullptr)
      : intra_op_threads(threads), shared_input(std::move(input)), shared_planes(std::move(planes)) {}
  int intra_op_threads = 0;  // 0: ONNX Runtime picks (one per core)
  // The networks of one detector run one after the other, so they can fill one input tensor: each kept its
  // own, sized for its largest run (five networks at up to 1920x1088 kept 86 MB of float tensors, measured
  // with heaptrack on a 1080p photo). Null: the model has its own. Never share it between networks that run
  // at once (FrameDetector gives those on its side lane a second set).
  std::shared_ptr<std::vector<float>> shared_input;
  // Likewise the 8-bit planes a crop is colour-converted into before it becomes the tensor (preprocess.hpp).
  std::shared_ptr<std::vector<std::uint8_t>> shared_planes;
};

class OnnxModel {
 public:
  OnnxModel(const std::filesystem::path& path, const std::vector<std::string>& output_names,
            const RuntimeOptions& options);

  // The input tensor [1,3,h,w], reallocated only when it grows. Its contents are undefined (another network
  // may have used the buffer): the caller writes every element, then calls run().
  float* input(int h, int w);
  int input_height() const { return h_; }
  int input_width() const { return w_; }

  // From now on the input tensor is `buffer` (null: one of its own): see RuntimeOptions::shared_input.
  void use_input_buffer(std::shared_ptr<std::vector<float>> buffer) {
    input_ = buffer ? std::move(buffer) : std::make_shared<std::vector<float>>();
  }

  // Runs on the current input; outputs in the order of output_names.
  std::vector<Ort::Value> run();

 private:
  static Ort::Env& env();
  Ort::Session session_{nullptr};
  std::string input_name_;
  std::vector<std::string> output_names_;
  std::vector<const char*> output_name_ptrs_;
  std::shared_ptr<std::vector<float>> input_;
  int h_ = 0, w_ = 0;
  Ort::MemoryInfo memory_info_{nullptr};
};

}  // namespace roadveil::detect
