// `roadveil anonymize` on S3-compatible storage, end to end against s3rver started by the test on 127.0.0.1:
// a prefix in, a prefix out with an audit record beside each output and the metadata that lets a rerun skip
// finished work; single objects to and from local files; clear errors for what is missing or refused.
#include <gtest/gtest.h>

#include <httplib.h>

#include <fstream>
#include <optional>
#include <regex>
#include <thread>
#include <nlohmann/json.hpp>

#include "server_process.hpp"
#include "service_test_util.hpp"
#include "core/sha256.hpp"
#include "pipeline/anonymizer.hpp"
#include "service/object_jobs.hpp"
#include "storage/s3_client.hpp"
#include "test_util.hpp"

using namespace roadveil::storage;
using namespace roadveil::testing;

namespace {

// Each run's work folder goes under `tmp` when given (TMPDIR), so a test can see that nothing is left there.
CommandResult run_roadveil(const S3rver& store, const std::string& args, const std::filesystem::path& tmp = {}) {
  return run_command(store.environment() + (tmp.empty() ? "" : "TMPDIR=" + quote(tmp) + " ") + std::string(ROADVEIL_CLI) + " " + args + " --models " + quote(models_dir()));
}

// render takes no models.
CommandResult run_render(const S3rver& store, const std::string& args) {
  return run_command(store.environment() + std::string(ROADVEIL_CLI) + " " + args);
}

// Presentation timestamps of every video frame, as ffprobe prints them.
std::string video_frame_times(const std::filesystem::path& p) {
  return ffprobe("-select_streams v:0 -show_entries frame=best_effort_timestamp_time -of csv=p=0 " + quote(p));
}

}  // namespace

TEST(ObjectStorage, PrefixInPrefixOutWithAuditRecordsAndRerunsSkipFinishedWork) {
  S3rver store({"uploads", "anonymized"});
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-loop 1 -i " + quote(face_photo()) + " -f lavfi -i sine=frequency=440:duration=1 -t 1 -r 10 "
              "-vf scale=512:366 -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest " + quote(dir / "drive.mp4"));
  client.upload(dir / "drive.mp4", parse_s3_url("s3://uploads/cam 1/drive.mp4"));
  client.upload(face_photo(), parse_s3_url("s3://uploads/cam 1/stills/face.jpg"));
  client.upload(face_photo(), parse_s3_url("s3://uploads/cam 1/notes.txt"));  // not media: left alone

  std::filesystem::create_directories(dir / "tmp");
  auto r = run_roadveil(store, "anonymize s3://uploads/ -o s3://anonymized/run/ --progress", dir / "tmp");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 files done, 0 skipped"), std::string::npos) << r.output;
  std::vector<std::string> keys;
  for (const auto& o : client.list(parse_s3_url("s3://anonymized/"))) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"run/cam 1/drive.mp4", "run/cam 1/drive.mp4.audit.json",
                                            "run/cam 1/drive.mp4.regions.json", "run/cam 1/stills/face.jpg",
                                            "run/cam 1/stills/face.jpg.audit.json", "run/cam 1/stills/face.jpg.regions.json"}));

  const auto source = client.head(parse_s3_url("s3://uploads/cam 1/drive.mp4"));
  const auto made = client.head(parse_s3_url("s3://anonymized/run/cam 1/drive.mp4"));
  ASSERT_TRUE(source && made);
  EXPECT_EQ(made->metadata.at("roadveil-source"), "s3://uploads/cam%201/drive.mp4");
  EXPECT_EQ(made->metadata.at("roadveil-source-etag"), source->etag);
  EXPECT_EQ(made->metadata.at("roadveil-version"), "0.1.1");
  EXPECT_EQ(made->metadata.at("roadveil-settings").size(), 64u);

  // The output is a whole anonymized video: every frame and the audio, and the face is hidden.
  client.download(parse_s3_url("s3://anonymized/run/cam 1/drive.mp4"), dir / "out.mp4");
  EXPECT_EQ(video_frame_times(dir / "out.mp4"), video_frame_times(dir / "drive.mp4"));
  EXPECT_NE(ffprobe("-show_entries stream=codec_type " + quote(dir / "out.mp4")).find("audio"), std::string::npos);
  client.download(parse_s3_url("s3://anonymized/run/cam 1/drive.mp4.audit.json"), dir / "audit.json");
  const auto audit = nlohmann::json::parse(read_text(dir / "audit.json"));
  EXPECT_EQ(audit["input"]["path"], "s3://uploads/cam 1/drive.mp4");
  EXPECT_EQ(audit["input"]["etag"], source->etag);
  // Decoded from ranged reads, not a downloaded copy; hashed from the same reads.
  EXPECT_EQ(audit["input"]["sha256"], roadveil::sha256_file_hex(dir / "drive.mp4"));
  EXPECT_EQ(audit["input"]["size"], std::filesystem::file_size(dir / "drive.mp4"));
  EXPECT_EQ(audit["input"]["frame_count"], 10);
  EXPECT_EQ(audit["output"]["path"], "s3://anonymized/run/cam 1/drive.mp4");
  EXPECT_GT(audit["regions"]["by_class"]["face"].get<int>(), 0) << audit.dump(1);
  // The regions file beside it: one entry naming the objects, every frame's regions, the audit record.
  client.download(parse_s3_url("s3://anonymized/run/cam 1/drive.mp4.regions.json"), dir / "regions.json");
  const auto regions = nlohmann::json::parse(read_text(dir / "regions.json"));
  ASSERT_EQ(regions["entries"].size(), 1u);
  EXPECT_EQ(regions["entries"][0]["input"], "s3://uploads/cam 1/drive.mp4");
  EXPECT_EQ(regions["entries"][0]["output"], "s3://anonymized/run/cam 1/drive.mp4");
  EXPECT_EQ(regions["entries"][0]["frames"].size(), 10u);
  EXPECT_EQ(regions["entries"][0]["audit"]["input"]["etag"], source->etag);

  // A rerun (a retried task) finds both done; other settings make other outputs.
  r = run_roadveil(store, "anonymize s3://uploads/ -o s3://anonymized/run/ --progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 files done, 2 skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("s3://anonymized/run/cam 1/drive.mp4: already made from this input with these settings"),
            std::string::npos) << r.output;
  r = run_roadveil(store, "anonymize s3://uploads/ -o s3://anonymized/run/ --style blur --progress");
  EXPECT_NE(r.output.find("2 files done, 0 skipped"), std::string::npos) << r.output;
  EXPECT_NE(client.head(parse_s3_url("s3://anonymized/run/cam 1/drive.mp4"))->metadata.at("roadveil-settings"),
            made->metadata.at("roadveil-settings"));
  // Nothing is left of the work folder.
  EXPECT_TRUE(std::filesystem::is_empty(dir / "tmp"));
}

TEST(ObjectStorage, SingleObjectsToAndFromLocalFiles) {
  S3rver store({"bkt"});
  S3Client client(config_for(store));
  TempDir dir;
  client.upload(face_photo(), parse_s3_url("s3://bkt/in/face.jpg"));
  auto r = run_roadveil(store, "anonymize -q s3://bkt/in/face.jpg -o " + quote(dir / "face.jpg"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "face.jpg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "face.jpg.audit.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "face.jpg.regions.json"));
  // The record names its regions file (it said none, so audit never checked the hidden area of such an output).
  const auto audited = run_roadveil(store, "audit " + quote(dir / "face.jpg.audit.json") + " --input " + quote(face_photo()));
  EXPECT_EQ(audited.exit_code, 0) << audited.output;
  EXPECT_NE(audited.output.find("ok      regions file counts"), std::string::npos) << audited.output;
  EXPECT_NE(audited.output.find("hidden regions reproduced"), std::string::npos) << audited.output;
  r = run_roadveil(store, "anonymize -q " + quote(face_photo()) + " -o s3://bkt/out/street.jpg");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto up = client.head(parse_s3_url("s3://bkt/out/street.jpg"));
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->metadata.count("roadveil-source-etag"), 0u);  // a local input has no ETag
  EXPECT_TRUE(client.head(parse_s3_url("s3://bkt/out/street.jpg.audit.json")).has_value());
  // Regression (review of storage): with one side local, a rerun (a retried shard task) made and replaced every
  // output again. Skipped now by the local audit record, or the source's SHA-256 in the object's metadata.
  r = run_roadveil(store, "anonymize s3://bkt/in/face.jpg -o " + quote(dir / "face.jpg"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("already made from this input with these settings: skipped"), std::string::npos) << r.output;
  r = run_roadveil(store, "anonymize " + quote(face_photo()) + " -o s3://bkt/out/street.jpg");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("already made from this input with these settings: skipped"), std::string::npos) << r.output;
  EXPECT_EQ(client.head(parse_s3_url("s3://bkt/out/street.jpg"))->etag, up->etag);
  // Other settings, or another version of the object, make it again.
  r = run_roadveil(store, "anonymize --style blur " + quote(face_photo()) + " -o s3://bkt/out/street.jpg");
  EXPECT_EQ(r.output.find("skipped"), std::string::npos) << r.output;
  client.upload(shared_dir() / "eval/faces-street/images/maksssksksss1.jpg", parse_s3_url("s3://bkt/in/face.jpg"));
  r = run_roadveil(store, "anonymize s3://bkt/in/face.jpg -o " + quote(dir / "face.jpg"));
  EXPECT_EQ(r.output.find("skipped"), std::string::npos) << r.output;
}

// Regression (review of storage): a damaged input's output (rendered as far as it decoded, exit 3) counted as
// done on object storage: the retried task exited 0 ("already made") where a local --skip-done makes it again.
TEST(ObjectStorage, ADamagedOutputIsNotTakenAsDone) {
  S3rver store({"bkt"});
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=320x240:rate=25 -t 2 -c:v libx264 -g 10 -movflags +faststart " + quote(dir / "full.mp4"));
  const std::string bytes = read_text(dir / "full.mp4");
  std::ofstream(dir / "cut.mp4", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  client.upload(dir / "cut.mp4", parse_s3_url("s3://bkt/in/cut.mp4"));
  for (int run = 0; run < 2; ++run) {
    const auto r = run_roadveil(store, "anonymize s3://bkt/in/ -o s3://bkt/out/ --no-faces --no-plates");
    EXPECT_EQ(r.exit_code, 3) << "run " << run << ": " << r.output;
    EXPECT_EQ(r.output.find("skipped"), std::string::npos) << r.output;
  }
  EXPECT_EQ(client.head(parse_s3_url("s3://bkt/out/cut.mp4"))->metadata.at("roadveil-status"), "damaged");
}

TEST(ObjectStorage, MissingAndRefusedAreClearErrors) {
  S3rver store({"bkt"});
  S3Client client(config_for(store));
  TempDir dir;
  auto r = run_roadveil(store, "anonymize -q s3://bkt/none.mp4 -o s3://bkt/out/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("s3://bkt/none.mp4: no such object"), std::string::npos) << r.output;
  r = run_roadveil(store, "anonymize -q s3://nobucket/x/ -o s3://bkt/out/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("there is no bucket 'nobucket' at " + store.endpoint()), std::string::npos) << r.output;
  r = run_roadveil(store, "anonymize -q s3://bkt/in/ -o s3://bkt/in/");
  EXPECT_NE(r.output.find("s3://bkt/in/: the output prefix is this input prefix"), std::string::npos) << r.output;
  client.upload(face_photo(), parse_s3_url("s3://bkt/in/face.jpg"));
  r = run_command(store.environment() + "AWS_ACCESS_KEY_ID=AKIAOTHER AWS_SECRET_ACCESS_KEY=do-not-print " +
                  std::string(ROADVEIL_CLI) + " anonymize -q s3://bkt/in/face.jpg -o " + quote(dir / "x.jpg") +
                  " --models " + quote(models_dir()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("s3://bkt/in/face.jpg: reading failed: access denied (HTTP 403"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("do-not-print"), std::string::npos) << r.output;
  r = run_roadveil(store, "anonymize -q s3://bkt/in/ -o s3://bkt/single.jpg");
  EXPECT_NE(r.output.find("need an output prefix ending in '/'"), std::string::npos) << r.output;
  // Regression (review of storage): an object anonymized onto itself, or into its own prefix, replaced the
  // original with exit 0, and each rerun anonymized the anonymized file again.
  const std::string original = client.head(parse_s3_url("s3://bkt/in/face.jpg"))->etag;
  for (const char* output : {"s3://bkt/in/face.jpg", "s3://bkt/in/"}) {
    r = run_roadveil(store, std::string("anonymize -q s3://bkt/in/face.jpg -o ") + output);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("s3://bkt/in/face.jpg: is an input; the output of s3://bkt/in/face.jpg would replace an original"),
              std::string::npos) << r.output;
  }
  EXPECT_EQ(client.head(parse_s3_url("s3://bkt/in/face.jpg"))->etag, original);
  // Regression (review of storage): a message named the work folder's copy, gone when it is read.
  std::ofstream(dir / "empty.jpg") << "";
  client.upload(dir / "empty.jpg", parse_s3_url("s3://bkt/bad/empty.jpg"));
  r = run_roadveil(store, "anonymize -q s3://bkt/bad/empty.jpg -o s3://bkt/o/");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("s3://bkt/bad/empty.jpg: file is empty"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("roadveil-work"), std::string::npos) << r.output;
}

// An object key is any text. Keys that would climb out of the local output folder ("in/../x.jpg", empty parts
// as in "in//x.jpg") are refused for that object (naming it); the others are written, and nothing appears
// outside the folder. s3rver normalises such keys away, so a cpp-httplib store lists them as AWS would.
TEST(ObjectStorage, KeysCannotWriteOutsideTheLocalOutputFolder) {
  const int port = free_port();
  httplib::Server server;
  const std::string photo = read_text(face_photo());
  server.Get("/bkt/", [&](const httplib::Request&, httplib::Response& res) {
    std::string xml = "<ListBucketResult><IsTruncated>false</IsTruncated>";
    for (const char* key : {"in/../escape.jpg", "in//rooted.jpg", "in/ok.jpg"})
      xml += std::string("<Contents><Key>") + key + "</Key><Size>1</Size><ETag>\"e\"</ETag></Contents>";
    res.set_content(xml + "</ListBucketResult>", "application/xml");
  });
  server.Get("/bkt/in/ok.jpg", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"e\"");
    res.set_content(photo, "image/jpeg");
  });
  ASSERT_TRUE(server.bind_to_port("127.0.0.1", port));
  std::thread thread([&] { server.listen_after_bind(); });
  TempDir dir;
  std::filesystem::create_directories(dir / "a" / "out");
  const auto r = run_command("AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
                             "AWS_CONFIG_FILE=/nonexistent AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(port) + " " +
                             std::string(ROADVEIL_CLI) + " anonymize -q --no-audit s3://bkt/in/ -o " + quote(dir / "a" / "out") +
                             " --models " + quote(models_dir()));
  server.stop();
  thread.join();
  EXPECT_EQ(r.exit_code, 3) << r.output;  // one done, two refused
  EXPECT_NE(r.output.find("s3://bkt/in/../escape.jpg: '../escape.jpg': a key with an empty, '.' or '..' part"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("s3://bkt/in//rooted.jpg: '/rooted.jpg'"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "a" / "out" / "ok.jpg"));
  EXPECT_FALSE(std::filesystem::exists(dir / "a" / "escape.jpg"));
  EXPECT_FALSE(std::filesystem::exists("/rooted.jpg"));
}

// --models s3://bucket/prefix/: the files are copied once into the cache ($XDG_CACHE_HOME/roadveil/models/...)
// and reused; an object whose bytes are not the registry's is refused, naming it.
TEST(ObjectStorage, ModelsComeFromABucketIntoALocalCache) {
  S3rver store({"team"});
  S3Client client(config_for(store));
  TempDir dir;
  for (const char* file : {"face-yunet-n/yunet_n_dynamic.onnx", "plate-yolov9t/yolo-v9-t-license-plates-f32-rawheads.dyn.onnx",
                           "detector-yolox-nano/yolox_nano.dyn.onnx", "head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx"})
    client.upload(models_dir() / file, parse_s3_url(std::string("s3://team/models/v1/") + file));
  auto run = [&](const std::string& models) {
    return run_command(store.environment() + "XDG_CACHE_HOME=" + quote(dir / "cache") + " " + std::string(ROADVEIL_CLI) +
                       " anonymize -q --no-audit " + quote(face_photo()) + " -o " + quote(dir / "out.jpg") + " --models " + models);
  };
  auto r = run("s3://team/models/v1/");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto cached = dir / "cache/roadveil/models/team/models/v1/head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx";
  ASSERT_TRUE(std::filesystem::exists(cached));
  const auto when = std::filesystem::last_write_time(cached);
  r = run("s3://team/models/v1");  // the same prefix without its slash: the cache is reused, nothing fetched
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::filesystem::last_write_time(cached), when);
  // Another prefix whose head model is some other file.
  for (const char* file : {"face-yunet-n/yunet_n_dynamic.onnx", "plate-yolov9t/yolo-v9-t-license-plates-f32-rawheads.dyn.onnx",
                           "detector-yolox-nano/yolox_nano.dyn.onnx"})
    client.upload(models_dir() / file, parse_s3_url(std::string("s3://team/models/bad/") + file));
  client.upload(face_photo(), parse_s3_url("s3://team/models/bad/head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx"));
  r = run("s3://team/models/bad/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("s3://team/models/bad/head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx: not the model file"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "cache/roadveil/models/team/models/bad/head-yolox-bhh/yolox_n_body_head_hand.dyn.onnx"));
}

// The regions file written beside an output in a bucket is what `review` edits and `render` applies: render
// takes it from the bucket, reads the object by ranges and uploads the result with its audit record. Rendering
// the unedited file reproduces the anonymized output frame for frame (the encoder is deterministic).
TEST(ObjectStorage, RenderAppliesTheRegionsFileBesideAnOutputInTheBucket) {
  S3rver store({"uploads", "anonymized"});
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-loop 1 -i " + quote(face_photo()) + " -t 1 -r 10 -vf scale=512:366 -c:v libx264 -pix_fmt yuv420p " +
              quote(dir / "drive.mp4"));
  client.upload(dir / "drive.mp4", parse_s3_url("s3://uploads/drive.mp4"));
  auto r = run_roadveil(store, "anonymize -q s3://uploads/drive.mp4 -o s3://anonymized/drive.mp4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_render(store, "render -q --regions s3://anonymized/drive.mp4.regions.json s3://uploads/drive.mp4 -o s3://anonymized/rendered.mp4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  client.download(parse_s3_url("s3://anonymized/drive.mp4"), dir / "anonymized.mp4");
  client.download(parse_s3_url("s3://anonymized/rendered.mp4"), dir / "rendered.mp4");
  auto frames = [](const std::filesystem::path& p) {
    return run_command("ffmpeg -v error -i " + quote(p) + " -map 0:v -f framemd5 - | grep -v '^#'").output;
  };
  const std::string rendered = frames(dir / "rendered.mp4");
  EXPECT_EQ(std::count(rendered.begin(), rendered.end(), '\n'), 10);
  EXPECT_EQ(rendered, frames(dir / "anonymized.mp4"));
  client.download(parse_s3_url("s3://anonymized/rendered.mp4.audit.json"), dir / "audit.json");
  const auto audit = nlohmann::json::parse(read_text(dir / "audit.json"));
  EXPECT_EQ(audit["command"], "render");
  EXPECT_EQ(audit["regions_file"]["path"], "s3://anonymized/drive.mp4.regions.json");
  EXPECT_EQ(audit["regions_file"]["role"], "rendered");
  EXPECT_EQ(audit["input"]["path"], "s3://uploads/drive.mp4");
  // verify takes the output and its regions file from the bucket and records its result in the audit record
  // beside the output there.
  r = run_roadveil(store, "verify -q s3://anonymized/drive.mp4 --regions s3://anonymized/drive.mp4.regions.json --json " +
                              quote(dir / "verify.json"));
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4) << r.output;
  const auto verified = nlohmann::json::parse(read_text(dir / "verify.json"));
  EXPECT_EQ(verified["files"][0]["file"], "s3://anonymized/drive.mp4") << verified.dump(1);
  client.download(parse_s3_url("s3://anonymized/drive.mp4.audit.json"), dir / "anonymized.audit.json");
  const auto recorded = nlohmann::json::parse(read_text(dir / "anonymized.audit.json"));
  ASSERT_TRUE(recorded["verify"].is_object()) << recorded.dump(1);
  EXPECT_EQ(recorded["verify"]["frames_checked"], 10);
  // A rerun renders again: the regions file may have been edited.
  r = run_render(store, "render --progress --regions s3://anonymized/drive.mp4.regions.json s3://uploads/drive.mp4 -o s3://anonymized/rendered.mp4");
  EXPECT_NE(r.output.find("1 file done, 0 skipped"), std::string::npos) << r.output;
  // To a local file too; a missing regions object is a clear error naming it.
  r = run_render(store, "render -q --regions s3://anonymized/drive.mp4.regions.json s3://uploads/drive.mp4 -o " + quote(dir / "local.mp4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(frames(dir / "local.mp4"), frames(dir / "anonymized.mp4"));
  r = run_render(store, "render -q --regions s3://anonymized/nothing.json s3://uploads/drive.mp4 -o " + quote(dir / "x.mp4"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("s3://anonymized/nothing.json"), std::string::npos) << r.output;
  // A render never replaces the reviewed regions file it reads (a render to the anonymized output's own name
  // would have uploaded its regions file over it).
  r = run_render(store, "render -q --regions s3://anonymized/drive.mp4.regions.json s3://uploads/drive.mp4 -o s3://anonymized/drive.mp4");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("its regions file would replace s3://anonymized/drive.mp4.regions.json"), std::string::npos) << r.output;
  // A whole bucket: the regions file's only entry is drive.mp4's and is not applied to another video, whatever
  // the number of inputs named on the command line (it once was, for an input naming a bucket).
  client.upload(dir / "drive.mp4", parse_s3_url("s3://uploads/other.mp4"));
  r = run_render(store, "render -q --regions s3://anonymized/drive.mp4.regions.json s3://uploads -o s3://anonymized/all/");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("other.mp4"), std::string::npos) << r.output;
  EXPECT_TRUE(client.head(parse_s3_url("s3://anonymized/all/drive.mp4")));
  EXPECT_FALSE(client.head(parse_s3_url("s3://anonymized/all/other.mp4")));
}

// An object over the memory limit is decoded twice like a local file: a second ranged reader of the same
// version gives the renderer its frames again (it was decoded once with a warning). The output is the same,
// and the audit record's hash is still the object's. --low-memory asks for the same.
TEST(ObjectStorage, AnObjectOverTheMemoryLimitIsReadTwiceInRangesWithTheSameOutput) {
  S3rver store({"uploads"});
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=1280x720:rate=25:duration=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " +
              quote(dir / "clip.mp4"));
  client.upload(dir / "clip.mp4", parse_s3_url("s3://uploads/clip.mp4"));
  const auto held = run_roadveil(store, "anonymize -v s3://uploads/clip.mp4 -o " + quote(dir / "held.mp4") + " --memory-limit none");
  ASSERT_EQ(held.exit_code, 0) << held.output;
  EXPECT_EQ(held.output.find("decoding it twice"), std::string::npos) << held.output;
  for (const std::string options : {"--memory-limit 500M", "--low-memory --memory-limit none"}) {
    SCOPED_TRACE(options);
    const auto r = run_roadveil(store, "anonymize -v s3://uploads/clip.mp4 -o " + quote(dir / "twice.mp4") + " " + options);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (options.starts_with("--memory-limit")) {
      EXPECT_NE(r.output.find("s3://uploads/clip.mp4: holding 119 frames of 1280x720 for the tracker would take ~4"),
                std::string::npos) << r.output;
    }
    EXPECT_EQ(r.output.find("decoded once"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(at most (\d+) decoded frames held at once)"))) << r.output;
    EXPECT_LE(std::stoi(m[1]), 8 + 25 + 2) << r.output;
    const auto packets = [&](const char* name) { return ffprobe("-show_entries packet=size,pts -of csv " + quote(dir / name)); };
    EXPECT_EQ(packets("twice.mp4"), packets("held.mp4"));
    const auto audit = nlohmann::json::parse(read_text(dir / "twice.mp4.audit.json"));
    EXPECT_EQ(audit["input"]["sha256"], roadveil::sha256_file_hex(dir / "clip.mp4"));
    std::filesystem::remove(dir / "twice.mp4");
    std::filesystem::remove(dir / "twice.mp4.audit.json");
  }
}

// An HDR10 (PQ) video whose container carries no mastering metadata has it in its first keyframe's bitstream,
// which a second reader of the input takes: it opened the object's name as a file, so every such video read
// from a bucket failed with "s3://inbox/hdr.mp4: no such file" (found by a helper's review). Now a reader of its
// own, pinned to the same version; the metadata reaches the output as from a local file.
TEST(ObjectStorage, AnHdr10VideoFromABucketKeepsItsMetadata) {
  S3rver store({"inbox"});
  S3Client client(config_for(store));
  TempDir dir;
  ffmpeg_make("-f lavfi -i testsrc2=size=160x120:rate=10:duration=0.5 -c:v libx265 -pix_fmt yuv420p10le "
              "-color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -x265-params " +
              quote("log-level=error:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)"
                    "L(10000000,1):max-cll=1000,400") + " " + quote(dir / "hdr.mp4"));
  ASSERT_EQ(ffprobe("-select_streams v -show_streams " + quote(dir / "hdr.mp4")).find("Mastering"), std::string::npos)
      << "the container carries no mastering metadata of its own";
  client.upload(dir / "hdr.mp4", parse_s3_url("s3://inbox/hdr.mp4"));
  const auto r = run_roadveil(store, "anonymize -q --no-audit s3://inbox/hdr.mp4 -o " + quote(dir / "out.mkv"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string probe = ffprobe("-select_streams v -show_streams -show_frames -read_intervals %+#1 " + quote(dir / "out.mkv"));
  EXPECT_NE(probe.find("max_content=1000"), std::string::npos) << probe;
  EXPECT_NE(probe.find("color_transfer=smpte2084"), std::string::npos) << probe;
}

// A job that read version 1 of an object and finished after version 2 was uploaded (whose own event's job may
// have written the output already) replaced that output with the older one's. Now it checks the input just
// before uploading and leaves the output alone when the input was replaced or deleted.
namespace {
// A job run directly (run_object_job, as a worker runs it) from s3://inbox/face.jpg to s3://outbox/face.jpg,
// default settings, its work folder in the test's folder.
struct DirectJob {
  S3rver store;
  S3Client client;
  TempDir dir;
  const S3Url input = parse_s3_url("s3://inbox/face.jpg"), output = parse_s3_url("s3://outbox/face.jpg");
  roadveil::pipeline::AnonymizeOptions options;
  std::optional<roadveil::pipeline::Anonymizer> anonymizer;
  roadveil::service::RunContext context;
  roadveil::service::ObjectJob job;

  DirectJob() : store({"inbox", "outbox"}), client(config_for(store)) {
    client.upload(face_photo(), input);
    options.detector.models_dir = models_dir();
    anonymizer.emplace(options);
    std::filesystem::create_directories(dir / "work");
    context = {.client = &client, .anonymizer = &*anonymizer, .settings_digest = "settings", .work_dir = dir / "work", .before_upload = nullptr};
    job = {input, output, client.head(input)->etag};
  }
};
}  // namespace

TEST(ObjectStorage, AnInputReplacedWhileItWasAnonymizedIsNotUploaded) {
  DirectJob direct;
  auto& [store, client, dir, input, output, options, anonymizer, context, job] = direct;

  // Version 2 (another photo) lands after version 1 was read.
  const std::filesystem::path other = shared_dir() / "eval/faces-street/images/maksssksksss1.jpg";
  context.before_upload = [&] { client.upload(other, input); };
  auto r = roadveil::service::run_object_job(context, job);
  EXPECT_EQ(r.result, roadveil::service::JobResult::Superseded) << r.error;
  EXPECT_NE(r.error.find("s3://inbox/face.jpg was replaced while it was anonymized (ETag "), std::string::npos) << r.error;
  EXPECT_FALSE(client.head(output).has_value());
  EXPECT_TRUE(client.list(parse_s3_url("s3://outbox/")).empty());  // no regions file either
  EXPECT_TRUE(std::filesystem::is_empty(dir / "work" / "out"));

  // Version 2's own job writes it.
  context.before_upload = nullptr;
  const std::string v2 = client.head(input)->etag;
  EXPECT_NE(v2, job.input_etag);
  r = roadveil::service::run_object_job(context, {input, output, v2});
  ASSERT_EQ(r.result, roadveil::service::JobResult::Done) << r.error;
  EXPECT_EQ(client.head(output)->metadata.at("roadveil-source-etag"), v2);

  // Deleted mid-job: nothing written either.
  client.upload(face_photo(), input);
  context.before_upload = [&] { client.remove(input); };
  r = roadveil::service::run_object_job(context, {input, parse_s3_url("s3://outbox/gone.jpg"), client.head(input)->etag});
  EXPECT_EQ(r.result, roadveil::service::JobResult::Superseded) << r.error;
  EXPECT_NE(r.error.find("was deleted while it was anonymized"), std::string::npos) << r.error;
  EXPECT_FALSE(client.head(parse_s3_url("s3://outbox/gone.jpg")).has_value());
}

// Regression (review of storage): the evidence goes up before the output, and when the output's upload then
// failed, the new run's audit record and regions file stayed beside the earlier output (whose audit then
// FAILED; a reviewer's edited regions file was replaced). They are put back as they were, or removed.
TEST(ObjectStorage, AFailedOutputUploadLeavesTheEarlierOutputsEvidenceAsItWas) {
  DirectJob direct;
  auto& [store, client, dir, input, output, options, anonymizer, context, job] = direct;
  roadveil::pipeline::AuditContext audit;
  audit.command = "anonymize";
  audit.options = &options;
  context.audit = &audit;
  auto r = roadveil::service::run_object_job(context, job);
  ASSERT_EQ(r.result, roadveil::service::JobResult::Done) << r.error;
  const auto etag_of = [&](const std::string& url) {
    const auto info = client.head(parse_s3_url(url));
    return info ? info->etag : std::string("(none)");
  };
  const std::string record = etag_of("s3://outbox/face.jpg.audit.json"), regions = etag_of("s3://outbox/face.jpg.regions.json"),
                    made = etag_of("s3://outbox/face.jpg");
  ASSERT_NE(record, "(none)");
  ASSERT_NE(regions, "(none)");

  // A rerun (other settings) whose output upload fails after its evidence went up: the output's file is gone
  // when its turn comes.
  roadveil::pipeline::AnonymizeOptions blur = options;
  blur.styles[static_cast<int>(roadveil::ObjectClass::Face)].style = roadveil::redact::Style::Blur;
  roadveil::pipeline::Anonymizer blurring(blur);
  context.anonymizer = &blurring;
  context.settings_digest = "other settings";
  std::string failing = "face.jpg";
  context.before_upload = [&] {
    std::error_code ec;
    std::filesystem::remove(dir / "work" / "out" / failing, ec);
  };
  r = roadveil::service::run_object_job(context, job);
  EXPECT_EQ(r.result, roadveil::service::JobResult::Failed);
  EXPECT_EQ(etag_of("s3://outbox/face.jpg"), made);
  EXPECT_EQ(etag_of("s3://outbox/face.jpg.audit.json"), record);
  EXPECT_EQ(etag_of("s3://outbox/face.jpg.regions.json"), regions);
  // A first run failing so leaves nothing.
  failing = "new.jpg";
  r = roadveil::service::run_object_job(context, {input, parse_s3_url("s3://outbox/new.jpg"), job.input_etag});
  EXPECT_EQ(r.result, roadveil::service::JobResult::Failed);
  EXPECT_TRUE(client.list(parse_s3_url("s3://outbox/new")).empty());
}

// Regression (review of the day's diff): an output upload whose answer was lost (a timeout after its last byte)
// counted as failed, and the earlier evidence was put back beside the new output. It is checked for first.
TEST(ObjectStorage, AnUploadThatLandedIsToldFromOneThatDidNot) {
  S3rver store({"bkt"});
  S3Client client(config_for(store));
  const S3Url object = parse_s3_url("s3://bkt/out/face.jpg");
  const roadveil::storage::ObjectMetadata metadata{{"roadveil-settings", "abc"}, {"roadveil-status", "ok"}};
  EXPECT_FALSE(roadveil::service::upload_landed(client, object, face_photo(), metadata));  // not there
  client.upload(face_photo(), object, metadata);
  EXPECT_TRUE(roadveil::service::upload_landed(client, object, face_photo(), metadata));
  EXPECT_FALSE(roadveil::service::upload_landed(client, object, face_photo(), {{"roadveil-settings", "other"}}));
  EXPECT_FALSE(roadveil::service::upload_landed(client, object, shared_dir() / "eval/faces-street/images/maksssksksss1.jpg", metadata));
}
