#include "detect/onnx_model.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstdlib>

namespace roadveil::detect {

Ort::Env& OnnxModel::env() {
  static Ort::Env e = [] {
    // ONNX Runtime's Linux builds (1.2x) start Microsoft's 1DS telemetry client with the first environment:
    // it queues usage events for mobile.events.data.microsoft.com and left a "mat-debug-PID.log" and a
    // ".ses" file in the temporary folder on every run. A tool that keeps footage private sends and leaves
    // nothing of the kind: its documented switch must be set before the environment exists (a user's own
    // ORT_DISABLE_TELEMETRY wins). DisableTelemetryEvents() covers builds that read only the API call.
    ::setenv("ORT_DISABLE_TELEMETRY", "1", 0);
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "roadveil");
    env.DisableTelemetryEvents();
    // One arena for every network's session (they mostly take turns on a video's detection thread; what runs
    // at once, up to 720p, the arena holds at once), not one each:
    // each arena grows to its own network's largest run and keeps it. Measured on 60 s of 1080p (defaults,
    // peak RSS): 1,144 MB with an arena per session, 932 MB with one shared; the same frames and regions.
    const Ort::MemoryInfo info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const Ort::ArenaCfg arena(0, 0, -1, -1);  // ORT's defaults: no limit, grow by powers of two
    env.CreateAndRegisterAllocator(info, arena);
    return env;
  }();
  return e;
}

OnnxModel::OnnxModel(const std::filesystem::path& path, const std::vector<std::string>& output_names,
                     const RuntimeOptions& options)
    : output_names_(output_names),
      input_(options.shared_input ? options.shared_input : std::make_shared<std::vector<float>>()) {
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(options.intra_op_threads);
    // Idle pool threads sleep instead of spinning: in a video the CPU they would burn is the decoder's and
    // the encoder's.
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.SetInterOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    so.AddConfigEntry("session.use_env_allocators", "1");
    // Search windows come in a new size almost every call: memory patterns, planned and kept per input
    // shape, only pile up (with the shared arena: 932 MB with patterns, 781 MB without; no slower).
    so.DisableMemPattern();
    session_ = Ort::Session(env(), path.c_str(), so);
    Ort::AllocatorWithDefaultOptions alloc;
    input_name_ = session_.GetInputNameAllocated(0, alloc).get();
    std::vector<std::string> available;
    for (size_t i = 0; i < session_.GetOutputCount(); ++i)
      available.push_back(session_.GetOutputNameAllocated(i, alloc).get());
    if (output_names_.empty() && !available.empty()) output_names_.push_back(available.front());  // the first
    for (const auto& name : output_names_) {
      if (std::find(available.begin(), available.end(), name) == available.end())
        throw Error("model " + path.string() + " has no output named '" + name + "': wrong model file?");
    }
  } catch (const Ort::Exception& e) {
    throw Error("model " + path.string() + ": ONNX Runtime cannot load it (" + e.what() + ")");
  }
  for (const auto& n : output_names_) output_name_ptrs_.push_back(n.c_str());
  memory_info_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
}

float* OnnxModel::input(int h, int w) {
  h_ = h;
  w_ = w;
  input_->resize(static_cast<size_t>(3) * h * w);
  return input_->data();
}

std::vector<Ort::Value> OnnxModel::run() {
  const std::array<int64_t, 4> shape = {1, 3, h_, w_};
  Ort::Value tensor =
      Ort::Value::CreateTensor<float>(memory_info_, input_->data(), static_cast<size_t>(3) * h_ * w_, shape.data(), shape.size());
  const char* in_name = input_name_.c_str();
  try {
    return session_.Run(Ort::RunOptions{nullptr}, &in_name, &tensor, 1, output_name_ptrs_.data(),
                        output_name_ptrs_.size());
  } catch (const Ort::Exception& e) {
    throw Error(std::string("inference failed: ") + e.what());
  }
}

}  // namespace roadveil::detect
