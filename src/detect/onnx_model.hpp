#pragma once
// One ONNX Runtime session with a reusable input buffer: the tensor memory lives as long as the model, so
// steady-state inference allocates only what ONNX Runtime allocates for outputs.
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <string>
#include <vector>

namespace roadveil::detect {

struct RuntimeOptions {
  int intra_op_threads = 0;  // 0: ONNX Runtime picks (one per core)
};

class OnnxModel {
 public:
  OnnxModel(const std::filesystem::path& path, const std::vector<std::string>& output_names,
            const RuntimeOptions& options);

  // The input tensor [1,3,h,w], reallocated only when the size changes.
  float* input(int h, int w);
  int input_height() const { return h_; }
  int input_width() const { return w_; }

  // Runs on the current input; outputs in the order of output_names.
  std::vector<Ort::Value> run();

 private:
  static Ort::Env& env();
  Ort::Session session_{nullptr};
  std::string input_name_;
  std::vector<std::string> output_names_;
  std::vector<const char*> output_name_ptrs_;
  std::vector<float> input_;
  int h_ = 0, w_ = 0;
  Ort::MemoryInfo memory_info_{nullptr};
};

}  // namespace roadveil::detect
