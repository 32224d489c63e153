// Round trips between every pair of writable formats on the real annotation sets: source -> A -> B, read
// back and compared box by box with the source. Formats that store integer pixels (manifest, OpenALPR) may
// move an edge by rounding; YOLO by its six decimals; VOC and COCO keep the float exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "dataset/read.hpp"
#include "dataset/write.hpp"
#include "dataset_test_util.hpp"

namespace roadveil::dataset {
namespace {

using namespace testing;

struct Source {
  const char* name;
  Format format;
  fs::path annotations, images;
};

std::vector<Source> sources() {
  const fs::path e = shared_eval();
  return {
      {"dashcam-berlin-dev", Format::voc, e / "dashcam-berlin-dev" / "annotations", e / "dashcam-berlin-dev" / "images"},
      {"plates-dashcam-ro", Format::voc, e / "plates-dashcam-ro" / "annotations", e / "plates-dashcam-ro" / "images"},
      {"plates-closeup-openalpr", Format::openalpr, e / "plates-closeup-openalpr", e / "plates-closeup-openalpr"},
  };
}

constexpr Format kWritable[] = {Format::gt_manifest, Format::voc, Format::yolo, Format::coco, Format::openalpr};

bool integer_pixels(Format f) { return f == Format::gt_manifest || f == Format::openalpr; }

fs::path output_path(const TempDir& dir, const std::string& stem, Format f) {
  switch (f) {
    case Format::gt_manifest: return dir / (stem + ".manifest");
    case Format::coco: return dir / (stem + ".json");
    default: return dir / stem;
  }
}

const std::string kPrefix = "s3://roadveil-test/images/";

std::vector<AnnotatedImage> write_and_read(const std::vector<AnnotatedImage>& images, Format f, const fs::path& out,
                                           const fs::path& images_dir) {
  WriteOptions w;
  w.image_uri_prefix = kPrefix;
  write_annotations(out, f, images, w);
  ReadOptions r;
  r.image_uri_prefix = kPrefix;
  r.images_dir = images_dir;  // YOLO needs it for pixels; everyone else checks the images are there
  return by_name(read_annotations(out, f, r));
}

void expect_same(const std::vector<AnnotatedImage>& want, const std::vector<AnnotatedImage>& got, float tolerance,
                 bool labels, bool texts, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const AnnotatedImage& a = want[i];
    const AnnotatedImage& b = got[i];
    ASSERT_EQ(b.image, a.image) << what;
    EXPECT_EQ(b.width, a.width) << what << " " << a.image;
    EXPECT_EQ(b.height, a.height) << what << " " << a.image;
    EXPECT_FALSE(b.normalized) << what;
    ASSERT_EQ(b.boxes.size(), a.boxes.size()) << what << " " << a.image;
    for (std::size_t k = 0; k < a.boxes.size(); ++k) {
      const Box& x = a.boxes[k].box;
      const Box& y = b.boxes[k].box;
      const std::string where = what + " " + a.image + " box " + std::to_string(k);
      EXPECT_NEAR(y.x1, x.x1, tolerance) << where;
      EXPECT_NEAR(y.y1, x.y1, tolerance) << where;
      EXPECT_NEAR(y.x2, x.x2, tolerance) << where;
      EXPECT_NEAR(y.y2, x.y2, tolerance) << where;
      if (labels) {
        EXPECT_EQ(b.boxes[k].label, a.boxes[k].label) << where;
      }
      if (texts) {
        EXPECT_EQ(b.boxes[k].text, a.boxes[k].text) << where;
      }
    }
  }
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<std::size_t, Format, Format>> {};

TEST_P(RoundTrip, EveryPairOfFormats) {
  const auto [source_index, first, second] = GetParam();
  const Source s = sources()[source_index];
  const auto source = by_name(read_annotations(s.annotations, s.format, {}));
  ASSERT_FALSE(source.empty());
  TempDir dir;
  const auto a = write_and_read(source, first, output_path(dir, "a", first), s.images);
  const auto b = write_and_read(a, second, output_path(dir, "b", second), s.images);

  const bool through_openalpr = first == Format::openalpr || second == Format::openalpr;
  const bool multi_class = std::string(s.name) == "dashcam-berlin-dev";
  // OpenALPR has no class column (everything reads back as license-plate) and only OpenALPR keeps plate text.
  const bool labels = !(through_openalpr && multi_class);
  const bool texts = first == Format::openalpr && second == Format::openalpr && s.format == Format::openalpr;
  float tolerance = 1e-3f;
  if (first == Format::yolo || second == Format::yolo) tolerance = 5e-3f;
  if (integer_pixels(first) || integer_pixels(second)) tolerance += 0.5f;
  const std::string what = std::string(s.name) + " -> " + std::string(format_name(first)) + " -> " +
                           std::string(format_name(second));
  expect_same(source, b, tolerance, labels, texts, what);
}

std::string pair_name(const ::testing::TestParamInfo<RoundTrip::ParamType>& info) {
  auto clean = [](std::string_view n) {
    std::string s(n);
    for (char& c : s) {
      if (c == '-') c = '_';
    }
    return s;
  };
  const char* sets[] = {"berlin", "ro", "openalpr"};
  return std::string(sets[std::get<0>(info.param)]) + "_" + clean(format_name(std::get<1>(info.param))) + "_to_" +
         clean(format_name(std::get<2>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(RealSets, RoundTrip,
                         ::testing::Combine(::testing::Values(0u, 1u, 2u), ::testing::ValuesIn(kWritable),
                                            ::testing::ValuesIn(kWritable)),
                         pair_name);

TEST(RoundTripVoc, IntegerFilesComeBackByteForByteInTheirBoxes) {
  // An integer VOC box must be written as the same integer text, not "363.0" or "3.63e+02".
  const fs::path src = shared_eval() / "dashcam-berlin-dev" / "annotations";
  const auto images = read_annotations(src, Format::voc, {});
  TempDir dir;
  write_annotations(dir / "voc", Format::voc, images, {});
  const std::string xml = read_text(dir / "voc" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.xml");
  EXPECT_NE(xml.find("<xmin>363</xmin>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<name>Vehicle registration plate</name>"), std::string::npos);
  EXPECT_NE(xml.find("<width>1920</width>"), std::string::npos);
  // Nothing staged is left behind.
  EXPECT_FALSE(fs::exists(dir / "voc.partial.tmp"));
}

TEST(RoundTripYolo, ClassesFileAndNormalisedLines) {
  const auto images = read_annotations(shared_eval() / "dashcam-berlin-dev" / "annotations", Format::voc, {});
  TempDir dir;
  WriteOptions w;
  w.classes = std::make_shared<ClassIndex>(std::vector<std::string>{"Vehicle registration plate", "Human face"});
  write_annotations(dir / "yolo", Format::yolo, images, w);
  EXPECT_EQ(read_lines(dir / "yolo" / "classes.txt"),
            (std::vector<std::string>{"Vehicle registration plate", "Human face"}));
  const auto lines = read_lines(dir / "yolo" / "1325ef8d-ce4b-46a9-9a90-67d90245fb1c.txt");
  ASSERT_FALSE(lines.empty());
  // Box (363,660)-(402,669) in 1920x1080: centre 382.5/1920, 664.5/1080, size 39/1920, 9/1080.
  int cls = -1;
  double cx = 0, cy = 0, bw = 0, bh = 0;
  ASSERT_EQ(std::sscanf(lines[0].c_str(), "%d %lf %lf %lf %lf", &cls, &cx, &cy, &bw, &bh), 5) << lines[0];
  EXPECT_EQ(cls, 0);
  EXPECT_NEAR(cx, 382.5 / 1920, 1e-6);
  EXPECT_NEAR(cy, 664.5 / 1080, 1e-6);
  EXPECT_NEAR(bw, 39.0 / 1920, 1e-6);
  EXPECT_NEAR(bh, 9.0 / 1080, 1e-6);
  EXPECT_EQ(lines[0].size(), std::string("0 0.199219 0.615278 0.020313 0.008333").size());
}

TEST(RoundTripCoco, ReadsBackWithoutImagesFolder) {
  const auto images = by_name(read_annotations(shared_eval() / "plates-dashcam-ro" / "annotations", Format::voc, {}));
  TempDir dir;
  write_annotations(dir / "c.json", Format::coco, images, {});
  const auto back = by_name(read_annotations(dir / "c.json", {}));
  expect_same(images, back, 1e-3f, true, false, "coco");
  EXPECT_FALSE(fs::exists(dir / "c.json.tmp"));
  EXPECT_FALSE(fs::exists(dir / "c.json.annotations.tmp"));
}

}  // namespace
}  // namespace roadveil::dataset
