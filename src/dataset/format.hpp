#pragma once
// The annotation formats `roadveil dataset` and `roadveil eval` understand, by the names users type.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace roadveil::dataset {

enum class Format {
  openimages,   // Open Images V6/V7 *-annotations-bbox.csv (normalised boxes) + class descriptions CSV
  oid_txt,      // per-image "<class name> xmin ymin xmax ymax" text files of the OIDv4 downloader tools
  gt_manifest,  // SageMaker Ground Truth object-detection output manifest (JSON Lines)
  voc,          // Pascal VOC XML, one file per image
  yolo,         // YOLO txt, one file per image, "class cx cy w h" normalised, + a classes file
  coco,         // COCO detection JSON
  openalpr,     // OpenALPR benchmark txt: "file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>plate-text"
  cvat,         // CVAT for images 1.1 XML: one file, <annotations> of <image>s with <box>es
};

std::optional<Format> parse_format(std::string_view name);
std::string_view format_name(Format format);
// "openimages|oid-txt|gt-manifest|voc|yolo|coco|openalpr|cvat", for help texts and messages.
std::string format_choices();

bool can_write(Format format);
// Whether the format is a folder of per-image files (VOC, YOLO, OpenALPR, OIDv4 text) rather than one file.
bool is_folder_format(Format format);
// Whether boxes can be written without knowing the image size (YOLO stores normalised boxes).
bool writes_normalized(Format format);

// Guesses the format from the path: file extension, folder content, and the first line of a text file.
// nullopt when nothing matches (the caller asks for --format).
std::optional<Format> detect_format(const std::filesystem::path& path);

}  // namespace roadveil::dataset
