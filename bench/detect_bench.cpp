// Cost of the detection hot path on a 1080p yuv420p frame: pre-processing into the tensor, each network's
// inference at the input sizes the schedule uses, decoding the raw head into boxes, and one tracking step.
// Inference runs with one ONNX Runtime thread, the way the video pipeline runs it beside the encoder; the
// network benchmarks need the models ($ROADVEIL_MODELS) and are skipped without them.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

#include "bench_frames.hpp"
#include "detect/box_decoding.hpp"
#include "detect/builtin_models.hpp"
#include "detect/detectors.hpp"
#include "detect/model_registry.hpp"
#include "detect/preprocess.hpp"
#include "track/tracker.hpp"

namespace {

using namespace roadveil;
using namespace roadveil::detect;

using roadveil::bench::FramePtr;
using roadveil::bench::noisy_frame;

// Argument: the tensor's longer side; the crop is the whole 1920x1080 frame.
void BM_Preprocess_Yuv420pToTensor(benchmark::State& state) {
  FramePtr frame = noisy_frame(AV_PIX_FMT_YUV420P, 1920, 1080);
  const PixelRect whole{0, 0, 1920, 1080};
  const TensorFormat format{ChannelOrder::RGB, 1.0f / 255.0f, 114.0f / 255.0f, 32};
  TensorMapping m = plan_tensor(whole, static_cast<int>(state.range(0)), 2.0f, 32);
  std::vector<float> tensor(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
  Preprocessor pre;
  for (auto _ : state) {
    pre.run(*frame, whole, m, format, tensor.data());
    benchmark::DoNotOptimize(tensor.data());
  }
  state.SetLabel(std::to_string(m.tensor_w) + "x" + std::to_string(m.tensor_h));
}
BENCHMARK(BM_Preprocess_Yuv420pToTensor)->Arg(640)->Arg(1280)->Arg(1920)->Unit(benchmark::kMicrosecond);

// A 160x160 crop around a track, searched at twice its size (the region-of-interest pass).
void BM_Preprocess_TrackCrop(benchmark::State& state) {
  FramePtr frame = noisy_frame(AV_PIX_FMT_YUV420P, 1920, 1080);
  const PixelRect crop{900, 500, 160, 160};
  const TensorFormat format{ChannelOrder::BGR, 1.0f, 0.0f, 32};
  TensorMapping m = plan_tensor(crop, 320, 2.0f, 32);
  std::vector<float> tensor(static_cast<std::size_t>(3) * m.tensor_w * m.tensor_h);
  Preprocessor pre;
  for (auto _ : state) {
    pre.run(*frame, crop, m, format, tensor.data());
    benchmark::DoNotOptimize(tensor.data());
  }
}
BENCHMARK(BM_Preprocess_TrackCrop)->Unit(benchmark::kMicrosecond);

// The same, with a crop one pixel larger or smaller every time: a scaler set-up per crop (what a context
// cache saves on every hit).
void BM_Preprocess_TrackCropNewSize(benchmark::State& state) {
  FramePtr frame = noisy_frame(AV_PIX_FMT_YUV420P, 1920, 1080);
  const TensorFormat format{ChannelOrder::BGR, 1.0f, 0.0f, 32};
  std::vector<float> tensor(static_cast<std::size_t>(3) * 352 * 352);
  Preprocessor pre;
  int i = 0;
  for (auto _ : state) {
    const int side = 150 + 2 * (i++ % 40);  // 40 sizes: more than the cache keeps
    const PixelRect crop{900, 500, side, side};
    TensorMapping m = plan_tensor(crop, 320, 2.0f, 32);
    pre.run(*frame, crop, m, format, tensor.data());
    benchmark::DoNotOptimize(tensor.data());
  }
}
BENCHMARK(BM_Preprocess_TrackCropNewSize)->Unit(benchmark::kMicrosecond);

// YOLOv9 head of a 1920x1088 input, stride 8 (the largest): logits well below threshold except a few cells,
// as on a real frame.
void BM_Decode_Yolov9Stride8(benchmark::State& state) {
  const int gw = 1920 / 8, gh = 1088 / 8, cells = gw * gh;
  std::vector<float> head(static_cast<std::size_t>(65) * cells);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (float& v : head) v = noise(rng);
  for (int c = 0; c < cells; ++c) head[static_cast<std::size_t>(64) * cells + c] = -8.0f + noise(rng);
  for (int c = 0; c < cells; c += cells / 20) head[static_cast<std::size_t>(64) * cells + c] = 3.0f;
  std::vector<RawBox> out;
  for (auto _ : state) {
    out.clear();
    decode_yolov9_dfl(head, 8, gw, gh, 0.35f, out);
    nms(out, 0.45f);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Decode_Yolov9Stride8)->Unit(benchmark::kMicrosecond);

// YuNet, stride 8 of a 1920x1088 input.
void BM_Decode_YunetStride8(benchmark::State& state) {
  const int n = (1920 / 8) * (1088 / 8);
  std::vector<float> cls(n), obj(n), bbox(static_cast<std::size_t>(4) * n);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> low(0.0f, 0.2f);
  for (int i = 0; i < n; ++i) cls[i] = obj[i] = low(rng);
  for (float& v : bbox) v = low(rng);
  for (int i = 0; i < n; i += n / 20) cls[i] = obj[i] = 0.95f;
  std::vector<RawBox> out;
  for (auto _ : state) {
    out.clear();
    decode_yunet(cls, obj, bbox, 8, 1920, 1088, 0.5f, out);
    nms(out, 0.3f);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Decode_YunetStride8)->Unit(benchmark::kMicrosecond);

// One tracker step (push one frame's detections, pop the final frame) with 15 objects moving steadily.
void BM_Tracker_Step(benchmark::State& state) {
  track::Tracker tracker(track::TrackerConfig{}, track::PaddingConfig{}, 1920, 1080);
  Detections dets;
  std::int64_t frame = 0;
  for (auto _ : state) {
    dets.clear();
    for (int i = 0; i < 15; ++i) {
      const float x = static_cast<float>((100 + 120 * i + 3 * frame) % 1800), y = 300.0f + 40.0f * (i % 5);
      dets.push_back({i < 10 ? ObjectClass::Face : ObjectClass::Plate, {x, y, x + 40, y + 40}, 0.9f});
    }
    tracker.push(dets);
    benchmark::DoNotOptimize(tracker.pop());
    ++frame;
  }
}
BENCHMARK(BM_Tracker_Step)->Unit(benchmark::kMicrosecond);

// Inference on the whole frame at the given longer side, one intra-op thread. The plate network also at the
// sizes of search windows (64-256 px): what a call costs beyond its pixels.
void run_network(benchmark::State& state, ModelId id, float threshold) {
  std::unique_ptr<ManifestNetwork> net;
  try {
    net = make_builtin_network(id, resolve_models_dir(std::nullopt), RuntimeOptions{1});
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  FramePtr frame = noisy_frame(AV_PIX_FMT_YUV420P, 1920, 1080);
  const PixelRect whole{0, 0, 1920, 1080};
  for (auto _ : state) benchmark::DoNotOptimize(net->detect(*frame, whole, static_cast<int>(state.range(0)), threshold));
}
void BM_Infer_FaceYunet(benchmark::State& s) { run_network(s, ModelId::FaceYunet, 0.5f); }
void BM_Infer_PlateYolov9(benchmark::State& s) { run_network(s, ModelId::PlateYolov9, 0.35f); }
void BM_Infer_ContextYolox(benchmark::State& s) { run_network(s, ModelId::ContextYolox, 0.25f); }
void BM_Infer_HeadYolox(benchmark::State& s) { run_network(s, ModelId::HeadYolox, 0.3f); }
BENCHMARK(BM_Infer_FaceYunet)->Arg(640)->Arg(960)->Arg(1280)->Arg(1920)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Infer_PlateYolov9)->Arg(64)->Arg(128)->Arg(256)->Arg(640)->Arg(960)->Arg(1280)->Arg(1920)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Infer_ContextYolox)->Arg(416)->Arg(640)->Arg(960)->Arg(1280)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Infer_HeadYolox)->Arg(960)->Arg(1280)->Arg(1920)->Unit(benchmark::kMillisecond);

// A search window of the video schedule: the plate network on a small crop at twice its size (one intra-op
// thread). Arg 0: the same crop every time; 1: crops of three sizes in turn, as a schedule's windows are
// (each new input shape costs ONNX Runtime a new memory plan).
void BM_Search_PlateWindow(benchmark::State& state) {
  std::unique_ptr<ManifestNetwork> net;
  try {
    net = make_builtin_network(ModelId::PlateYolov9, resolve_models_dir(std::nullopt), RuntimeOptions{1});
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  FramePtr frame = noisy_frame(AV_PIX_FMT_YUV420P, 1920, 1080);
  const PixelRect crops[] = {{800, 600, 64, 64}, {700, 500, 80, 64}, {900, 650, 64, 48}};
  size_t i = 0;
  for (auto _ : state) {
    const PixelRect& c = crops[state.range(0) ? i++ % 3 : 0];
    benchmark::DoNotOptimize(net->detect(*frame, c, 2 * std::max(c.w, c.h), 0.35f));
  }
}
BENCHMARK(BM_Search_PlateWindow)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
