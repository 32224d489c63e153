#pragma once
// What the object-storage and worker tests share: the client settings for the s3rver a test started, and
// the inputs they anonymize.
#include <filesystem>

#include "server_process.hpp"
#include "storage/s3_location.hpp"
#include "test_util.hpp"

namespace roadveil::testing {

// s3rver's fixed credentials, path-style.
inline storage::S3Config config_for(const S3rver& store) {
  storage::S3Config c;
  c.credentials = {"S3RVER", "S3RVER", ""};
  c.endpoint = store.endpoint();
  c.path_style = true;
  return c;
}

inline std::filesystem::path face_photo() { return shared_dir() / "eval/faces-street/images/maksssksksss0.jpg"; }

// 40 s of a real street clip with many people (~400 frames): a job of several seconds, so that a signal sent
// once a worker holds it lands mid-job (a synthetic pattern with nothing to find ran in under a second).
inline void make_long_street_clip(const std::filesystem::path& out) {
  ffmpeg_make("-i " + quote(shared_dir() / "eval/videos/intel_one-by-one-person-detection.mp4") + " -t 40 -c copy " + quote(out));
}

}  // namespace roadveil::testing
