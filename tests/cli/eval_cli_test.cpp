// `roadveil eval` on still images: which image an annotation is measured on. Its figures decide the product's
// claims and CI's floors, so an annotation measured on the wrong image is a defect even when the number looks
// good.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "test_util.hpp"

using namespace roadveil::testing;
using nlohmann::json;

namespace {
}  // namespace

// Sequence folders that each hold x.jpg: images were found by file name alone, so both annotations were
// measured on the first of them, and a grey frame with two annotated plates scored them hidden (plates 1.000
// instead of 0.500). Now the folders the annotation names decide, and an annotation that could be either
// image is an error.
TEST(EvalImages, AnnotationsAreMeasuredOnTheImageTheirPathNames) {
  TempDir dir;
  std::filesystem::create_directories(dir / "images" / "a");
  std::filesystem::create_directories(dir / "images" / "b");
  std::filesystem::copy_file(shared_dir() / "eval/plates-dashcam-ro/images/dayride_type1_001.mp4#t=1055.jpg", dir / "images/a/x.jpg");
  ffmpeg_make("-f lavfi -i color=gray:size=1280x720 -frames:v 1 " + quote(dir / "images/b/x.jpg"));
  const auto coco = [](const std::vector<std::string>& names) {
    json doc = {{"images", json::array()}, {"annotations", json::array()}, {"categories", {{{"id", 1}, {"name", "license-plate"}}}}};
    int id = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      doc["images"].push_back({{"id", i + 1}, {"file_name", names[i]}, {"width", 1280}, {"height", 720}});
      doc["annotations"].push_back({{"id", ++id}, {"image_id", i + 1}, {"category_id", 1}, {"bbox", {113, 400, 80, 20}}});
      doc["annotations"].push_back({{"id", ++id}, {"image_id", i + 1}, {"category_id", 1}, {"bbox", {562, 413, 87, 20}}});
    }
    return doc.dump();
  };
  std::ofstream(dir / "both.json") << coco({"a/x.jpg", "b/x.jpg"});
  auto r = run_cli("eval --ground-truth " + quote(dir / "both.json") + " " + quote(dir / "images") + " --json " + quote(dir / "r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json report = json::parse(read_text(dir / "r.json"));
  for (const auto& image : report.at("per_image")) {
    const int hidden = image.at("plate").at("counts")[1].get<int>();
    const int expected = image.at("image") == "b/x.jpg" ? 0 : 2;  // the grey frame hides nothing
    EXPECT_EQ(hidden, expected) << image.dump();
  }
  // One annotation naming x.jpg alone, two inputs of that name: which one is meant is unknown.
  std::ofstream(dir / "bare.json") << coco({"x.jpg"});
  r = run_cli("eval --ground-truth " + quote(dir / "bare.json") + " " + quote(dir / "images/a/x.jpg") + " " + quote(dir / "images/b/x.jpg"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("the annotated image x.jpg could be any of 2 inputs of that name"), std::string::npos) << r.output;
}

// A ground truth that is not there was reported as "cannot tell the annotation format".
TEST(EvalCli, AMissingGroundTruthIsNamedMissing) {
  TempDir dir;
  const auto r = run_cli("eval --ground-truth " + quote(dir / "nope") + " " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nope: no such file or folder"), std::string::npos) << r.output;
}

// A CVAT truth drawn on frames of another size (its original_size) was measured anyway: every box off the
// picture, recall 0 and its objects "never exposed", exit 0. Refused before the video is anonymized.
TEST(EvalCli, ACvatTruthForAnotherFrameSizeIsRefused) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "clip.mp4"));
  std::ofstream(dir / "truth.xml") << "<annotations><version>1.1</version><meta><task><original_size><width>640</width>"
                                      "<height>480</height></original_size></task></meta><track id=\"1\" label=\"face\">"
                                      "<box frame=\"0\" outside=\"0\" xtl=\"400\" ytl=\"300\" xbr=\"440\" ybr=\"340\"/></track></annotations>";
  const auto r = run_cli("eval --ground-truth " + quote(dir / "truth.xml") + " " + quote(dir / "clip.mp4"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the ground truth is for frames of 640x480 (its original_size), " + (dir / "clip.mp4").string() + " is 320x240"),
            std::string::npos) << r.output;
}

// --compare against a report measured with another --hidden-fraction declared "hides more" from identical
// detections: refused, naming both.
TEST(EvalCli, ACompareReportOfAnotherHiddenFractionIsRefused) {
  TempDir dir;
  std::ofstream(dir / "ref.json") << R"({"hidden_fraction": 0.9, "per_image": []})";
  const auto r = run_cli("eval --ground-truth " + quote(shared_dir() / "eval/faces-street/annotations") + " --hidden-fraction 0.3 --compare " +
                         quote(dir / "ref.json") + " " + quote(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("ref.json (--compare) was measured with --hidden-fraction 0.9, this run with 0.3"), std::string::npos) << r.output;
}

// From a read-only review of video truth: --no-plates still scored the plates of a video truth (photos drop
// switched-off classes), and a damaged video was scored as whole, exit 0, its missing frames blamed on the
// truth ("a truth of another clip?"). Now the class is not measured, and a damaged clip is measured on the
// frames that decoded, said so, exit 3.
TEST(EvalCli, AVideoTruthMeasuresOnlyTheClassesAskedAndADamagedClipSaysSo) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=10:duration=2 -c:v libx264 -pix_fmt yuv420p -f mpegts " + quote(dir / "clip.ts"));
  std::ofstream(dir / "truth.txt") << "1,1,10,10,30,30,1,1,1\n2,1,10,10,30,30,1,1,1\n"
                                      "1,1,100,100,40,12,1,2,1\n20,1,100,100,40,12,1,2,1\n";
  auto r = run_cli("eval --no-plates --ground-truth " + quote(dir / "truth.txt") + " " + quote(dir / "clip.ts") + " --json " + quote(dir / "r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("plate"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("face "), std::string::npos) << r.output;

  const std::string whole = read_text(dir / "clip.ts");
  std::ofstream(dir / "cut.ts", std::ios::binary) << whole.substr(0, whole.size() / 2 / 188 * 188 + 100);
  r = run_cli("eval --ground-truth " + quote(dir / "truth.txt") + " " + quote(dir / "cut.ts") + " --json " + quote(dir / "cut.json"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("damaged"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("a truth of another clip?"), std::string::npos) << r.output;
  EXPECT_TRUE(json::parse(read_text(dir / "cut.json")).value("damaged", false));
}

// From a read-only review: a turned video (a display matrix: a phone held upright) was measured against its
// truth in stored pixels, while annotation tools (CVAT, ffmpeg's frame extraction) show and annotate it
// upright: three faces, each hidden in every frame, scored 1 of 3. The truth is turned into the stored frame.
TEST(EvalCli, ATurnedVideosTruthIsTakenAsShown) {
  TempDir dir;
  make_upright_and_sideways_clips(dir.path(), 0.3);
  std::ofstream truth(dir / "truth.txt");
  for (int f = 1; f <= 3; ++f)  // the photo's three annotated faces, as shown
    truth << f << ",1,79,105,30,37,1,1,1\n" << f << ",2,185,100,41,44,1,1,1\n" << f << ",3,325,90,35,51,1,1,1\n";
  truth.close();
  auto measured = [&](const std::string& clip) {
    const auto r = run_cli("eval --ground-truth " + quote(dir / "truth.txt") + " " + quote(dir / clip) + " --json " + quote(dir / (clip + ".json")));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(read_text(dir / (clip + ".json")));
  };
  const json up = measured("up.mp4"), side = measured("side.mp4");
  EXPECT_EQ(side["classes"]["face"]["hidden_object_frames"], up["classes"]["face"]["hidden_object_frames"]) << side.dump().substr(0, 400);
  EXPECT_GE(up["classes"]["face"]["hidden_object_frames"].get<int>(), 6);
}
