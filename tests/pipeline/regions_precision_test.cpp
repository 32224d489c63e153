// What a run hides is exactly what its regions file says (issue #13: `verify` measures each region on the
// mosaic grid of the box in the file; a box written as 10.00 but hidden from 9.996 started its grid one
// pixel earlier).
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "pipeline/audit_record.hpp"
#include "pipeline/regions_file.hpp"
#include "redact/redact_plan.hpp"
#include "test_util.hpp"

using namespace roadveil;

TEST(RegionsPrecision, BoxesAreHiddenAtThePrecisionTheFileKeeps) {
  Regions regions{{ObjectClass::Face, Box{9.996f, 20.004f, 50.3049f, 60.0f}, 0.9f}};
  pipeline::round_to_file_precision(regions);
  EXPECT_EQ(redact::hidden_rect(regions[0].box, 640, 480), (PixelRect{10, 20, 41, 40}));

  roadveil::testing::TempDir dir;
  {
    pipeline::RegionsWriter writer(dir / "r.json");
    writer.begin({"in.mp4", "out.mp4", true, 640, 480, 1, 25, 25.0});
    writer.frame(0, 0, regions);
    writer.end("ok", 1);
    writer.close();
  }
  const auto file = pipeline::RegionsFile::read(dir / "r.json");
  const Box& read = file.entries().front().frames.at(0).front().box;
  EXPECT_EQ(redact::hidden_rect(read, 640, 480), redact::hidden_rect(regions[0].box, 640, 480));
  EXPECT_FLOAT_EQ(read.x1, regions[0].box.x1);
  EXPECT_FLOAT_EQ(read.x2, regions[0].box.x2);
  // And the entry is found by its output, as `verify` looks it up.
  EXPECT_EQ(file.find_output("elsewhere/out.mp4"), &file.entries().front());
  EXPECT_EQ(file.find_output("other.mp4"), nullptr);
  EXPECT_EQ(file.find_output("other.mp4", true), &file.entries().front());
}

TEST(RegionsWriter, AFileThatFailsAfterItsEntryBeganLeavesTheFileValid) {
  // Issue #16 item 6: one failing file of a folder run left its entry unterminated and the JSON invalid.
  roadveil::testing::TempDir dir;
  {
    pipeline::RegionsWriter writer(dir / "r.json");
    writer.begin({"a.mp4", "out/a.mp4", true, 64, 48, 1, 25, 25.0});
    writer.frame(0, 0, {{ObjectClass::Plate, Box{1, 2, 30, 12}, 0.9f}});
    writer.fail("a.mp4: writing the output failed (disk full?)", 1);
    writer.fail("never written twice", 1);
    writer.begin({"b.mp4", "out/b.mp4", true, 64, 48, 1, 25, 25.0});
    writer.end("ok", 5);
    writer.begin({"c.mp4", "out/c.mp4", true, 64, 48, 1, 25, 25.0});  // the run stops here
    writer.close();
  }
  const std::string text = roadveil::testing::read_text(dir / "r.json");
  EXPECT_NE(text.find("\"status\": \"failed: a.mp4: writing the output failed (disk full?)\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"status\": \"failed: the run stopped before this file was complete\""), std::string::npos) << text;
  const auto file = pipeline::RegionsFile::read(dir / "r.json");  // throws on invalid JSON
  ASSERT_EQ(file.entries().size(), 3u);
  EXPECT_EQ(file.entries()[0].frames.size(), 1u);
  EXPECT_EQ(file.entries()[1].info.frame_count, 5);
}

// The styles of the classes of one's own models travel in the audit record a regions file holds (#15): read
// back for render, a malformed one refused naming the file, faces and plates never restyled by it, and a class
// whose manifest named no style keeps this run's --style.
TEST(RegionsFile, ClassStylesOfTheAuditRecordAreReadCheckedAndApplied) {
  roadveil::testing::TempDir dir;
  auto write = [&](const nlohmann::json& class_styles) {
    pipeline::RegionsWriter writer(dir / "r.json");
    writer.begin({"in.mp4", "out.mp4", true, 640, 480, 1, 25, 25.0});
    writer.frame(0, 0, {});
    writer.end("ok", 1);
    writer.attach_audit(nlohmann::json{{"settings", {{"class_styles", class_styles}}}}.dump());
    writer.close();
  };
  write({{"sign", {{"style", "fill"}, {"shape", "ellipse"}, {"style_given", true}}},
         {"logo", {{"style", "mosaic"}, {"shape", "box"}, {"style_given", false}}},
         {"face", {{"style", "fill"}, {"shape", "box"}}}});
  const auto file = pipeline::RegionsFile::read(dir / "r.json");
  redact::ClassStyles styles;
  for (auto& s : styles) s.style = redact::Style::Blur;  // this run's --style
  pipeline::apply_recorded_class_styles(file.class_styles(), styles);
  const int sign = static_cast<int>(*object_class_from_string("sign")), logo = static_cast<int>(*object_class_from_string("logo"));
  EXPECT_EQ(styles[sign].style, redact::Style::Fill);
  EXPECT_EQ(styles[sign].shape, redact::Shape::Ellipse);
  EXPECT_EQ(styles[logo].style, redact::Style::Blur) << "no style in its manifest: --style";
  EXPECT_EQ(styles[static_cast<int>(ObjectClass::Face)].style, redact::Style::Blur) << "faces are styled by the options";

  for (const nlohmann::json& bad : {nlohmann::json{{"Sign!", {{"style", "fill"}}}}, nlohmann::json{{"sign", {{"style", 3}}}}}) {
    write(bad);
    try {
      pipeline::RegionsFile::read(dir / "r.json");
      ADD_FAILURE() << bad.dump();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("r.json"), std::string::npos) << e.what();
    }
  }
}

// A regions file rewritten by another tool may print its integers as floats: the time base [1.0, 12800.0] is
// the same as [1, 12800] (it was ignored, the entry kept 1/1 and the review editor showed frame 25 of a
// 25 fps video at 12,800 s); one that is not two positive whole numbers is refused, naming the file and entry.
TEST(RegionsFile, ATimeBaseWrittenAsWholeFloatsIsReadAndABadOneRefused) {
  roadveil::testing::TempDir dir;
  const auto write = [&](const std::string& time_base) {
    std::ofstream(dir / "r.json") << R"({"format": "roadveil-regions", "version": 1, "entries": [{"input": "in.mp4",
        "type": "video", "width": 64, "height": 48, "time_base": )" << time_base << R"(, "frames": []}]})";
    return dir / "r.json";
  };
  for (const std::string good : {"[1, 12800]", "[1.0, 12800.0]", "[1, 1.28e4]"}) {
    SCOPED_TRACE(good);
    const auto file = pipeline::RegionsFile::read(write(good));
    EXPECT_EQ(file.entries().front().info.time_base_num, 1);
    EXPECT_EQ(file.entries().front().info.time_base_den, 12800);
  }
  for (const std::string bad : {"[1.5, 25]", "[0, 25]", "[1, -25]", "[1]", "\"1/25\"", "[1, \"25\"]", "[1, 1e30]"}) {
    SCOPED_TRACE(bad);
    try {
      pipeline::RegionsFile::read(write(bad));
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("r.json: entry 1: \"time_base\" must be [numerator, denominator]"), std::string::npos) << what;
    }
  }
}

// The digest an audit record keeps of the regions a run wrote (pipeline::RegionsDigest) is that of the same
// regions read back from the file, whatever the float rounding of boxes written unrounded, on the edge of a
// hundredth or thousands of pixels out; a box moved by a hundredth, another class or source changes it.
TEST(RegionsDigest, TheRegionsReadBackHaveTheDigestTheWriterKept) {
  const Regions first{{ObjectClass::Face, Box{9.995f, 20.004999f, 50.3049f, 60.0f}, 0.91234f, RegionSource::Head},
                      {ObjectClass::Plate, Box{7999.995f, 4499.125f, 8191.99f, 4500.0f}, 0.5f, RegionSource::Backward}};
  const Regions third{{ObjectClass::Face, Box{0.0049f, 0.005f, 1919.9951f, 1079.9949f}, 1.0f, RegionSource::Manual}};
  roadveil::testing::TempDir dir;
  std::string written;
  {
    pipeline::RegionsWriter writer(dir / "r.json");
    writer.begin({"in.mp4", "out.mp4", true, 8192, 4500, 1, 25, 25.0});
    writer.frame(0, 0, first);
    writer.frame(1, 1, {});
    writer.frame(3, 3, third);
    writer.end("ok", 4);
    written = writer.entry_digest();
    writer.close();
  }
  ASSERT_EQ(written.size(), 64u);
  const auto file = pipeline::RegionsFile::read(dir / "r.json");
  const auto& frames = file.entries().front().frames;
  EXPECT_EQ(pipeline::regions_digest(frames), written);
  // What is hidden changes it; what is not (score, track) does not.
  auto changed = frames;
  changed[3][0].box.x2 += 0.01f;
  EXPECT_NE(pipeline::regions_digest(changed), written);
  changed = frames;
  changed[0][1].source = RegionSource::Detector;
  EXPECT_NE(pipeline::regions_digest(changed), written);
  changed = frames;
  std::swap(changed[0], changed[3]);  // the same regions on other frames
  EXPECT_NE(pipeline::regions_digest(changed), written);
  changed = frames;
  changed[0][0].score = 0.1f;
  changed[0][0].track_id = 77;
  changed[2] = {};  // a frame listed without regions
  EXPECT_EQ(pipeline::regions_digest(changed), written);
}
