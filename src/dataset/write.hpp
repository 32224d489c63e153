#pragma once
// Writing AnnotatedImage in the writable formats, one image at a time. Outputs appear under their final name
// only when finish() succeeds: single files are written to "<output>.tmp" and renamed, folder formats are
// staged in "<output>.partial.tmp/" and moved in; a writer destroyed without finish() removes what it staged.
#include <cstddef>
#include <functional>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataset/annotation.hpp"
#include "dataset/format.hpp"
#include "dataset/report.hpp"

namespace roadveil::dataset {

// Class name <-> number, shared by the two writers of a train/validation split so that both number the
// classes alike. Names given up front keep their order; others are numbered as they first appear.
class ClassIndex {
 public:
  // `names` take ids 0, 1, ... in order; others the next free id as they come. With `numbers_keep_their_ids`,
  // a name that is a class number ("3": YOLO labels read without a classes file) gets that id.
  explicit ClassIndex(const std::vector<std::string>& names = {}, bool numbers_keep_their_ids = false);
  int id(std::string_view name);
  const std::vector<std::string>& names() const { return names_; }

 private:
  // Transparent hashing: looking a name up (once per written box) allocates nothing.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, int, Hash, std::equal_to<>> ids_;
  bool numbers_keep_their_ids_ = false;
};

struct WriteOptions {
  // gt-manifest: source-ref = prefix + image path; must be an s3:// URI (a missing final '/' is added).
  std::string image_uri_prefix;
  // gt-manifest: the label attribute name; its metadata is "<name>-metadata".
  std::string label_attribute = "bounding-box";
  std::string job_name = "labeling-job/roadveil";
  std::string creation_date;  // YYYY-MM-DDTHH:MM:SS; empty: the time the writer was made, UTC
  bool human_annotated = true;
  // Class numbering (YOLO class, manifest class_id, COCO category id - 1). Null: a fresh index.
  std::shared_ptr<ClassIndex> classes;
  // Images that cannot be written (no size for a format that needs one) are reported here; without a
  // report they throw roadveil::Error.
  Report* report = nullptr;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Returns false when the image was reported and left out (e.g. its size is unknown and the format needs
  // pixels). Boxes must be in pixels unless the image is normalized and the format stores normalised boxes.
  virtual bool write(const AnnotatedImage& image) = 0;
  // Completes the output and moves it under its final name. Throws roadveil::Error on I/O failure.
  virtual void finish() = 0;
};

// Throws roadveil::Error for a format that cannot be written or invalid options (e.g. a manifest without an
// s3:// prefix).
std::unique_ptr<Writer> make_writer(Format format, const std::filesystem::path& output, const WriteOptions& options);

void write_annotations(const std::filesystem::path& output, Format format, const std::vector<AnnotatedImage>& images,
                       const WriteOptions& options = {});

// The per-image file a folder format writes for `image`: its relative path with the extension replaced;
// URIs keep only the file name, and "..", roots and empty parts are removed so nothing lands outside the
// output folder.
std::filesystem::path per_image_path(std::string_view image, std::string_view extension);

}  // namespace roadveil::dataset
