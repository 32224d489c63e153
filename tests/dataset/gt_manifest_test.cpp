// The SageMaker Ground Truth object-detection manifest against its documentation: the example line of the
// Rekognition Custom Labels guide ("Object localization in manifest files") must read, and writing the same
// image must give the same JSON, field by field. Every documented requirement is checked on read.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "dataset/read.hpp"
#include "dataset/write.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;
using json = nlohmann::json;

// Verbatim from the AWS documentation (tabs included).
const std::string kDocumented =
    "{\"source-ref\": \"s3://bucket/images/IMG_1186.png\", \"bounding-box\": {\"image_size\": [{\"width\": 640, "
    "\"height\": 480, \"depth\": 3}], \"annotations\": [{ \"class_id\": 1,\t\"top\": 251,\t\"left\": 399, \"width\": "
    "155, \"height\": 101}, {\"class_id\": 0, \"top\": 65, \"left\": 86, \"width\": 220,\t\"height\": 334}]}, "
    "\"bounding-box-metadata\": {\"objects\": [{ \"confidence\": 1}, {\"confidence\": 1}],\t\"class-map\": {\"0\": "
    "\"Echo\",\t\"1\": \"Echo Dot\"}, \"type\": \"groundtruth/object-detection\", \"human-annotated\": \"yes\",\t"
    "\"creation-date\": \"2013-11-18T02:53:27\", \"job-name\": \"my job\"}}";

TEST(GtManifest, ReadsTheDocumentedExample) {
  TempDir dir;
  write_text(dir / "doc.manifest", kDocumented + "\n");
  ReadOptions o;
  o.image_uri_prefix = "s3://bucket/images/";
  const auto images = read_annotations(dir / "doc.manifest", Format::gt_manifest, o);
  ASSERT_EQ(images.size(), 1u);
  const AnnotatedImage& i = images[0];
  EXPECT_EQ(i.image, "IMG_1186.png");
  EXPECT_EQ(i.width, 640);
  EXPECT_EQ(i.height, 480);
  EXPECT_EQ(i.depth, 3);
  ASSERT_EQ(i.boxes.size(), 2u);
  EXPECT_EQ(i.boxes[0].label, "Echo Dot");
  EXPECT_EQ(i.boxes[0].box, (Box{399, 251, 554, 352}));
  EXPECT_EQ(i.boxes[1].label, "Echo");
  EXPECT_EQ(i.boxes[1].box, (Box{86, 65, 306, 399}));
  EXPECT_EQ(i.boxes[1].confidence, 1.0f);
}

TEST(GtManifest, WritesTheDocumentedExampleFieldByField) {
  AnnotatedImage image;
  image.image = "IMG_1186.png";
  image.width = 640;
  image.height = 480;
  image.depth = 3;
  image.boxes.resize(2);
  image.boxes[0].label = "Echo Dot";
  image.boxes[0].box = {399, 251, 554, 352};
  image.boxes[1].label = "Echo";
  image.boxes[1].box = {86, 65, 306, 399};
  TempDir dir;
  WriteOptions w;
  w.image_uri_prefix = "s3://bucket/images";  // the missing final slash is added
  w.creation_date = "2013-11-18T02:53:27";
  w.job_name = "my job";
  w.classes = std::make_shared<ClassIndex>(std::vector<std::string>{"Echo", "Echo Dot"});
  write_annotations(dir / "out.manifest", Format::gt_manifest, {image}, w);
  const auto lines = read_lines(dir / "out.manifest");
  ASSERT_EQ(lines.size(), 1u);
  const json got = json::parse(lines[0]);
  const json want = json::parse(kDocumented);

  ASSERT_TRUE(got.is_object());
  EXPECT_EQ(got.size(), 3u) << "only source-ref, the label attribute and its metadata";
  EXPECT_EQ(got["source-ref"], "s3://bucket/images/IMG_1186.png");
  const json& label = got["bounding-box"];
  ASSERT_TRUE(label["image_size"].is_array());
  ASSERT_EQ(label["image_size"].size(), 1u);
  for (const char* k : {"width", "height", "depth"}) {
    EXPECT_TRUE(label["image_size"][0][k].is_number_integer()) << k;
    EXPECT_EQ(label["image_size"][0][k], want["bounding-box"]["image_size"][0][k]) << k;
  }
  ASSERT_EQ(label["annotations"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const json& a = label["annotations"][i];
    EXPECT_EQ(a.size(), 5u);
    for (const char* k : {"class_id", "left", "top", "width", "height"}) {
      EXPECT_TRUE(a[k].is_number_integer()) << k;
      EXPECT_EQ(a[k], want["bounding-box"]["annotations"][i][k]) << i << " " << k;
    }
  }
  const json& meta = got["bounding-box-metadata"];
  EXPECT_EQ(meta["objects"], want["bounding-box-metadata"]["objects"]);
  EXPECT_EQ(meta["class-map"], want["bounding-box-metadata"]["class-map"]);
  EXPECT_EQ(meta["type"], "groundtruth/object-detection");
  EXPECT_EQ(meta["human-annotated"], "yes");
  EXPECT_EQ(meta["creation-date"], "2013-11-18T02:53:27");
  EXPECT_EQ(meta["job-name"], "my job");
  // And as a whole: the same JSON value as the documentation's line.
  EXPECT_EQ(got, want);
  // JSON Lines: one object per line, source-ref first as in every AWS example.
  EXPECT_EQ(lines[0].rfind("{\"source-ref\":", 0), 0u);
}

TEST(GtManifest, RealSetWritesValidLinesWithConsistentClassIds) {
  const auto images = read_annotations(shared_eval() / "dashcam-berlin-dev" / "annotations", Format::voc, {});
  TempDir dir;
  WriteOptions w;
  w.image_uri_prefix = "s3://my-bucket/berlin/";
  w.label_attribute = "plates-and-faces";
  write_annotations(dir / "berlin.manifest", Format::gt_manifest, images, w);
  const auto lines = read_lines(dir / "berlin.manifest");
  ASSERT_EQ(lines.size(), 50u);
  const std::regex date(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})");
  std::map<int, std::string> ids;
  for (const std::string& line : lines) {
    const json j = json::parse(line);
    const json& meta = j["plates-and-faces-metadata"];
    const json& annotations = j["plates-and-faces"]["annotations"];
    EXPECT_EQ(meta["objects"].size(), annotations.size());
    EXPECT_TRUE(std::regex_match(meta["creation-date"].get<std::string>(), date)) << meta["creation-date"];
    EXPECT_EQ(meta["job-name"], "labeling-job/roadveil");
    std::set<std::string> used;
    for (const json& a : annotations) {
      const std::string id = std::to_string(a["class_id"].get<int>());
      ASSERT_TRUE(meta["class-map"].contains(id)) << line;
      used.insert(id);
      const auto [it, fresh] = ids.emplace(a["class_id"].get<int>(), meta["class-map"][id].get<std::string>());
      EXPECT_EQ(it->second, meta["class-map"][id]) << "class ids must mean the same on every line";
      EXPECT_GE(a["width"].get<int>(), 1);
    }
    EXPECT_EQ(meta["class-map"].size(), used.size()) << "the class-map lists the classes of the image";
  }
  EXPECT_EQ(ids.size(), 2u);
  // The reader accepts every line it wrote.
  Report report(true);
  ReadOptions r;
  r.report = &report;
  r.image_uri_prefix = w.image_uri_prefix;
  EXPECT_EQ(box_count(read_annotations(dir / "berlin.manifest", Format::gt_manifest, r)), 266u);
}

TEST(GtManifest, WriterRefusesWhatTheFormatForbids) {
  TempDir dir;
  WriteOptions w;
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);  // no s3:// prefix
  w.image_uri_prefix = "/data/images/";
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);
  w.image_uri_prefix = "s3:///images/";
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);  // no bucket
  w.image_uri_prefix = "s3://bucket/";
  w.label_attribute = "boxes-ref";
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);
  w.label_attribute = "boxes-metadata";
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);
  w.label_attribute = "boxes";
  w.creation_date = "yesterday";
  EXPECT_THROW(make_writer(Format::gt_manifest, dir / "a.manifest", w), Error);
  EXPECT_TRUE(tree(dir.path()).empty()) << "a refused writer leaves no file";
  // An image without a size cannot be written: reported, not guessed.
  w.creation_date.clear();
  Report report;
  w.report = &report;
  AnnotatedImage unsized;
  unsized.image = "x.jpg";
  unsized.normalized = true;
  unsized.boxes.resize(1);
  unsized.boxes[0].box = {0.1f, 0.1f, 0.2f, 0.2f};
  auto writer = make_writer(Format::gt_manifest, dir / "a.manifest", w);
  EXPECT_FALSE(writer->write(unsized));
  EXPECT_EQ(report.count(Problem::unknown_size), 1u);
}

json documented() { return json::parse(kDocumented); }

struct BadLine {
  const char* name;
  std::function<void(json&)> mutate;
  Problem kind;
  const char* message;
};

TEST(GtManifest, ValidatesEveryDocumentedField) {
  const std::vector<BadLine> cases = {
      {"no source-ref", [](json& j) { j.erase("source-ref"); }, Problem::malformed, "source-ref"},
      {"local source-ref", [](json& j) { j["source-ref"] = "/images/a.png"; }, Problem::malformed, "s3://bucket/key"},
      {"no image_size", [](json& j) { j["bounding-box"].erase("image_size"); }, Problem::malformed, "image_size"},
      {"image_size object", [](json& j) { j["bounding-box"]["image_size"] = j["bounding-box"]["image_size"][0]; },
       Problem::malformed, "array of one"},
      {"zero width", [](json& j) { j["bounding-box"]["image_size"][0]["width"] = 0; }, Problem::malformed, "width"},
      {"no depth", [](json& j) { j["bounding-box"]["image_size"][0].erase("depth"); }, Problem::malformed, "depth"},
      {"no annotations", [](json& j) { j["bounding-box"].erase("annotations"); }, Problem::malformed, "annotations"},
      {"objects count", [](json& j) { j["bounding-box-metadata"]["objects"].erase(0); }, Problem::malformed,
       "one entry per annotation"},
      {"class not in map", [](json& j) { j["bounding-box"]["annotations"][0]["class_id"] = 7; }, Problem::unknown_label,
       "class_id 7"},
      {"negative class", [](json& j) { j["bounding-box"]["annotations"][0]["class_id"] = -1; }, Problem::malformed,
       "class_id"},
      {"no left", [](json& j) { j["bounding-box"]["annotations"][1].erase("left"); }, Problem::malformed, "left"},
      {"wrong type", [](json& j) { j["bounding-box-metadata"]["type"] = "groundtruth/image-classification"; },
       Problem::malformed, "groundtruth/object-detection"},
      {"human maybe", [](json& j) { j["bounding-box-metadata"]["human-annotated"] = "maybe"; }, Problem::malformed,
       "human-annotated"},
      {"bad date", [](json& j) { j["bounding-box-metadata"]["creation-date"] = "18/11/2013"; }, Problem::malformed,
       "creation-date"},
      {"no class-map", [](json& j) { j["bounding-box-metadata"].erase("class-map"); }, Problem::malformed, "class-map"},
      {"confidence 2", [](json& j) { j["bounding-box-metadata"]["objects"][0]["confidence"] = 2; },
       Problem::malformed, "confidence"},
      {"box outside", [](json& j) { j["bounding-box"]["annotations"][0]["left"] = 600; }, Problem::bad_box,
       "outside the image"},
      {"non-UTF-8 class", [](json& j) { j["bounding-box-metadata"]["class-map"]["0"] = "x"; }, Problem::bad_encoding,
       "UTF-8"},
  };
  for (const BadLine& c : cases) {
    json j = documented();
    c.mutate(j);
    std::string line = j.dump();
    if (std::string(c.name) == "non-UTF-8 class") line.replace(line.find("\"x\""), 3, "\"\xE9\"");
    TempDir dir;
    // Line 1 is good, line 2 is the bad one.
    write_text(dir / "m.manifest", kDocumented + "\n" + line + "\n");
    Report report;
    ReadOptions o;
    o.label_attribute = "bounding-box";
    const auto images = read_reporting(dir / "m.manifest", Format::gt_manifest, report, o);
    EXPECT_EQ(report.count(c.kind), 1u) << c.name << ": " << report.problem_summary();
    ASSERT_FALSE(report.messages().empty()) << c.name;
    const std::string& m = report.messages()[0];
    EXPECT_EQ(m.rfind((dir / "m.manifest").string() + ":2: ", 0), 0u) << c.name << ": " << m;
    EXPECT_NE(m.find(c.message), std::string::npos) << c.name << ": " << m;
    EXPECT_GE(images.size(), 1u) << c.name;
  }
}

TEST(GtManifest, BrokenJsonBlankLinesAndDuplicates) {
  TempDir dir;
  write_text(dir / "m.manifest", kDocumented + "\n{\"source-ref\": \n\n" + kDocumented + "\n");
  Report report;
  const auto images = read_reporting(dir / "m.manifest", Format::gt_manifest, report);
  EXPECT_EQ(images.size(), 1u);
  EXPECT_EQ(report.count(Problem::malformed), 2u);
  EXPECT_EQ(report.count(Problem::duplicate_image), 1u);
  ASSERT_EQ(report.messages().size(), 3u);
  EXPECT_NE(report.messages()[0].find(":2: not a valid JSON"), std::string::npos) << report.messages()[0];
  EXPECT_NE(report.messages()[1].find(":3: empty line"), std::string::npos) << report.messages()[1];
  EXPECT_NE(report.messages()[2].find(":4: source-ref s3://bucket/images/IMG_1186.png appears again"),
            std::string::npos)
      << report.messages()[2];
}

// Read without --image-uri-prefix, s3://b/cam1/0001.jpg and s3://b/cam2/0001.jpg are both "0001.jpg": the
// COCO writer wrote two images of one file_name and the manifest writer two lines of one source-ref, exit 0.
// Each now writes the first and reports the second.
TEST(GtManifest, ImagesOfOneNameInTwoFoldersAreNotWrittenTwice) {
  TempDir dir;
  std::string two;
  for (const char* folder : {"cam1", "cam2"}) {
    std::string line = kDocumented;
    line.replace(line.find("images/IMG_1186.png"), std::string("images/IMG_1186.png").size(), std::string(folder) + "/0001.jpg");
    two += line + "\n";
  }
  write_text(dir / "two.manifest", two);
  const auto images = read_annotations(dir / "two.manifest", Format::gt_manifest, {});
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].image, images[1].image);  // the folders are not kept without a prefix
  for (const Format to : {Format::coco, Format::gt_manifest}) {
    SCOPED_TRACE(format_name(to));
    Report report;
    WriteOptions w;
    w.report = &report;
    w.image_uri_prefix = "s3://b/new/";
    write_annotations(dir / (std::string("out.") + std::string(format_name(to))), to, images, w);
    EXPECT_EQ(report.count(Problem::duplicate_image), 1u);
    EXPECT_NE(report.messages().back().find("0001.jpg"), std::string::npos) << report.messages().back();
  }
}

TEST(GtManifest, LabelAttributeIsFoundByItsMetadataType) {
  json j = documented();
  j["plates"] = j["bounding-box"];
  j["plates-metadata"] = j["bounding-box-metadata"];
  j.erase("bounding-box");
  j.erase("bounding-box-metadata");
  j["category"] = 3;  // other keys pass through untouched, as Ground Truth keeps them
  TempDir dir;
  write_text(dir / "m.manifest", j.dump() + "\n");
  EXPECT_EQ(box_count(read_annotations(dir / "m.manifest", {})), 2u);
  // With two detection attributes (an adjustment job) the reader must be told which one.
  j["adjusted-plates"] = j["plates"];
  j["adjusted-plates-metadata"] = j["plates-metadata"];
  write_text(dir / "m2.manifest", j.dump() + "\n");
  EXPECT_THROW(read_annotations(dir / "m2.manifest", {}), Error);
  ReadOptions o;
  o.label_attribute = "adjusted-plates";
  EXPECT_EQ(box_count(read_annotations(dir / "m2.manifest", Format::gt_manifest, o)), 2u);
}

}  // namespace
}  // namespace roadveil::dataset
