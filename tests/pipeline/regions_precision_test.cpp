// What a run hides is exactly what its regions file says (issue #13: `verify` measures each region on the
// mosaic grid of the box in the file; a box written as 10.00 but hidden from 9.996 started its grid one
// pixel earlier).
#include <gtest/gtest.h>

#include <fstream>

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
