// Detectors described by manifests (#15): the manifest reader's checks, and a tiny ONNX model built by the
// test itself (tests/detect/make_tiny_yolo.py, Debian's python3-onnx) whose output is a known box.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <functional>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "detect/builtin_models.hpp"
#include "detect/detectors.hpp"
#include "detect/frame_detector.hpp"
#include "detect/model_manifest.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"
#include "media/ffmpeg_util.hpp"
#include "test_util.hpp"

extern "C" {
#include <libavutil/frame.h>
}

using namespace roadveil;
using namespace roadveil::detect;
using roadveil::testing::quote;
using roadveil::testing::run_command;
using roadveil::testing::TempDir;
using nlohmann::json;

namespace {

// A fixed 320x320 model that reports one box: centre (160, 120), 40 x 20, class `cls` at `score`.
std::filesystem::path make_model(const TempDir& dir, const std::string& name, int classes = 1, int cls = 0,
                                 float score = 0.9f, bool fixed = true) {
  const auto path = dir / name;
  const auto r = run_command("/usr/bin/python3 " ROADVEIL_SOURCE_DIR "/tests/detect/make_tiny_yolo.py " + quote(path) +
                             " --classes " + std::to_string(classes) + " --class " + std::to_string(cls) +
                             " --score " + std::to_string(score) + " --box 160 120 40 20" + (fixed ? " --size 320 320" : ""));
  EXPECT_EQ(r.exit_code, 0) << "needs python3-onnx (scripts/setup.sh installs it): " << r.output;
  return path;
}

json manifest_for(const std::filesystem::path& model) {
  return {{"roadveil_model", 1},
          {"name", "tiny-plates"},
          {"file", model.filename().string()},
          {"sha256", sha256_file_hex(model)},
          {"source", "made by tests/detect/make_tiny_yolo.py"},
          {"layout", "yolov8"},
          {"num_classes", 1},
          {"input", {{"channels", "rgb"}, {"scale", 1.0 / 255}, {"size", {320, 320}}}},
          {"classes", {{{"id", 0}, {"name", "licence-plate"}, {"hide_as", "plate"}, {"threshold", 0.5}}}}};
}

std::filesystem::path write(const TempDir& dir, const std::string& name, const json& j) {
  std::ofstream(dir / name) << j.dump(2);
  return dir / name;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

media::FramePtr blank_frame(int w, int h, AVPixelFormat format = AV_PIX_FMT_YUV420P) {
  media::FramePtr f = media::make_frame();
  f->format = format;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  const bool wide = format == AV_PIX_FMT_YUV420P10LE;
  for (int p = 0; p < 3; ++p)
    for (int y = 0; y < (p ? h / 2 : h); ++y) {
      const int value = p ? 128 : 90, n = p ? w / 2 : w;
      if (!wide) {
        std::memset(f->data[p] + y * f->linesize[p], value, n);
        continue;
      }
      auto* row = reinterpret_cast<std::uint16_t*>(f->data[p] + y * f->linesize[p]);
      std::fill(row, row + n, static_cast<std::uint16_t>(value << 2));
    }
  return f;
}

}  // namespace

TEST(ModelManifest, EachWrongFieldIsNamed) {
  TempDir dir;
  const auto model = dir / "m.onnx";
  std::ofstream(model) << "x";
  const json good = manifest_for(model);
  EXPECT_EQ(read_manifest(write(dir, "good.json", good)).classes.at(0).hide_as, ObjectClass::Plate);
  auto with = [&](const std::function<void(json&)>& change) {
    json j = good;
    change(j);
    const auto path = write(dir, "bad.json", j);
    return error_of([&] { read_manifest(path); });
  };
  EXPECT_NE(with([](json& j) { j["treshold"] = 0.4; }).find("unknown field \"treshold\""), std::string::npos);
  EXPECT_NE(with([](json& j) { j["layout"] = "ssd"; }).find("\"layout\" is \"ssd\", expected one of yolov8"), std::string::npos);
  EXPECT_NE(with([](json& j) { j["classes"][0]["hide_as"] = "Logo!"; }).find("expected face, plate or a name of your own"), std::string::npos);
  EXPECT_NE(with([](json& j) { j["classes"][0]["id"] = 1; }).find("\"id\" is 1, expected 0 to 0"), std::string::npos);
  EXPECT_NE(with([](json& j) { j.erase("sha256"); }).find("missing \"sha256\""), std::string::npos);
  EXPECT_NE(with([](json& j) { j["input"].erase("size"); }).find("exactly one of \"size\""), std::string::npos);
  EXPECT_NE(with([](json& j) { j["input"]["mean"] = 0.5; }).find("unknown field \"mean\" in \"input\""), std::string::npos);
  // Regression: read as int, 4294967328 wrapped to 32 and passed the check.
  EXPECT_NE(with([](json& j) { j["input"]["size"] = {4294967328LL, 320}; }).find("32 to 8192 pixels each"), std::string::npos);
  const std::string msg = with([](json& j) { j["roadveil_model"] = 2; });
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << "the message names the file: " << msg;
}

TEST(ModelManifest, TheModelMustBeTheFileTheManifestNames) {
  TempDir dir;
  const auto model = make_model(dir, "tiny.onnx");
  json j = manifest_for(model);
  j["sha256"] = std::string(64, '0');
  const std::string msg = error_of([&] { load_manifest(write(dir, "m.json", j)); });
  EXPECT_NE(msg.find("has sha256 " + sha256_file_hex(model)), std::string::npos) << msg;
  EXPECT_NE(msg.find("says 0000"), std::string::npos) << msg;
  const auto good = write(dir, "good.json", manifest_for(model));
  std::filesystem::remove(model);
  EXPECT_NE(error_of([&] { load_manifest(good); }).find("tiny.onnx (manifest " + good.string() + ") is missing"), std::string::npos);
}

TEST(ManifestNetwork, AnOutputThatIsNotTheDeclaredLayoutFailsAtLoadSayingWhatWasFound) {
  TempDir dir;
  const auto model = make_model(dir, "tiny.onnx");
  json j = manifest_for(model);
  j["num_classes"] = 2;  // the model outputs 4 + 1 channels
  const ModelManifest m = load_manifest(write(dir, "m.json", j));
  const std::string msg = error_of([&] { ManifestNetwork net(m, RuntimeOptions{1}); });
  EXPECT_NE(msg.find("should be float [1, 6, N]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the model's output is float [1, 5, 1]"), std::string::npos) << msg;
}

TEST(ManifestNetwork, AFixedSizeModelsBoxComesBackInSourcePixels) {
  TempDir dir;
  const ModelManifest m = load_manifest(write(dir, "m.json", manifest_for(make_model(dir, "tiny.onnx"))));
  ManifestNetwork net(m, RuntimeOptions{1});
  // 640 x 480 fits 320 x 320 at 0.5 (content 320 x 240): the tensor's (140..180, 110..130) is the frame's
  // (280..360, 220..260).
  const auto frame = blank_frame(640, 480);
  const auto boxes = net.detect(*frame, PixelRect{0, 0, 640, 480}, 320, 1.0f);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].box.x1, 280, 0.5);
  EXPECT_NEAR(boxes[0].box.y1, 220, 0.5);
  EXPECT_NEAR(boxes[0].box.x2, 360, 0.5);
  EXPECT_NEAR(boxes[0].box.y2, 260, 0.5);
  EXPECT_FLOAT_EQ(boxes[0].score, 0.9f);
  // A crop: the same tensor box, mapped from the crop's origin and scale (a 320 x 320 crop at 1x).
  const auto in_crop = net.detect(*frame, PixelRect{100, 60, 320, 320}, 320, 1.0f);
  ASSERT_EQ(in_crop.size(), 1u);
  EXPECT_NEAR(in_crop[0].box.x1, 100 + 140, 0.5);
  EXPECT_NEAR(in_crop[0].box.y1, 60 + 110, 0.5);
}

TEST(FrameDetector, ACustomModelReplacesTheBuiltInPlateNetworkAndIsWeakUnderItsThreshold) {
  TempDir dir;
  json j = manifest_for(make_model(dir, "tiny.onnx", 1, 0, 0.4f));  // scores 0.4, under its threshold 0.5
  j["replaces_builtin"] = true;
  DetectorConfig config;
  config.faces = false;
  config.context.enabled = false;
  config.custom_models.push_back(load_manifest(write(dir, "m.json", j)));
  EXPECT_TRUE(models_in_use(config).empty()) << "no built-in network: no models folder needed";
  FrameDetector detector(config);
  const auto frame = blank_frame(640, 480);
  EXPECT_TRUE(detector.detect(*frame).empty()) << "0.4 is under the class threshold";
  // A search near a followed plate accepts it from half the threshold, marked weak.
  const Detections around = detector.detect_around(*frame, Box{200, 150, 440, 330}, SearchTargets{.plates = true, .score_factor = 0.5f}, 1.0f);
  ASSERT_EQ(around.size(), 1u);
  EXPECT_EQ(around[0].cls, ObjectClass::Plate);
  EXPECT_TRUE(around[0].weak);
  EXPECT_TRUE(detector.detect_around(*frame, Box{200, 150, 440, 330}, SearchTargets{.faces = true, .score_factor = 0.5f}, 1.0f).empty())
      << "a face window does not run a plate model";
}

// A class of one's own (#15): its model runs on whole frames whatever faces and plates are switched to, a
// search around one of its objects runs it and only it, and the manifest's style, shape and padding are read.
TEST(FrameDetector, AClassOfOnesOwnIsFoundOnWholeFramesAndSearchedForByItsOwnNetworkOnly) {
  TempDir dir;
  json j = manifest_for(make_model(dir, "screens.onnx"));
  j["name"] = "tiny-screens";
  j["classes"] = {{{"id", 0}, {"name", "monitor"}, {"hide_as", "screen"}, {"threshold", 0.5}, {"style", "blur"},
                   {"shape", "ellipse"}, {"padding", 0.3}}};
  const ModelManifest m = load_manifest(write(dir, "screens.json", j));
  const ObjectClass screen = *object_class_from_string("screen");
  EXPECT_FALSE(is_builtin(screen));
  EXPECT_TRUE(m.hides_own_class());
  EXPECT_EQ(m.classes[0].hide_as, screen);
  EXPECT_EQ(m.classes[0].style, "blur");
  EXPECT_EQ(m.classes[0].shape, "ellipse");
  EXPECT_FLOAT_EQ(m.classes[0].padding, 0.3f);

  DetectorConfig config;
  config.faces = config.plates = false;  // --no-faces --no-plates: the screens are still looked for
  config.context.enabled = false;
  config.custom_models.push_back(m);
  FrameDetector detector(config);
  const auto frame = blank_frame(640, 480);
  const Detections whole = detector.detect(*frame);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].cls, screen);
  EXPECT_EQ(Detector::targets_for(whole[0]).own_classes, 1u << static_cast<int>(screen));
  const Box window{200, 150, 440, 330};
  EXPECT_EQ(detector.detect_around(*frame, window, Detector::targets_for(whole[0]), 1.0f).size(), 1u);
  EXPECT_TRUE(detector.detect_around(*frame, window, SearchTargets{.plates = true}, 1.0f).empty())
      << "a plate window does not run the screen model";
  EXPECT_TRUE(detector.detect_around(*frame, window, SearchTargets{.own_classes = 1u << 15}, 1.0f).empty())
      << "nor does a window for another class of one's own";
}

TEST(ManifestNetwork, NetworksOfOneDetectorShareOneInputTensor) {
  // A fixed 320 x 320 model and one that takes the frame at up to 640 px fill one buffer in turns: it grows to
  // the larger tensor, not one per network, and each network still sees only its own input.
  TempDir dir;
  const ModelManifest fixed = load_manifest(write(dir, "fixed.json", manifest_for(make_model(dir, "fixed.onnx"))));
  json j = manifest_for(make_model(dir, "free.onnx", 1, 0, 0.9f, false));
  j["file"] = "free.onnx";
  j["sha256"] = sha256_file_hex(dir / "free.onnx");
  j["input"] = {{"channels", "rgb"}, {"scale", 1.0 / 255}, {"multiple_of", 32}, {"max_side", 640}};
  const ModelManifest free = load_manifest(write(dir, "free.json", j));
  auto shared = std::make_shared<std::vector<float>>();
  auto planes = std::make_shared<std::vector<std::uint8_t>>();
  ManifestNetwork a(fixed, RuntimeOptions{1, shared, planes}), b(free, RuntimeOptions{1, shared, planes});
  const auto frame = blank_frame(640, 480);
  // 8-bit frames are converted without the shared scratch (rows of the preprocessor's own); a 10-bit one
  // takes libswscale, which fills it.
  const auto frame10 = blank_frame(640, 480, AV_PIX_FMT_YUV420P10LE);
  const auto first = a.detect(*frame, PixelRect{0, 0, 640, 480}, 320, 1.0f);
  EXPECT_TRUE(planes->empty());
  const auto large = b.detect(*frame10, PixelRect{0, 0, 640, 480}, 640, 1.0f);
  const auto again = a.detect(*frame, PixelRect{0, 0, 640, 480}, 320, 1.0f);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(large.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].box.x1, first[0].box.x1);
  EXPECT_EQ(again[0].box.y2, first[0].box.y2);
  EXPECT_EQ(shared->size(), 3u * 320 * 320) << "the last run's tensor";
  EXPECT_EQ(shared->capacity(), 3u * 480 * 640) << "one buffer, as large as the largest tensor";
  EXPECT_GE(planes->size(), 3u * 480 * 640) << "one colour-converted scratch, grown by the larger crop";
  EXPECT_LT(planes->size(), 3u * 480 * 640 + 4096);
}

// The shipped models' own raw-head layouts (yunet, yolov9-dfl, yolox-planar) and the context network's (yolox),
// described by a user's manifests as docs/models.md shows: the same boxes as the built-in networks on a
// dashcam frame (each built-in network's threshold per call; a user's class threshold at factor 1).
TEST(ManifestNetwork, TheShippedModelsDescribedByManifestsFindWhatTheBuiltInNetworksFind) {
  TempDir dir;
  const auto frame = media::decode_image(roadveil::testing::shared_dir() /
                                         "eval/dashcam-berlin-dev/images/7bb963d4-1794-4524-a0a1-bcf5bd5a691e.jpg");
  ASSERT_TRUE(frame);
  const auto models = roadveil::testing::models_dir();
  const PixelRect whole{0, 0, frame->width, frame->height};
  struct Case {
    ModelId id;
    std::string layout, channels;
    double scale, pad;
    int num_classes, class_id;
    float threshold, nms_iou;
  };
  const std::vector<Case> cases = {
      {ModelId::FaceYunet, "yunet", "bgr", 1.0, 0, 1, 0, 0.5f, 0.3f},
      {ModelId::PlateYolov9, "yolov9-dfl", "rgb", 1.0 / 255, 114, 1, 0, 0.3f, 0.45f},
      {ModelId::HeadYolox, "yolox-planar", "bgr", 1.0, 114, 3, 1, 0.4f, 0.45f},
      {ModelId::ContextYolox, "yolox", "bgr", 1.0, 114, 80, 0, 0.3f, 0.45f},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.layout);
    const auto path = locate_model(models, c.id);
    const json j = {{"roadveil_model", 1},
                    {"name", c.layout},
                    {"file", path.string()},
                    {"sha256", sha256_file_hex(path)},
                    {"source", "../shared/models"},
                    {"layout", c.layout},
                    {"num_classes", c.num_classes},
                    {"nms_iou", c.nms_iou},
                    {"input", {{"channels", c.channels}, {"scale", c.scale}, {"pad", c.pad}, {"multiple_of", 32}, {"max_side", 1920}}},
                    {"classes", {{{"id", c.class_id}, {"name", "it"}, {"hide_as", "face"}, {"threshold", c.threshold}}}}};
    ManifestNetwork described(load_manifest(write(dir, c.layout + ".json", j)), RuntimeOptions{1});
    const auto builtin = make_builtin_network(c.id, models, RuntimeOptions{1});
    for (const int side : {1920, 1280}) {
      auto expected = builtin->detect(*frame, whole, side, c.threshold);
      std::erase_if(expected, [&](const RawBox& b) { return b.label != c.class_id; });
      const auto found = described.detect(*frame, whole, side, 1.0f);
      EXPECT_GT(expected.size(), 0u) << "the frame has something of this class at " << side << " px";
      ASSERT_EQ(found.size(), expected.size()) << side << " px";
      for (size_t i = 0; i < found.size(); ++i) {
        EXPECT_EQ(found[i].label, c.class_id);
        EXPECT_NEAR(found[i].score, expected[i].score, 1e-6);
        EXPECT_NEAR(found[i].box.x1, expected[i].box.x1, 1e-3);
        EXPECT_NEAR(found[i].box.y2, expected[i].box.y2, 1e-3);
      }
    }
  }
  // The head network described with a wrong class count: refused at load, saying what each output should be.
  const auto head = locate_model(models, ModelId::HeadYolox);
  const json wrong = {{"roadveil_model", 1}, {"name", "bhh"}, {"file", head.string()}, {"sha256", sha256_file_hex(head)},
                      {"source", "../shared/models"}, {"layout", "yolox-planar"}, {"num_classes", 4},
                      {"input", {{"channels", "bgr"}, {"scale", 1.0}, {"multiple_of", 32}}},
                      {"classes", {{{"id", 1}, {"name", "head"}, {"hide_as", "face"}, {"threshold", 0.4}}}}};
  const std::string msg = error_of([&] { ManifestNetwork net(load_manifest(write(dir, "wrong.json", wrong)), RuntimeOptions{1}); });
  EXPECT_NE(msg.find("output p8 should be float [1, 9, 8, 8] (stride 8 of a 64x64 input); the model's output is [1, 8, 8, 8]"),
            std::string::npos) << msg;
}

TEST(ModelManifest, RawHeadLayoutsNameOneOutputPerStride) {
  TempDir dir;
  const auto model = make_model(dir, "tiny.onnx");
  json j = manifest_for(model);
  j["layout"] = "yolox-planar";
  EXPECT_EQ(load_manifest(write(dir, "a.json", j)).outputs, (std::vector<std::string>{"p8", "p16", "p32"}));
  j["outputs"] = {"a", "b"};
  EXPECT_NE(error_of([&] { read_manifest(write(dir, "b.json", j)); }).find("\"outputs\" must list 3 output names"), std::string::npos);
  j.erase("outputs");
  j["layout"] = "yunet";
  j["num_classes"] = 2;
  EXPECT_NE(error_of([&] { read_manifest(write(dir, "c.json", j)); }).find("must be 1"), std::string::npos);
  j["num_classes"] = 1;
  // The tiny model has one [1, 5, N] output, not YuNet's nine: refused at load, naming the missing output.
  const std::string msg = error_of([&] { ManifestNetwork net(load_manifest(write(dir, "d.json", j)), RuntimeOptions{1}); });
  EXPECT_NE(msg.find("cls_8"), std::string::npos) << msg;
  j["layout"] = "yolov8";
  j["outputs"] = {"x"};
  EXPECT_NE(error_of([&] { read_manifest(write(dir, "e.json", j)); }).find("one output: \"output\""), std::string::npos);
}

// The built-in networks are run from manifests in the same format (detect/builtin_models.cpp): each names the
// registry's file and checksum, passes the checks of a user's manifest, and lists the class ids the region
// policy uses under their names.
TEST(BuiltinModels, AreDescribedByManifestsThatNameTheRegistrysFilesAndThePolicysClasses) {
  const auto models = roadveil::testing::models_dir();
  for (const ModelId id : {ModelId::FaceYunet, ModelId::PlateYolov9, ModelId::HeadYolox, ModelId::ContextYolox}) {
    const ModelManifest m = builtin_manifest(id, models);
    EXPECT_EQ(m.model, models / model_spec(id).relative_path);
    EXPECT_EQ(m.sha256, model_spec(id).sha256);
    EXPECT_EQ(m.sha256, sha256_file_hex(m.model)) << m.name;
  }
  auto name_of = [&](ModelId id, int cls) {
    for (const ManifestClass& c : builtin_manifest(id, models).classes)
      if (c.id == cls) return c.name;
    return std::string("(not listed)");
  };
  EXPECT_EQ(name_of(ModelId::HeadYolox, kHead), "head");
  EXPECT_EQ(name_of(ModelId::HeadYolox, kBody), "body");
  EXPECT_EQ(name_of(ModelId::HeadYolox, kHand), "(not listed)") << "hands are dropped";
  EXPECT_EQ(name_of(ModelId::ContextYolox, kPerson), "person");
  EXPECT_EQ(name_of(ModelId::ContextYolox, kTruck), "truck");
  EXPECT_TRUE(builtin_manifest(ModelId::HeadYolox, models).hides(ObjectClass::Face));
  EXPECT_FALSE(builtin_manifest(ModelId::ContextYolox, models).hides(ObjectClass::Face)) << "people are context, not hidden";
  EXPECT_FLOAT_EQ(builtin_manifest(ModelId::ContextYolox, models).max_upscale, 1.0f);
  // "none" is for the built-in region policy: a user's manifest that says it is refused.
  TempDir dir;
  json j = builtin_manifest_json(ModelId::FaceYunet);
  j["file"] = (models / model_spec(ModelId::FaceYunet).relative_path).string();
  j["classes"][0]["hide_as"] = "none";
  j["classes"][0]["threshold"] = 0.5;
  EXPECT_NE(error_of([&] { read_manifest(write(dir, "none.json", j)); }).find("\"none\" is for the built-in networks"), std::string::npos);
}
