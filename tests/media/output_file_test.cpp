// What an output that cannot be made leaves behind: nothing. Its constructor throws, and a constructor that
// throws runs no destructor.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "media/input_file.hpp"
#include "media/output_file.hpp"
#include "test_util.hpp"

namespace roadveil::media {
namespace {

using roadveil::testing::ffmpeg_make;
using roadveil::testing::quote;
using roadveil::testing::TempDir;

// Regression: the refusal of a container that cannot hold the video (pick_encoder, after the output's format
// context was made) leaked that context (valgrind: 1,163 bytes definitely lost from
// avformat_alloc_output_context2; this test fails under the sanitizer job's LeakSanitizer without the fix).
TEST(OutputFile, AnOutputRefusedWhileBeingMadeLeaksNothingAndLeavesNoFile) {
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=10 -t 0.5 -c:v libx264 -pix_fmt yuv420p " + quote(dir / "in.mp4"));
  const InputFile input(dir / "in.mp4");
  for (const char* name : {"out.wav", "out.mp3", "out.flac"}) {
    try {
      OutputFile out(dir / name, input, EncodeOptions{});
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("container cannot hold h264"), std::string::npos) << e.what();
    }
  }
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "only the input: no output and no temporary file";
}

}  // namespace
}  // namespace roadveil::media
