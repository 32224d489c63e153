#include "dataset/write.hpp"

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "dataset/detail.hpp"

namespace roadveil::dataset {
namespace fs = std::filesystem;

ClassIndex::ClassIndex(const std::vector<std::string>& names, bool numbers_keep_their_ids) : numbers_keep_their_ids_(numbers_keep_their_ids) {
  // A blank name (a blank line of a YOLO classes file) still holds its number: named by it.
  for (std::size_t i = 0; i < names.size(); ++i) id(names[i].empty() ? std::to_string(i) : names[i]);
}

int ClassIndex::id(std::string_view name) {
  if (const auto it = ids_.find(name); it != ids_.end()) return it->second;
  if (numbers_keep_their_ids_ && !name.empty() && name.size() <= 6 &&
      std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) && (name == "0" || name[0] != '0')) {
    // Classes known only by number (YOLO labels without a classes file) keep it; the numbers between are named
    // by themselves.
    const int number = std::stoi(std::string(name));
    while (static_cast<int>(names_.size()) <= number) {
      const std::string filler = std::to_string(names_.size());
      ids_.emplace(filler, static_cast<int>(names_.size()));
      names_.push_back(filler);
    }
    if (const auto it = ids_.find(name); it != ids_.end()) return it->second;
    // Its number already names another class (one renamed with --rename took it first): the next free id.
  }
  const int id = static_cast<int>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

fs::path per_image_path(std::string_view image, std::string_view extension) {
  std::string_view name = image;
  if (const std::size_t scheme = name.find("://"); scheme != std::string_view::npos) {
    name = name.substr(name.find_last_of('/') + 1);
  }
  fs::path out;
  for (const fs::path& part : fs::path(name).relative_path()) {
    const std::string p = part.string();
    if (p.empty() || p == "." || p == "..") continue;
    out /= part;
  }
  if (out.empty()) out = "unnamed";
  out.replace_extension(extension);
  return out;
}

std::unique_ptr<Writer> make_writer(Format format, const fs::path& output, const WriteOptions& options) {
  if (output.empty()) throw Error("no output path given");
  switch (format) {
    case Format::gt_manifest: return detail::make_gt_manifest_writer(output, options);
    case Format::voc: return detail::make_voc_writer(output, options);
    case Format::yolo: return detail::make_yolo_writer(output, options);
    case Format::coco: return detail::make_coco_writer(output, options);
    case Format::openalpr: return detail::make_openalpr_writer(output, options);
    case Format::openimages:
    case Format::oid_txt:
    case Format::cvat: break;
  }
  throw Error(std::string(format_name(format)) + " can be read but not written; write one of gt-manifest, voc, yolo, "
              "coco, openalpr");
}

void write_annotations(const fs::path& output, Format format, const std::vector<AnnotatedImage>& images,
                       const WriteOptions& options) {
  const auto writer = make_writer(format, output, options);
  for (const AnnotatedImage& image : images) writer->write(image);
  writer->finish();
}

namespace detail {

std::shared_ptr<ClassIndex> class_index(const WriteOptions& options) {
  return options.classes ? options.classes : std::make_shared<ClassIndex>();
}

StagedFile::StagedFile(fs::path final_path) : final_(std::move(final_path)) {
  temp_ = final_;
  temp_ += ".tmp";
  std::error_code ec;
  if (final_.has_parent_path()) fs::create_directories(final_.parent_path(), ec);
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) throw Error(final_.string() + ": cannot write: " + std::strerror(errno));
}

StagedFile::~StagedFile() {
  if (file_) {
    std::fclose(file_);
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void StagedFile::write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    throw Error(final_.string() + ": write failed: " + std::strerror(errno));
  }
}

void StagedFile::flush() {
  if (std::fflush(file_) != 0) throw Error(final_.string() + ": write failed: " + std::strerror(errno));
}

void StagedFile::commit() {
  const bool flushed = std::fflush(file_) == 0;
  const int saved = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (!flushed || !closed) {
    fs::remove(temp_, ec);
    throw Error(final_.string() + ": write failed: " + std::strerror(flushed ? errno : saved));
  }
  fs::rename(temp_, final_, ec);
  if (ec) {
    fs::remove(temp_, ec);
    throw Error(final_.string() + ": cannot move the finished file into place: " + ec.message());
  }
}

StagedFolder::StagedFolder(fs::path final_dir, const std::string& suffix) : final_(std::move(final_dir)) {
  if (final_.filename().empty()) final_ = final_.parent_path();  // "out/" -> "out"
  stage_ = final_;
  stage_ += suffix;
  std::error_code ec;
  if (fs::exists(final_, ec) && !fs::is_directory(final_, ec)) {
    throw Error(final_.string() + ": exists and is not a folder (this format writes one file per image)");
  }
  fs::remove_all(stage_, ec);
  fs::create_directories(stage_, ec);
  if (ec) throw Error(final_.string() + ": cannot create the folder " + stage_.string() + ": " + ec.message());
}

StagedFolder::~StagedFolder() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(stage_, ec);
  }
}

bool StagedFolder::write(const fs::path& relative, std::string_view data) {
  if (!written_.insert(relative.generic_string())) return false;
  const fs::path p = stage_ / relative;
  std::error_code ec;
  if (relative.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) throw Error(p.string() + ": cannot write: " + std::strerror(errno));
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  if (std::fclose(f) != 0 || !ok) throw Error(p.string() + ": write failed: " + std::strerror(errno));
  return true;
}

void StagedFolder::commit() {
  std::error_code ec;
  fs::create_directories(final_, ec);
  if (ec) throw Error(final_.string() + ": cannot create the folder: " + ec.message());
  for (auto it = fs::recursive_directory_iterator(stage_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path target = final_ / it->path().lexically_relative(stage_);
    fs::create_directories(target.parent_path(), ec);
    fs::rename(it->path(), target, ec);
    if (ec) throw Error(target.string() + ": cannot move the written file into place: " + ec.message());
  }
  if (ec) throw Error(stage_.string() + ": cannot list the written files: " + ec.message());
  committed_ = true;
  fs::remove_all(stage_, ec);
}

PerImageFileWriter::PerImageFileWriter(const fs::path& output, const WriteOptions& options, std::string extension,
                                       std::string format_label, bool pixels_required, bool size_required)
    : folder_(output),
      options_(options),
      extension_(std::move(extension)),
      format_label_(std::move(format_label)),
      pixels_required_(pixels_required),
      size_required_(size_required) {
  refuse_files_of_this_kind(folder_.final_dir(), extension_, format_label_);
}

void refuse_files_of_this_kind(const fs::path& folder, const std::string& extension, const std::string& format_label) {
  // Files of this format already in the output folder would be mixed with this run's: an image this run drops
  // keeps its old label file (numbered by another classes list), and the input's own labels, converted into
  // their own folder, were replaced one by one. The folder must be new or hold no such file.
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return;
  // What reads as a label file of these formats, by its first bytes: a README.txt or requirements.txt is none.
  const auto reads_as_labels = [&](const fs::path& file) {
    const std::string name = file.filename().string();
    if (name == "classes.txt" || name == "obj.names" || name == "data.names") return true;
    std::ifstream in(file, std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (extension == ".xml") return head.find("<annotation") != std::string::npos;
    const std::size_t start = head.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return true;  // an empty label file: a background image's
    const std::string line = head.substr(start, head.find_first_of("\r\n", start) - start);
    if (std::count(line.begin(), line.end(), '\t') >= 4) return true;  // OpenALPR: image, x, y, w, h[, plate]
    std::istringstream fields(line);  // YOLO: class, then four numbers
    int cls = 0;
    double v[4];
    return static_cast<bool>(fields >> cls >> v[0] >> v[1] >> v[2] >> v[3]);
  };
  std::size_t found = 0;
  fs::path first;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != extension || !reads_as_labels(it->path())) continue;
    if (found++ == 0) first = it->path();
  }
  if (found > 0)
    throw Error(folder.string() + ": already holds " + std::to_string(found) + " " + extension + " label file" +
                (found == 1 ? "" : "s") + " (" + first.string() + "); " + format_label + " writes one per image, and " +
                "this run's would be mixed with them (or replace the input's own): write to a new or empty folder");
}

bool PerImageFileWriter::write(const AnnotatedImage& image) {
  const bool unsized = image.width <= 0 || image.height <= 0;
  // VOC records the size (<size>): pixel boxes of an image of unknown size were written with
  // <width>0</width> (a division by zero for the tools that normalise them), and boxes past the image's edge
  // went unchecked.
  if (image.normalized ? pixels_required_ : (unsized && (!pixels_required_ || size_required_))) {
    problem(options_, Problem::unknown_size, image.image, 0,
            format_label_ +
                (image.normalized ? " stores pixels"
                 : pixels_required_ ? " records the image size"
                                    : " needs the image size to normalise pixel boxes") +
                ", and the image size is unknown (give the images folder)");
    return false;
  }
  const fs::path rel = per_image_path(image.image, extension_);
  buffer_.clear();
  format(image, buffer_);
  if (!accepts(rel)) {
    problem(options_, Problem::duplicate_image, image.image, 0, refusal(rel));
    return false;
  }
  if (!folder_.write(rel, buffer_)) {
    problem(options_, Problem::duplicate_image, image.image, 0, "a second image would be written to " + rel.string());
    return false;
  }
  return true;
}

}  // namespace detail
}  // namespace roadveil::dataset
