#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "detect/frame_detector.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"
#include "test_util.hpp"

using namespace roadveil;
using namespace roadveil::detect;
using roadveil::testing::TempDir;

TEST(ModelRegistry, MissingModelNamesTheFileAndTheUpstreamSource) {
  TempDir dir;
  try {
    locate_model(dir.path(), ModelId::FaceYunet);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("yunet_n_dynamic.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find("libfacedetection"), std::string::npos) << msg;
  }
}

TEST(ModelRegistry, WrongChecksumIsRejected) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "face-yunet-n");
  std::ofstream(dir.path() / "face-yunet-n" / "yunet_n_dynamic.onnx") << "not a model";
  try {
    locate_model(dir.path(), ModelId::FaceYunet);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected 104ee26c"), std::string::npos) << e.what();
  }
}

TEST(ModelRegistry, MissingFolderSaysHowToSetIt) {
  EXPECT_THROW(resolve_models_dir(std::filesystem::path("/nonexistent/models")), Error);
}

TEST(ModelRegistry, SharedModelsVerify) {
  for (auto id : {ModelId::FaceYunet, ModelId::PlateYolov9, ModelId::ContextYolox, ModelId::HeadYolox})
    EXPECT_NO_THROW(locate_model(roadveil::testing::models_dir(), id));
}

TEST(FrameDetector, FindsFacesAndPlatesOnRealImages) {
  DetectorConfig cfg;
  cfg.models_dir = roadveil::testing::models_dir();
  FrameDetector detector(cfg);
  // A street photo with several annotated faces, and a dashcam frame with an annotated plate near (113..193, 400..420).
  auto faces = media::decode_image(roadveil::testing::shared_dir() / "eval/faces-street/images/maksssksksss1.jpg");
  int face_count = 0;
  for (const auto& d : detector.detect(*faces)) face_count += d.cls == ObjectClass::Face;
  EXPECT_GE(face_count, 2);
  auto dash = media::decode_image(roadveil::testing::shared_dir() / "eval/plates-dashcam-ro/images/dayride_type1_001.mp4#t=1055.jpg");
  bool plate_found = false;
  for (const auto& d : detector.detect(*dash))
    if (d.cls == ObjectClass::Plate && iou(d.box, Box{113, 400, 193, 420}) > 0.3f) plate_found = true;
  EXPECT_TRUE(plate_found);
}
