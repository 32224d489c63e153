// The progress line fits the terminal: at ~95 characters it wrapped on 80 columns, and each redraw of a
// wrapped line left a row behind.
#include <gtest/gtest.h>

#include "pipeline/progress.hpp"

namespace roadveil::pipeline {
namespace {

TEST(Progress, TheLineFitsTheTerminalAndKeepsItsNumbers) {
  const std::string label = "drive_2026-12-06_front_camera_0042.mp4";
  const std::string wide = progress_line(label, 500, 1500, 37.5, "0:27", 200);
  EXPECT_EQ(wide, label + " [########................]  33% 500/1500 frames 37.5 fps ETA 0:27");
  for (const int columns : {120, 80, 60, 40}) {
    SCOPED_TRACE(columns);
    const std::string line = progress_line(label, 500, 1500, 37.5, "0:27", columns);
    EXPECT_LE(static_cast<int>(line.size()), columns - 1) << line;
    EXPECT_NE(line.find("500/1500"), std::string::npos) << line;
    EXPECT_NE(line.find("ETA 0:27"), std::string::npos) << line;
  }
  // The bar narrows and the label is cut at its start (where names differ least) before the bar goes.
  const std::string usual = progress_line(label, 500, 1500, 37.5, "0:27", 80);
  EXPECT_NE(usual.find("[###"), std::string::npos) << usual;
  EXPECT_TRUE(usual.starts_with("...")) << usual;
  EXPECT_NE(usual.find("0042.mp4"), std::string::npos) << usual;
  const std::string narrow = progress_line(label, 500, 1500, 37.5, "0:27", 40);
  EXPECT_EQ(narrow.find('['), std::string::npos) << narrow;
  // A terminal too narrow for all of it keeps the end: the numbers.
  const std::string tiny = progress_line(label, 500, 1500, 37.5, "0:27", 24);
  EXPECT_LE(tiny.size(), 23u);
  EXPECT_TRUE(tiny.ends_with("ETA 0:27")) << tiny;
  // Without a frame count: frames and fps.
  EXPECT_EQ(progress_line("a.mp4", 12, 0, 3.0, "", 80), "a.mp4 12 frames 3.0 fps");
}

}  // namespace
}  // namespace roadveil::pipeline
