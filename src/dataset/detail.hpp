#pragma once
// Internal to the dataset library: the per-format readers and writers behind read.hpp and write.hpp, and
// the checks they share so that every format validates boxes, names and images the same way.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataset/read.hpp"
#include "dataset/text.hpp"
#include "dataset/write.hpp"

namespace roadveil::dataset::detail {

namespace fs = std::filesystem;

// Forwards to options.report, or throws roadveil::Error when there is none.
void problem(const ReadOptions& options, Problem kind, const fs::path& file, std::size_t line, std::string_view what);
void problem(const WriteOptions& options, Problem kind, const fs::path& file, std::size_t line, std::string_view what);

// A box more than this far outside a known image is bad; closer ones are clamped (Pascal VOC files often put
// xmax = width + 1 because VOC counts pixels from 1).
inline constexpr float kPixelTolerance = 1.0f;
inline constexpr float kUnitTolerance = 1e-6f;

// Validates a box against its image (normalised: 0..1; pixels with a known size: inside the image, within
// the tolerance, then clamped) and its label (UTF-8). Reports and returns false when the box must be skipped.
bool check_box(LabeledBox& box, const AnnotatedImage& image, const ReadOptions& options, const fs::path& file,
               std::size_t line);
bool check_utf8(std::string_view s, const char* what, const ReadOptions& options, const fs::path& file,
                std::size_t line);

// The file of `image` in `images_dir`: its name as given, or the same stem with another image extension (the
// image is then renamed to it). Empty when it is not there.
fs::path find_image_file(AnnotatedImage& image, const fs::path& images_dir);
// With ReadOptions::images_dir set, reports missing_image and returns false when the image is not there.
bool check_image_present(AnnotatedImage& image, const ReadOptions& options, const fs::path& file, std::size_t line);
// For a format that gives the size in the annotation (VOC, COCO, CVAT): an image annotated without one (0) gets
// it from its header in ReadOptions::images_dir when one is given; one with a size must be there. False (reported):
// leave the image out.
bool size_or_header(AnnotatedImage& image, const ReadOptions& options, const fs::path& file, std::size_t line);
// Sets the size of `image` from the header of `images_dir / image.image` (or the same stem with another
// image extension, which then becomes the image name). Returns false, after reporting, when the image must
// be skipped: missing_image when `required` and the file is not there, unknown_size when its header is
// unreadable. A missing image that is not required leaves the size unknown and returns true.
bool size_from_header(AnnotatedImage& image, const fs::path& images_dir, bool required, const ReadOptions& options,
                      const fs::path& file, std::size_t line);
// Multiplies 0..1 boxes by the image size.
void to_pixels(AnnotatedImage& image);

// Applies ReadOptions::classes to a parsed image and hands it on; drops images left without boxes.
void emit(AnnotatedImage& image, const ReadOptions& options, const ImageSink& sink);
bool class_selected(const ReadOptions& options, std::string_view label);

// Files with `extension` (lower case, with the dot; case-insensitive match) under `path`, recursively, sorted;
// or `path` itself when it is a file.
std::vector<fs::path> list_files(const fs::path& path, std::string_view extension);
// `file`'s folder relative to `root` ("" for files directly in it or when root is the file itself).
fs::path relative_folder(const fs::path& file, const fs::path& root);

void read_openimages(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_oid_txt(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_gt_manifest(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_voc(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_yolo(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
// The class names of a YOLO input's classes file in their order (class n on line n); none without one.
std::vector<std::string> yolo_declared_classes(const fs::path& path, const ReadOptions& options);
// A COCO file's categories, names in the order of their ids (empty when the file cannot be read).
std::vector<std::string> coco_declared_classes(const fs::path& path);
void read_coco(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_cvat(const fs::path& path, const ReadOptions& options, const ImageSink& sink);
void read_openalpr(const fs::path& path, const ReadOptions& options, const ImageSink& sink);

// One output file written under a temporary name and renamed by commit(); removed if never committed.
class StagedFile {
 public:
  explicit StagedFile(fs::path final_path);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  void write(std::string_view data);
  void flush();  // so that temp_path() can be read back
  void commit();
  const fs::path& final_path() const { return final_; }
  const fs::path& temp_path() const { return temp_; }

 private:
  fs::path final_, temp_;
  std::FILE* file_ = nullptr;
};

// A folder output: files are written into a staging folder beside it and moved in by commit().
class StagedFolder {
 public:
  // Staged in `<final_dir><suffix>/`: tile images have their own, so that labels and tiles may share a folder.
  explicit StagedFolder(fs::path final_dir, const std::string& suffix = ".partial.tmp");
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  // Writes `relative` (inside the folder); false when that file was already written by this writer.
  bool write(const fs::path& relative, std::string_view data);
  void commit();
  const fs::path& final_dir() const { return final_; }
  const fs::path& stage_dir() const { return stage_; }  // for files written by others (tile images)

 private:
  fs::path final_, stage_;
  text::SeenSet written_;
  bool committed_ = false;
};

// Throws when `folder` exists and holds a label file ending in `extension` (anywhere below it; one that reads
// as labels by its first bytes: VOC XML, YOLO or OpenALPR lines, an empty file, a classes file): a folder
// format's output must be new or hold none of its kind (a README.txt is none).
void refuse_files_of_this_kind(const fs::path& folder, const std::string& extension, const std::string& format_label);

// The folder formats (VOC, YOLO, OpenALPR): one file per image, named after the image, staged in a
// StagedFolder. Checks what every such format needs, then lets the format print the file.
class PerImageFileWriter : public Writer {
 public:
  // `pixels_required`: the format stores pixels, so an image whose size is unknown (normalised boxes)
  // cannot be written. YOLO can also take pixel boxes when the size is known. `size_required`: the format
  // records the image size (VOC's <size>), so pixel boxes of an image of unknown size cannot be written either.
  PerImageFileWriter(const fs::path& output, const WriteOptions& options, std::string extension,
                     std::string format_label, bool pixels_required = true, bool size_required = false);
  bool write(const AnnotatedImage& image) final;
  void finish() override { folder_.commit(); }

 protected:
  virtual void format(const AnnotatedImage& image, std::string& out) = 0;
  // Names the format reserves for itself (YOLO's classes.txt) are refused like a second image.
  virtual bool accepts(const fs::path& /*relative*/) const { return true; }
  // Why a file `accepts` refuses is refused.
  virtual std::string refusal(const fs::path& relative) const { return relative.string() + " is not a name this format can write"; }

  StagedFolder folder_;
  WriteOptions options_;

 private:
  std::string extension_, format_label_, buffer_;
  bool pixels_required_, size_required_;
};

std::unique_ptr<Writer> make_gt_manifest_writer(const fs::path& output, const WriteOptions& options);
std::unique_ptr<Writer> make_voc_writer(const fs::path& output, const WriteOptions& options);
std::unique_ptr<Writer> make_yolo_writer(const fs::path& output, const WriteOptions& options);
std::unique_ptr<Writer> make_coco_writer(const fs::path& output, const WriteOptions& options);
std::unique_ptr<Writer> make_openalpr_writer(const fs::path& output, const WriteOptions& options);

// The class index a writer uses: the shared one from the options or a fresh one.
std::shared_ptr<ClassIndex> class_index(const WriteOptions& options);

}  // namespace roadveil::dataset::detail
