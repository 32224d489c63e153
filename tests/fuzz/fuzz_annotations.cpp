// Every annotation reader of `roadveil dataset` and `eval`: the first byte picks the format, the rest is the
// file (for folder formats, the one file of the folder).
#include <filesystem>

#include "core/error.hpp"
#include "dataset/read.hpp"
#include "fuzz_input.hpp"

namespace {
using roadveil::dataset::Format;
constexpr Format kFormats[] = {Format::openimages, Format::oid_txt, Format::gt_manifest, Format::voc,
                               Format::yolo,       Format::coco,    Format::openalpr,    Format::cvat};
const char* file_name(Format f) {
  switch (f) {
    case Format::openimages: return "train-annotations-bbox.csv";
    case Format::gt_manifest: return "output.manifest";
    case Format::voc: return "a.xml";
    case Format::cvat: return "annotations.xml";
    case Format::coco: return "instances.json";
    default: return "a.txt";
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  if (size < 1) return 0;
  const Format format = kFormats[data[0] % std::size(kFormats)];
  const auto& root = roadveil::fuzz::work_dir();
  const fs::path folder = root / "annotations";
  static const bool made = [&] {
    fs::create_directories(folder / "Label");
    std::ofstream(root / "class-descriptions.csv") << "/m/01jfm_,Vehicle registration plate\n/m/0dzct,Human face\n";
    return true;
  }();
  (void)made;
  roadveil::dataset::ReadOptions options;
  options.class_descriptions = root / "class-descriptions.csv";
  const bool in_folder = roadveil::dataset::is_folder_format(format);
  const fs::path file = (format == Format::oid_txt ? folder / "Label" : in_folder ? folder : root) / file_name(format);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data + 1),
                                                                 static_cast<std::streamsize>(size - 1));
  try {
    const auto images = roadveil::dataset::read_annotations(in_folder ? folder : file, format, options);
    (void)images.size();
  } catch (const roadveil::Error&) {
  }
  fs::remove(file);
  return 0;
}
