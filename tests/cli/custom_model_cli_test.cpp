// A detector of one's own, end to end (#15): a tiny ONNX model built by the test (tests/detect/make_tiny_yolo.py)
// and described by a manifest runs beside the built-in networks in `roadveil anonymize --model`, on a photo and
// through a video's schedule and tracking, lands in the regions file and the audit record, and `roadveil
// models` checks it (and refuses a manifest whose layout the model does not have).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "json_file.hpp"
#include "test_util.hpp"

using namespace roadveil::testing;
using nlohmann::json;

namespace {

// A dynamic-size model that reports a 40 x 20 box centred at (160, 120) of its input, scored 0.9.
json make_manifest(const TempDir& dir) {
  const auto model = dir / "tiny.onnx";
  const auto r = run_command("/usr/bin/python3 " ROADVEIL_SOURCE_DIR "/tests/detect/make_tiny_yolo.py " + quote(model) +
                             " --box 160 120 40 20");
  EXPECT_EQ(r.exit_code, 0) << "needs python3-onnx (scripts/setup.sh installs it): " << r.output;
  const std::string sha = run_command("sha256sum " + quote(model) + " | cut -c1-64").output.substr(0, 64);
  return {{"roadveil_model", 1},
          {"name", "tiny-plates"},
          {"file", "tiny.onnx"},
          {"sha256", sha},
          {"source", "made by tests/detect/make_tiny_yolo.py"},
          {"layout", "yolov8"},
          {"num_classes", 1},
          {"input", {{"channels", "rgb"}, {"multiple_of", 32}, {"max_side", 640}}},
          {"classes", {{{"id", 0}, {"name", "plate"}, {"hide_as", "plate"}, {"threshold", 0.5}}}}};
}

// Whether a plate region of `frame` covers the source box (x1, y1, x2, y2).
bool plate_covers(const json& frame, float x1, float y1, float x2, float y2) {
  for (const auto& r : frame["regions"]) {
    const auto b = r["box"].get<std::vector<float>>();
    if (r["class"] == "plate" && b[0] <= x1 && b[1] <= y1 && b[2] >= x2 && b[3] >= y2) return true;
  }
  return false;
}
}  // namespace

TEST(CustomModel, RunsBesideTheBuiltInNetworksOnPhotosAndVideosAndIsRecorded) {
  TempDir dir;
  const json manifest = make_manifest(dir);
  std::ofstream(dir / "tiny.json") << manifest.dump(2);

  // A 640x480 photo: the model sees it at 640 px (scale 1): the box is (140..180, 110..130). `--model` before
  // the input takes one file (it took the input too: "inputs is required").
  ffmpeg_make("-f lavfi -i color=c=gray:s=640x480 -frames:v 1 " + quote(dir / "grey.png"));
  auto r = run_cli("anonymize -q --model " + quote(dir / "tiny.json") + " " + quote(dir / "grey.png") + " -o " +
                   quote(dir / "out.png") + " --detections " + quote(dir / "photo.regions.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json photo = read_json(dir / "photo.regions.json")["entries"][0]["frames"][0];
  EXPECT_TRUE(plate_covers(photo, 140, 110, 180, 130)) << photo.dump();
  const json record = read_json(dir / "out.png.audit.json");
  bool listed = false;
  for (const auto& m : record["models"]) listed = listed || (m.value("name", "") == "tiny-plates" && m["sha256"] == manifest["sha256"]);
  EXPECT_TRUE(listed) << record["models"].dump();
  EXPECT_EQ(record["settings"]["custom_models"][0]["name"], "tiny-plates");

  // A 2 s video at 1280x720: keyframes find it (scaled to 640: the box is (280..360, 220..260) of the frame),
  // searches and tracking keep it in every frame.
  ffmpeg_make("-f lavfi -i color=c=gray:s=1280x720:r=25 -t 2 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "grey.mp4"));
  r = run_cli("anonymize -q " + quote(dir / "grey.mp4") + " -o " + quote(dir / "out.mp4") + " --model " +
              quote(dir / "tiny.json") + " --detections " + quote(dir / "video.regions.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json frames = read_json(dir / "video.regions.json")["entries"][0]["frames"];
  ASSERT_EQ(frames.size(), 50u);
  for (const auto& f : frames) EXPECT_TRUE(plate_covers(f, 280, 220, 360, 260)) << f.dump();

  // Without --model nothing is found in a grey picture: the region came from the custom model.
  r = run_cli("anonymize -q " + quote(dir / "grey.png") + " -o " + quote(dir / "plain.png") + " --detections " +
              quote(dir / "plain.regions.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(read_json(dir / "plain.regions.json")["entries"][0]["frames"][0]["regions"].empty());
}

TEST(CustomModel, ModelsChecksEveryFileAndRefusesALayoutTheModelDoesNotHave) {
  TempDir dir;
  json manifest = make_manifest(dir);
  std::ofstream(dir / "tiny.json") << manifest.dump(2);
  auto r = run_cli("models --model " + quote(dir / "tiny.json") + " --json " + quote(dir / "models.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok      tiny-plates"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ok      head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx"), std::string::npos) << r.output;
  EXPECT_TRUE(read_json(dir / "models.json")["ok"].get<bool>());

  manifest["layout"] = "yolov5";  // [1, N, 6] expected; the model gives [1, 5, N]
  std::ofstream(dir / "wrong.json") << manifest.dump(2);
  r = run_cli("models --model " + quote(dir / "wrong.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("PROBLEM"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("should be float [1, N, 6]"), std::string::npos) << r.output;

  // anonymize refuses it too, before touching the input.
  ffmpeg_make("-f lavfi -i color=c=gray:s=64x64 -frames:v 1 " + quote(dir / "grey.png"));
  r = run_cli("anonymize -q " + quote(dir / "grey.png") + " -o " + quote(dir / "out.png") + " --model " + quote(dir / "wrong.json"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("wrong.json"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.png"));
}

TEST(CustomModel, EvalCompareSaysTheModelHidesMoreWithItsInterval) {
  TempDir dir;
  std::ofstream(dir / "tiny.json") << make_manifest(dir).dump(2);
  // Three grey 640x480 photos, each annotated (COCO) with a plate where the tiny model reports one.
  std::filesystem::create_directories(dir / "images");
  json coco = {{"images", json::array()}, {"annotations", json::array()}, {"categories", {{{"id", 1}, {"name", "plate"}}}}};
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "grey" + std::to_string(i) + ".png";
    ffmpeg_make("-f lavfi -i color=c=gray:s=640x480 -frames:v 1 " + quote(dir / "images" / name));
    coco["images"].push_back({{"id", i}, {"file_name", name}, {"width", 640}, {"height", 480}});
    coco["annotations"].push_back({{"id", i}, {"image_id", i}, {"category_id", 1}, {"bbox", {142, 112, 36, 16}}, {"area", 576}, {"iscrowd", 0}});
  }
  std::ofstream(dir / "coco.json") << coco.dump();
  const std::string eval = "eval --ground-truth " + quote(dir / "coco.json") + " " + quote(dir / "images");
  auto r = run_cli(eval + " --json " + quote(dir / "before.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(dir / "before.json")["per_image"].size(), 3u);
  r = run_cli(eval + " --model " + quote(dir / "tiny.json") + " --compare " + quote(dir / "before.json") + " --json " +
              quote(dir / "after.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 images in both"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hides more"), std::string::npos) << r.output;
  const json plate = read_json(dir / "after.json")["compare"]["rows"][0];
  EXPECT_EQ(plate["what"], "plate");
  EXPECT_DOUBLE_EQ(plate["reference"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(plate["candidate"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(plate["ci95"][0].get<double>(), 1.0);

  std::ofstream(dir / "not-eval.json") << "{\"images\": 3}";
  r = run_cli(eval + " --compare " + quote(dir / "not-eval.json"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("not-eval.json (--compare) has no per-image counts"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("recall by box width"), std::string::npos) << "refused before anything is detected: " << r.output;
}

TEST(CustomModel, EvalCompareOnAVideoPairsItsObjectsAndFrames) {
  TempDir dir;
  std::ofstream(dir / "tiny.json") << make_manifest(dir).dump(2);
  // 2 s of grey 1280x720 and MOT truth: three plates in turn, where the tiny model reports one (280..360,
  // 220..260 of the frame), frames 1-16, 17-33 and 34-50.
  ffmpeg_make("-f lavfi -i color=c=gray:s=1280x720:r=25 -t 2 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "grey.mp4"));
  {
    std::ofstream mot(dir / "truth.mot.txt");
    for (int f = 1; f <= 50; ++f) mot << f << "," << (f <= 16 ? 1 : f <= 33 ? 2 : 3) << ",284,224,72,32,1,2,1\n";
  }
  const std::string eval = "eval --ground-truth " + quote(dir / "truth.mot.txt") + " " + quote(dir / "grey.mp4");
  auto r = run_cli(eval + " --json " + quote(dir / "before.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(dir / "before.json")["per_object"].size(), 3u);
  EXPECT_EQ(read_json(dir / "before.json")["hidden_area_per_frame"].size(), 50u);
  r = run_cli(eval + " --model " + quote(dir / "tiny.json") + " --compare " + quote(dir / "before.json") + " --json " +
              quote(dir / "after.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 objects in both"), std::string::npos) << r.output;
  const json rows = read_json(dir / "after.json")["compare"]["rows"];
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  EXPECT_EQ(rows[0]["what"], "plate");  // object-frames hidden: 0 -> 50 of 50
  EXPECT_EQ(rows[0]["truth"], 50);
  EXPECT_DOUBLE_EQ(rows[0]["candidate"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(rows[0]["ci95"][0].get<double>(), 1.0);
  EXPECT_EQ(rows[1]["what"], "plate never exposed");  // 0 -> 3 of 3 objects
  EXPECT_EQ(rows[1]["truth"], 3);
  EXPECT_DOUBLE_EQ(rows[1]["difference"].get<double>(), 1.0);
  EXPECT_EQ(rows[2]["what"], "frame hidden");
  EXPECT_GT(rows[2]["ci95"][0].get<double>(), 0.0) << "hiding costs area in every frame";

  // A report of images is not one of this video: refused before the video is anonymized.
  std::ofstream(dir / "images.json") << "{\"per_image\": []}";
  r = run_cli(eval + " --compare " + quote(dir / "images.json"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("images.json (--compare) has no per-object results"), std::string::npos) << r.output;
}

namespace {
// Luma of frame `index` of a video, one byte per pixel.
std::vector<std::uint8_t> luma(const std::filesystem::path& video, int index, int w, int h) {
  const auto r = run_command("ffmpeg -v error -i " + quote(video) + " -vf \"select=eq(n\\," + std::to_string(index) +
                             ")\" -frames:v 1 -pix_fmt gray -f rawvideo -");
  std::vector<std::uint8_t> out(r.output.begin(), r.output.end());
  EXPECT_EQ(out.size(), static_cast<size_t>(w) * h);
  out.resize(static_cast<size_t>(w) * h);
  return out;
}
}  // namespace

// A class of one's own (#15): a model that finds "screens" (dark squares: tests/detect/make_square_detector.py
// looks at its input, so keyframes and search windows both find it), hidden filled black with its own padding,
// flows through the schedule and tracking, the regions file, the rendered pixels, render of that file, the
// audit record and its re-render check, verify, and eval on video ground truth, like faces and plates do.
TEST(CustomModel, ANewClassIsFoundTrackedHiddenInItsStyleRecordedVerifiedAndMeasured) {
  TempDir dir;
  const auto model = dir / "screens.onnx";
  auto r = run_command("/usr/bin/python3 " ROADVEIL_SOURCE_DIR "/tests/detect/make_square_detector.py " + quote(model));
  ASSERT_EQ(r.exit_code, 0) << "needs python3-onnx (scripts/setup.sh installs it): " << r.output;
  const std::string sha = run_command("sha256sum " + quote(model) + " | cut -c1-64").output.substr(0, 64);
  const json manifest = {{"roadveil_model", 1},
                         {"name", "tiny-screens"},
                         {"file", "screens.onnx"},
                         {"sha256", sha},
                         {"source", "made by tests/detect/make_square_detector.py"},
                         {"layout", "yolov8"},
                         {"num_classes", 1},
                         {"input", {{"channels", "rgb"}, {"multiple_of", 32}, {"max_side", 640}}},
                         {"classes", {{{"id", 0}, {"name", "monitor"}, {"hide_as", "screen"}, {"threshold", 0.5},
                                       {"style", "fill"}, {"padding", 0.1}}}}};
  std::ofstream(dir / "screens.json") << manifest.dump(2);

  // 2 s of white 1280x720 with a black 60 x 60 "screen" moving right 10 px a frame: (200 + 10 f, 300).
  ffmpeg_make("-f lavfi -i \"color=c=white:s=1280x720:r=25[bg];color=c=black:s=60x60:r=25[sq];[bg][sq]overlay=x='200+250*t':y=300:shortest=1\" "
              "-t 2 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "screen.mp4"));
  r = run_cli("anonymize -q " + quote(dir / "screen.mp4") + " -o " + quote(dir / "out.mp4") + " --model " +
              quote(dir / "screens.json") + " --detections " + quote(dir / "regions.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json frames = read_json(dir / "regions.json")["entries"][0]["frames"];
  ASSERT_EQ(frames.size(), 50u);
  std::set<int> tracks, sources_seen;
  for (const auto& f : frames) {
    const float x = 200.0f + 10.0f * f["frame"].get<float>();
    ASSERT_EQ(f["regions"].size(), 1u) << f.dump();
    const json& region = f["regions"][0];
    EXPECT_EQ(region["class"], "screen");
    const auto b = region["box"].get<std::vector<float>>();
    // The square with 10% of its side on every side (6 px), give or take the detector's rounding.
    EXPECT_NEAR(b[0], x - 6, 2.5) << region.dump();
    EXPECT_NEAR(b[1], 294, 2.5) << region.dump();
    EXPECT_NEAR(b[2], x + 66, 2.5) << region.dump();
    EXPECT_NEAR(b[3], 366, 2.5) << region.dump();
    tracks.insert(region.value("track", -1));
  }
  EXPECT_EQ(tracks.size(), 1u) << "one track from the first frame to the last";
  EXPECT_GE(*tracks.begin(), 0);
  int searched = 0;  // found by a search window between the keyframes (frames 0 and 25)
  for (const auto& f : frames) searched += f["frame"] != 0 && f["frame"] != 25 && f["regions"][0]["source"] == "detector";
  EXPECT_GE(searched, 5);

  // Filled black: the white margin around the square too; the frame beside it untouched.
  for (const int index : {0, 12, 49}) {
    const auto y = luma(dir / "out.mp4", index, 1280, 720);
    const int x = 200 + 10 * index;
    EXPECT_LT(y[330 * 1280 + x - 3], 40) << "frame " << index << ": the margin left of the square is filled";
    EXPECT_LT(y[296 * 1280 + x + 30], 40) << "frame " << index << ": the margin above it too";
    EXPECT_GT(y[330 * 1280 + x + 80], 200) << "frame " << index << ": beside the region the frame is untouched";
  }

  // The audit record counts the class and says how it was hidden; the record's re-render check passes.
  const json record = read_json(dir / "out.mp4.audit.json");
  EXPECT_EQ(record["regions"]["by_class"]["screen"], 50) << record["regions"].dump();
  EXPECT_EQ(record["settings"]["class_styles"]["screen"]["style"], "fill");
  EXPECT_EQ(record["settings"]["custom_models"][0]["classes"][0]["hide_as"], "screen");
  r = run_cli("audit " + quote(dir / "out.mp4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("hidden area"), std::string::npos) << r.output;

  // render of the regions file hides it the same way without the model: the style is in the file's record.
  r = run_command(kCli + " render -q --regions " + quote(dir / "regions.json") + " " + quote(dir / "screen.mp4") + " -o " +
                  quote(dir / "rendered.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(luma(dir / "rendered.mp4", 10, 1280, 720)[330 * 1280 + 297], 40) << "filled, not the default mosaic";

  // verify with the model: the screens it finds are inside the hidden regions, and those show nothing.
  r = run_cli("verify " + quote(dir / "out.mp4") + " --regions " + quote(dir / "regions.json") + " --model " +
              quote(dir / "screens.json") + " --every 10 --no-audit --json " + quote(dir / "verify.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const json file = read_json(dir / "verify.json")["files"][0];
  EXPECT_EQ(file["detections"]["screen"], 5) << file.dump();
  EXPECT_EQ(file["exposed"], 0) << file.dump();
  EXPECT_EQ(file["readable"], 0) << file.dump();

  // eval on video ground truth (CVAT for video 1.1): the screen, labelled by its class name, in every frame.
  {
    std::ofstream xml(dir / "truth.xml");
    xml << "<annotations><version>1.1</version><meta><task><size>50</size><original_size><width>1280</width>"
           "<height>720</height></original_size></task></meta><track id=\"0\" label=\"screen\">";
    for (int f = 0; f < 50; ++f)
      xml << "<box frame=\"" << f << "\" outside=\"0\" occluded=\"0\" keyframe=\"1\" xtl=\"" << 200 + 10 * f
          << "\" ytl=\"300\" xbr=\"" << 260 + 10 * f << "\" ybr=\"360\"/>";
    xml << "</track></annotations>";
  }
  const std::string eval = "eval --ground-truth " + quote(dir / "truth.xml") + " " + quote(dir / "screen.mp4");
  // The baseline without the model measures the class too when told its name; the model's run is compared with it.
  r = run_cli(eval + " --class screen --json " + quote(dir / "before.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(dir / "before.json")["classes"]["screen"]["hidden_object_frames"], 0);
  r = run_cli(eval + " --model " + quote(dir / "screens.json") + " --json " + quote(dir / "eval.json") + " --compare " +
              quote(dir / "before.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json rows = read_json(dir / "eval.json")["compare"]["rows"];
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0]["what"], "screen") << rows.dump();
  EXPECT_DOUBLE_EQ(rows[0]["difference"].get<double>(), 1.0) << rows.dump();
  const json screen = read_json(dir / "eval.json")["classes"]["screen"];
  EXPECT_EQ(screen["objects"], 1) << screen.dump();
  EXPECT_EQ(screen["hidden_object_frames"], 50) << screen.dump();
  EXPECT_EQ(screen["never_exposed"], 1) << screen.dump();
  EXPECT_NE(r.output.find("screen"), std::string::npos) << r.output;
}

TEST(CustomModel, AManifestThatGivesAClassAStyleItCannotHaveOrABadNameIsRefused) {
  TempDir dir;
  json manifest = make_manifest(dir);
  ffmpeg_make("-f lavfi -i color=c=gray:s=64x64 -frames:v 1 " + quote(dir / "grey.png"));
  auto refused = [&](const json& classes, const std::string& message) {
    manifest["classes"] = classes;
    std::ofstream(dir / "bad.json") << manifest.dump(2);
    const auto r = run_cli("anonymize -q " + quote(dir / "grey.png") + " -o " + quote(dir / "out.png") + " --model " + quote(dir / "bad.json"));
    EXPECT_NE(r.exit_code, 0) << classes.dump();
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.png"));
  };
  refused({{{"id", 0}, {"name", "plate"}, {"hide_as", "plate"}, {"threshold", 0.5}, {"style", "blur"}}},
          "\"style\", \"shape\" and \"padding\" are for classes of your own");
  refused({{{"id", 0}, {"name", "x"}, {"hide_as", "Screen!"}, {"threshold", 0.5}}}, "expected face, plate or a name of your own");
  refused({{{"id", 0}, {"name", "x"}, {"hide_as", "screen"}, {"threshold", 0.5}, {"style", "pixelate"}}},
          "\"style\" is \"pixelate\", expected mosaic, blur or fill");
}
