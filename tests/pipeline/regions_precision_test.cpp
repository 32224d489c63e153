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
