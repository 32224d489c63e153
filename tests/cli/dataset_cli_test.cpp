// `roadveil dataset convert` and `stats` run as a user runs them: the built binary, exit codes, output files,
// and what lands on stdout and stderr.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kEval = fs::path(ROADVEIL_SHARED_DIR) / "eval";

using Dir = roadveil::testing::TempDir;
using roadveil::testing::read_text;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t nl = s.find('\n', start);
    lines.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return lines;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CliResult {
  int code = -1;
  std::string out, err;
};

CliResult roadveil(const Dir& dir, const std::vector<std::string>& args) {
  std::string cmd = quote(ROADVEIL_CLI);
  for (const std::string& a : args) {
    cmd += ' ';
    cmd += quote(a);
  }
  cmd += " >";
  cmd += quote((dir / "stdout.txt").string());
  cmd += " 2>";
  cmd += quote((dir / "stderr.txt").string());
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(dir / "stdout.txt");
  r.err = read_text(dir / "stderr.txt");
  fs::remove(dir / "stdout.txt");
  fs::remove(dir / "stderr.txt");
  return r;
}

const std::string kHeader =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside\n";
const std::string kRows =
    "000a1249af2bc5f0,xclick,/m/01jfm_,1,0.1,0.2,0.5,0.55,0,0,0,0,0\n"
    "000a1249af2bc5f0,xclick,/m/0dzct,1,0.3,0.35,0.2,0.3,1,0,0,0,0\n"
    "000a1249af2bc5f0,xclick,/m/0k4j,1,0.0,0.5,0.4,0.9,0,1,1,0,0\n"
    "0b6f22bf3b586889,xclick,/m/01jfm_,1,0.6,0.7,0.6,0.65,0,0,0,0,0\n"
    "0c2b5e4e1a0b8fd1,xclick,/m/0dzct,1,0.25,0.5,0.25,0.5,0,0,0,0,0\n";

// An Open Images sample: the CSV, the real class descriptions, real JPEGs under the ImageIDs.
void open_images_sample(const Dir& dir, const std::string& csv) {
  std::ofstream(dir / "boxes.csv") << csv;
  fs::create_directories(dir / "images");
  const fs::path src = kEval / "dashcam-berlin-dev" / "images";
  fs::create_symlink(src / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg", dir / "images" / "000a1249af2bc5f0.jpg");
  fs::create_symlink(src / "196eb840-75e8-4e0d-9de2-adcb93cb8bd1.jpg", dir / "images" / "0b6f22bf3b586889.jpg");
  fs::create_symlink(src / "1df7b59b-66e1-4ba0-99fe-1c7ade76f85b.jpg", dir / "images" / "0c2b5e4e1a0b8fd1.jpg");
}

std::vector<std::string> open_images_args(const Dir& dir) {
  return {"dataset", "convert", "--from", "openimages", "--to", "gt-manifest",
          "--classes", "Vehicle registration plate,Human face",
          "--images", (dir / "images").string(), "--annotations", (dir / "boxes.csv").string(),
          "--class-descriptions", (kEval / "openimages" / "class-descriptions-boxable.csv").string(),
          "--image-uri-prefix", "s3://bucket/prefix/", "-o", (dir / "train.manifest").string()};
}

TEST(DatasetCli, OpenImagesToManifestAsInTheIssue) {
  Dir dir;
  open_images_sample(dir, kHeader + kRows);
  const CliResult r = roadveil(dir, open_images_args(dir));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("wrote 3 images, 4 boxes (gt-manifest) -> "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Vehicle registration plate: 2 boxes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left out: 1 boxes of other classes"), std::string::npos) << r.out;
  const auto lines = lines_of(read_text(dir / "train.manifest"));
  ASSERT_EQ(lines.size(), 3u);
  const json j = json::parse(lines[0]);
  EXPECT_EQ(j["source-ref"], "s3://bucket/prefix/000a1249af2bc5f0.jpg");
  EXPECT_EQ(j["bounding-box-metadata"]["type"], "groundtruth/object-detection");
  EXPECT_EQ(j["bounding-box"]["annotations"].size(), 2u);
}

TEST(DatasetCli, SplitWritesTwoOutputs) {
  Dir dir;
  const fs::path out = dir / "berlin.manifest";
  const CliResult r = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                               "--to", "gt-manifest", "--image-uri-prefix", "s3://b/berlin", "-o", out.string(),
                               "--split", "0.8", "--seed", "11"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto train = lines_of(read_text(out)), val = lines_of(read_text(dir / "berlin-val.manifest"));
  EXPECT_EQ(train.size() + val.size(), 50u);
  EXPECT_FALSE(val.empty());
  EXPECT_NE(r.out.find("validation: " + std::to_string(val.size()) + " images"), std::string::npos) << r.out;
}

// A conversion never writes over its input (a review reproduced each of these; each exited 0): the
// validation share's default name (x-val.json beside x.json) was the input, and lost half its images; a
// folder output into the input's own labels folder replaced its label files (a plate box gone).
TEST(DatasetCli, NoOutputWritesOverTheInput) {
  Dir dir;
  const fs::path berlin = kEval / "dashcam-berlin-dev" / "annotations";
  ASSERT_EQ(roadveil(dir, {"dataset", "convert", "--annotations", berlin.string(), "--to", "coco", "-o", (dir / "x-val.json").string()}).code, 0);
  const std::string input = read_text(dir / "x-val.json");
  CliResult r = roadveil(dir, {"dataset", "convert", "--annotations", (dir / "x-val.json").string(), "--to", "coco",
                               "-o", (dir / "x.json").string(), "--split", "0.5"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("x-val.json: the validation output would overwrite the input"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(dir / "x-val.json"), input);
  EXPECT_FALSE(fs::exists(dir / "x.json"));
  // A YOLO dataset (ds/labels, ds/images) converted into its own labels folder.
  ASSERT_EQ(roadveil(dir, {"dataset", "convert", "--annotations", berlin.string(), "--to", "yolo", "-o", (dir / "ds" / "labels").string()}).code, 0);
  fs::create_directories(dir / "ds" / "images");
  fs::create_symlink(kEval / "dashcam-berlin-dev" / "images" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg",
                     dir / "ds" / "images" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg");
  const std::string label = read_text(dir / "ds" / "labels" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.txt");
  ASSERT_FALSE(label.empty());
  r = roadveil(dir, {"dataset", "convert", "--annotations", (dir / "ds").string(), "--from", "yolo", "--to", "yolo",
                     "--classes", "Human face", "-o", (dir / "ds" / "labels").string()});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("already holds 51 .txt label files"), std::string::npos) << r.err;  // 50 labels, classes.txt
  EXPECT_EQ(read_text(dir / "ds" / "labels" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.txt"), label);
}

// A second conversion into the folder of a first kept the first's label files of images it did not write,
// under the second's classes list (a plate box read as "Human face"): an output folder holding files of its
// format is refused; a new or empty one, or one holding other files (the images), is written.
TEST(DatasetCli, AFolderOutputHoldingLabelsOfAnotherRunIsRefused) {
  Dir dir;
  const fs::path berlin = kEval / "dashcam-berlin-dev" / "annotations";
  fs::create_directories(dir / "out" / "notes");
  std::ofstream(dir / "out" / "photo.jpg") << "not a label";
  std::ofstream(dir / "out" / "notes" / "about.xml") << "<?xml version=\"1.0\"?><notes>not a label</notes>";
  ASSERT_EQ(roadveil(dir, {"dataset", "convert", "--annotations", berlin.string(), "--to", "voc", "-o", (dir / "out").string()}).code, 0);
  const CliResult r = roadveil(dir, {"dataset", "convert", "--annotations", berlin.string(), "--to", "voc",
                                     "--classes", "Human face", "-o", (dir / "out").string()});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("already holds 50 .xml label files"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("write to a new or empty folder"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.partial.tmp"));
  // A README.txt or requirements.txt is no label file: a YOLO output beside them is written.
  fs::create_directories(dir / "yolo_out");
  std::ofstream(dir / "yolo_out" / "README.txt") << "Labels for the Berlin set\n";
  const CliResult beside = roadveil(dir, {"dataset", "convert", "--annotations", berlin.string(), "--to", "yolo", "-o", (dir / "yolo_out").string()});
  EXPECT_EQ(beside.code, 0) << beside.err;
}

// Tiles around small objects (#15): crops of the real dashcam stills at full resolution, YOLO labels in the
// tile's pixels, each tile in the split of its source image, and its pixels those of the source.
TEST(DatasetCli, TilesAroundSmallObjectsAreCropsOfTheSourceInItsSplit) {
  Dir dir;
  const fs::path images = kEval / "dashcam-berlin-dev" / "images";
  const CliResult r = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                               "--images", images.string(), "--to", "yolo", "-o", (dir / "labels/train").string(),
                               "--split", "0.8", "--seed", "3", "--val-output", (dir / "labels/val").string(),
                               "--tiles", "640", "--tile-small", "24", "--tile-images", (dir / "tiles").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("of them tiles in"), std::string::npos) << r.out;
  std::vector<fs::path> tiles;
  for (const auto& e : fs::directory_iterator(dir / "tiles")) tiles.push_back(e.path());
  ASSERT_GE(tiles.size(), 20u) << "the set has ~60 heads and plates under 24 px";
  // A run that fails on its last file (a bad box, --strict) leaves no tile behind: they are staged.
  fs::create_directories(dir / "bad");
  for (const auto& e : fs::directory_iterator(kEval / "dashcam-berlin-dev" / "annotations")) fs::copy_file(e.path(), dir / "bad" / e.path().filename());
  std::ofstream(dir / "bad" / "zzz.xml") << "<annotation><filename>1325ef8d-ce4b-46a9-9a90-67d90245fb1c.jpg</filename>"
                                            "<size><width>1920</width><height>1080</height><depth>3</depth></size><object>"
                                            "<name>Human face</name><bndbox><xmin>50</xmin><ymin>50</ymin><xmax>10</xmax>"
                                            "<ymax>60</ymax></bndbox></object></annotation>";
  const CliResult failed = roadveil(dir, {"dataset", "convert", "--annotations", (dir / "bad").string(), "--images", images.string(),
                                          "--to", "yolo", "-o", (dir / "bad_labels").string(), "--strict", "--tiles", "640",
                                          "--tile-small", "24", "--tile-images", (dir / "bad_tiles").string()});
  EXPECT_EQ(failed.code, 1) << failed.out << failed.err;
  EXPECT_FALSE(fs::exists(dir / "bad_tiles")) << "tiles were written before the failure";
  EXPECT_FALSE(fs::exists(dir / "bad_tiles.tiles.partial.tmp"));
  // Labels and tiles in one folder (Darknet's layout): each staged apart, both moved in (the two stagings were
  // one folder, and the second commit failed after the first had moved everything).
  const CliResult together = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                                            "--images", images.string(), "--to", "yolo", "-o", (dir / "obj").string(), "--tiles", "640",
                                            "--tile-small", "24", "--tile-images", (dir / "obj").string()});
  EXPECT_EQ(together.code, 0) << together.err;
  EXPECT_TRUE(fs::exists(dir / "obj" / "classes.txt"));
  std::size_t tiles_there = 0;
  for (const auto& e : fs::directory_iterator(dir / "obj")) tiles_there += e.path().extension() == ".jpg";
  EXPECT_GE(tiles_there, 20u);
  std::sort(tiles.begin(), tiles.end());
  for (const fs::path& tile : tiles) {
    // "<source stem>_x<X>_y<Y>.jpg": its labels are in the split its source is in.
    const std::string name = tile.stem().string();
    const std::string source = name.substr(0, name.rfind("_x"));
    const bool in_train = fs::exists(dir / "labels/train" / (name + ".txt"));
    EXPECT_NE(in_train, fs::exists(dir / "labels/val" / (name + ".txt"))) << name << ": labelled in one split";
    EXPECT_EQ(in_train, fs::exists(dir / "labels/train" / (source + ".txt"))) << name << ": in the split of " << source;
  }
  // One tile's pixels against the same crop of its source (both decoded by ffmpeg; JPEG re-encoded at q 2).
  const fs::path tile = tiles.front();
  const std::string name = tile.stem().string();
  const std::size_t xpos = name.rfind("_x"), ypos = name.rfind("_y");
  const int x = std::stoi(name.substr(xpos + 2, ypos - xpos - 2)), y = std::stoi(name.substr(ypos + 2));
  auto gray = [](const std::string& input, const std::string& filter) {
    return roadveil::testing::run_command("ffmpeg -v error -i " + quote(input) + (filter.empty() ? "" : " -vf " + filter) +
                                          " -frames:v 1 -pix_fmt gray -f rawvideo -").output;
  };
  const std::string crop = gray((images / (name.substr(0, xpos) + ".jpg")).string(),
                                "crop=640:640:" + std::to_string(x) + ":" + std::to_string(y));
  const std::string written = gray(tile.string(), "");
  ASSERT_EQ(written.size(), 640u * 640u) << "a 640 x 640 tile";
  ASSERT_EQ(crop.size(), written.size());
  double diff = 0;
  for (std::size_t k = 0; k < crop.size(); ++k)
    diff += std::abs(static_cast<int>(static_cast<unsigned char>(crop[k])) - static_cast<int>(static_cast<unsigned char>(written[k])));
  EXPECT_LT(diff / static_cast<double>(crop.size()), 2.0) << "the tile is the source's pixels at (" << x << ", " << y << ")";
  // Its labels: class and box in 0..1 of the tile, a small object among them.
  const auto labels = lines_of(read_text(dir / (fs::exists(dir / "labels/train" / (name + ".txt")) ? "labels/train" : "labels/val") / (name + ".txt")));
  ASSERT_FALSE(labels.empty());
  bool small = false;
  for (const std::string& line : labels) {
    float cx, cy, w, h;
    int cls;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d %f %f %f %f", &cls, &cx, &cy, &w, &h), 5) << line;
    EXPECT_TRUE(cx > 0 && cx < 1 && cy > 0 && cy < 1 && w > 0 && w <= 1 && h > 0 && h <= 1) << line;
    small = small || w * 640 < 24;
  }
  EXPECT_TRUE(small) << "the object the tile was made for";

  const CliResult bad = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                                 "--to", "yolo", "-o", (dir / "x").string(), "--tiles", "640", "--tile-images", (dir / "t").string()});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--tiles crops the images: give --images DIR"), std::string::npos) << bad.err;
  const CliResult too_wide = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                                      "--images", images.string(), "--to", "yolo", "-o", (dir / "y").string(), "--tiles", "64",
                                      "--tile-small", "100", "--tile-images", (dir / "t").string()});
  EXPECT_NE(too_wide.code, 0);
  EXPECT_NE(too_wide.err.find("--tile-small 100 must be below the tile size --tiles 64"), std::string::npos) << too_wide.err;

  // An unwritable tile folder is an output failure, not a problem of the input: one message, a non-zero exit,
  // and no labels under their final name.
  std::ofstream(dir / "a-file") << "x";
  const CliResult unwritable = roadveil(dir, {"dataset", "convert", "--annotations", (kEval / "dashcam-berlin-dev" / "annotations").string(),
                                        "--images", images.string(), "--to", "yolo", "-o", (dir / "z").string(), "--tiles", "640",
                                        "--tile-images", (dir / "a-file" / "tiles").string()});
  EXPECT_NE(unwritable.code, 0);
  // Found before any image is read, now that the tiles are staged beside their folder.
  EXPECT_NE(unwritable.err.find("cannot create the folder"), std::string::npos) << unwritable.err;
  EXPECT_NE(unwritable.err.find((dir / "a-file" / "tiles").string()), std::string::npos) << unwritable.err;
  EXPECT_FALSE(fs::exists(dir / "z"));
}

// `dataset export` is `convert` by the name a team exporting a training set looks for; CVAT for images is read.
TEST(DatasetCli, ExportReadsACvatForImagesFileIntoCoco) {
  Dir dir;
  {
    std::ofstream xml(dir / "annotations.xml");
    xml << "<annotations><version>1.1</version><image id=\"0\" name=\"a.jpg\" width=\"640\" height=\"480\">"
           "<box label=\"plate\" occluded=\"0\" xtl=\"10\" ytl=\"20\" xbr=\"50\" ybr=\"32\"/></image></annotations>";
  }
  const CliResult r = roadveil(dir, {"dataset", "export", "--annotations", (dir / "annotations.xml").string(), "--to", "coco",
                               "-o", (dir / "coco.json").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 1 images, 1 boxes (coco)"), std::string::npos) << r.out;
  const json coco = json::parse(read_text(dir / "coco.json"));
  ASSERT_EQ(coco["annotations"].size(), 1u);
  EXPECT_EQ(coco["annotations"][0]["bbox"], json::array({10.0, 20.0, 40.0, 12.0}));
}

TEST(DatasetCli, BadRowStrictFailsWithOneMessageAndNoOutput) {
  Dir dir;
  open_images_sample(dir, kHeader + kRows.substr(0, kRows.find('\n') + 1) + "000a1249af2bc5f0,xclick,/m/01jfm_,1\n" +
                              kRows.substr(kRows.find('\n') + 1));
  auto args = open_images_args(dir);
  args.push_back("--strict");
  const CliResult r = roadveil(dir, args);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "roadveil: error: " + (dir / "boxes.csv").string() + ":3: expected 13 columns, found 4\n");
  EXPECT_FALSE(fs::exists(dir / "train.manifest"));
  EXPECT_FALSE(fs::exists(dir / "train.manifest.tmp"));
}

TEST(DatasetCli, BadRowLenientSkipsCountsAndWarns) {
  Dir dir;
  open_images_sample(dir, kHeader + kRows + "0c2b5e4e1a0b8fd1,xclick,/m/0dzct,1,0.7,0.5,0.25,0.5,0,0,0,0,0\n");
  const CliResult r = roadveil(dir, open_images_args(dir));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "roadveil: warning: " + (dir / "boxes.csv").string() + ":7: XMin > XMax or YMin > YMax\n");
  EXPECT_NE(r.out.find("skipped bad input: 1 bad box"), std::string::npos) << r.out;
  EXPECT_EQ(lines_of(read_text(dir / "train.manifest")).size(), 3u);
}

TEST(DatasetCli, StatsTextAndJson) {
  Dir dir;
  const std::string ann = (kEval / "dashcam-berlin-dev" / "annotations").string();
  CliResult r = roadveil(dir, {"dataset", "stats", ann});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("50 images (0 without boxes), 266 boxes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("box width histogram"), std::string::npos) << r.out;
  r = roadveil(dir, {"dataset", "stats", ann, "--format", "voc", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["images"], 50);
  EXPECT_EQ(j["boxes"], 266);
  EXPECT_EQ(j["classes"][0]["name"], "Human face");
  EXPECT_EQ(j["classes"][0]["boxes"], 131);
}

TEST(DatasetCli, UsageAndInputErrors) {
  Dir dir;
  CliResult r = roadveil(dir, {"dataset", "convert", "--annotations", "x", "--to", "pascal", "-o", "y"});
  EXPECT_EQ(r.code, 2) << r.err;
  r = roadveil(dir, {"dataset", "stats", (dir / "missing.csv").string(), "--format", "openimages"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "roadveil: error: " + (dir / "missing.csv").string() + ": no such file or folder\n");
  // Open Images boxes are relative: without the images their pixel size is unknown.
  open_images_sample(dir, kHeader + kRows);
  auto args = open_images_args(dir);
  args.erase(args.begin() + 8, args.begin() + 10);  // --images DIR
  r = roadveil(dir, args);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("needs --images DIR"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "train.manifest"));
}

}  // namespace
