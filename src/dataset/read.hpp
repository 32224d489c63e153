#pragma once
// Reading ground truth in any supported format into AnnotatedImage, either all at once (read_annotations,
// what `eval` calls) or one image at a time (for_each_image, what `dataset convert` and `stats` use so that a
// multi-gigabyte Open Images CSV streams in constant memory).
//
// Boxes come out in pixels (x1,y1 top-left, x2,y2 bottom-right) whenever the image size is known: from the
// file (VOC, COCO, manifest) or from the image header in ReadOptions::images_dir (Open Images, YOLO; OIDv4
// text and OpenALPR are pixels already). When the size stays unknown a normalised format keeps its 0..1 boxes
// and sets AnnotatedImage::normalized.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dataset/annotation.hpp"
#include "dataset/format.hpp"
#include "dataset/report.hpp"

namespace roadveil::dataset {

struct ReadOptions {
  // Where the images are. Used for sizes (Open Images, YOLO, OIDv4 text, OpenALPR, and VOC files whose
  // <size> is missing or zero) and, when set, to report images that are not there. Empty: the format's usual
  // place (YOLO: ../images beside labels/ or the label folder itself; OIDv4: the class folder above Label/;
  // OpenALPR: beside the txt files); Open Images has no usual place.
  std::filesystem::path images_dir;
  // Open Images: the class descriptions CSV (label id -> display name). Required for that format.
  std::filesystem::path class_descriptions;
  // YOLO: class names, one per line, line n = class n. Empty: classes.txt, obj.names or data.names beside
  // the labels or one folder up; without one, labels are the class numbers ("0", "1").
  std::filesystem::path classes_file;
  // Keep only boxes of these classes (names as the source spells them; Open Images also takes label ids
  // like /m/01jfm_). Empty keeps all. An image that had boxes and has none left is dropped.
  std::vector<std::string> classes;
  // SageMaker manifest: the label attribute to read; empty finds the one whose -metadata has type
  // groundtruth/object-detection.
  std::string label_attribute;
  // SageMaker manifest: removed from the start of source-ref to give AnnotatedImage::image; when empty or
  // not a prefix of source-ref the image is the object's file name.
  std::string image_uri_prefix;
  // OpenALPR has no class column: every box gets this label.
  std::string openalpr_label = "license-plate";
  // Where bad input goes. Without a report the first problem throws roadveil::Error.
  Report* report = nullptr;
};

using ImageSink = std::function<void(const AnnotatedImage&)>;

// Calls `sink` once per image, in file order (folders: sorted by path). The image passed is reused for the
// next call: copy what must outlive the call. Throws roadveil::Error when the input cannot be read at all
// (missing file, wrong format) and, through the report, on bad input.
void for_each_image(const std::filesystem::path& path, Format format, const ReadOptions& options,
                    const ImageSink& sink);

std::vector<AnnotatedImage> read_annotations(const std::filesystem::path& path, Format format,
                                             const ReadOptions& options);
// Detects the format first; throws roadveil::Error naming the path when it cannot tell.
std::vector<AnnotatedImage> read_annotations(const std::filesystem::path& path, const ReadOptions& options = {});

// Open Images class descriptions: label id -> display name, in file order. A header row is skipped.
// The file of an annotated image in `images_dir`: its name as given, or the same stem with another image
// extension. Empty when it is not there.
std::filesystem::path image_file(const AnnotatedImage& image, const std::filesystem::path& images_dir);

std::vector<std::pair<std::string, std::string>> read_class_descriptions(const std::filesystem::path& path);

}  // namespace roadveil::dataset
