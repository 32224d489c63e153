#include "review/contact_sheet.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

extern "C" {
#include <libswscale/swscale.h>
}

#include "core/error.hpp"
#include "media/frame_seeker.hpp"
#include "media/image_file.hpp"
#include "review/verify.hpp"

namespace roadveil::review {

namespace {

// Rows of 5 bits, top to bottom.
const unsigned char kBlank[7] = {0, 0, 0, 0, 0, 0, 0};
const std::map<char, std::array<unsigned char, 7>>& glyphs() {
  static const std::map<char, std::array<unsigned char, 7>> table = {
      {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
      {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
      {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
      {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
      {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}}, {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
      {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
  };
  return table;
}

struct Rgb {
  std::uint8_t r, g, b;
};
constexpr Rgb kFaceColour{0, 224, 255}, kPlateColour{255, 204, 0}, kReasonColour{255, 40, 40}, kWhite{255, 255, 255};
constexpr Rgb kOwnClassColour{208, 112, 255};  // the classes of one's own models, as the review page draws them

// An RGB24 picture the sheet is drawn on.
struct Canvas {
  int width, height;
  std::vector<std::uint8_t> pixels;
  Canvas(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h * 3, 24) {}
  void put(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    std::uint8_t* p = &pixels[(static_cast<std::size_t>(y) * width + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void fill(int x, int y, int w, int h, Rgb c) {
    for (int j = y; j < y + h; ++j)
      for (int i = x; i < x + w; ++i) put(i, j, c);
  }
  void outline(int x1, int y1, int x2, int y2, int thickness, Rgb c) {
    fill(x1, y1, x2 - x1, thickness, c);
    fill(x1, y2 - thickness, x2 - x1, thickness, c);
    fill(x1, y1, thickness, y2 - y1, c);
    fill(x2 - thickness, y1, thickness, y2 - y1, c);
  }
  void text(int x, int y, const std::string& s, int scale, Rgb c) {
    for (char ch : s) {
      const unsigned char* g = glyph(ch);
      for (int row = 0; row < 7; ++row)
        for (int col = 0; col < 5; ++col)
          if (g[row] & (0x10 >> col)) fill(x + col * scale, y + row * scale, scale, scale, c);
      x += 6 * scale;
    }
  }
};

std::filesystem::path source_of(const pipeline::RegionsEntry& entry) {
  std::error_code ec;
  if (!entry.info.output.empty() && std::filesystem::exists(entry.info.output, ec)) return entry.info.output;
  return entry.info.input;
}

}  // namespace

const unsigned char* glyph(char c) {
  const auto it = glyphs().find(c);
  return it == glyphs().end() ? kBlank : it->second.data();
}

std::vector<std::filesystem::path> write_contact_sheets(const std::vector<QueuedFrame>& queue,
                                                        const std::vector<pipeline::RegionsEntry>& entries,
                                                        const std::filesystem::path& dir,
                                                        const ContactSheetOptions& options) {
  std::vector<std::filesystem::path> pages;
  if (queue.empty()) return pages;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the contact sheet folder (" + ec.message() + ")");
  const int per_page = options.columns * options.rows;
  const int tw = options.thumbnail_width;
  // One cell height for the sheet: the tallest aspect among the files queued.
  double aspect = 9.0 / 16.0;
  for (const auto& q : queue) {
    const auto& info = entries.at(q.entry).info;
    if (info.width > 0 && info.height > 0) aspect = std::max(aspect, static_cast<double>(info.height) / info.width);
  }
  const int th = static_cast<int>(std::lround(tw * aspect)) & ~1;
  const int label_h = 20, gap = 6;
  const int cell_w = tw + gap, cell_h = th + label_h + gap;
  std::map<std::filesystem::path, std::unique_ptr<media::FrameSeeker>> videos;
  std::map<std::filesystem::path, media::FramePtr> photos;
  struct SwsFree {
    void operator()(SwsContext* c) const { sws_freeContext(c); }
  };
  std::unique_ptr<SwsContext, SwsFree> scaler;
  std::vector<std::uint8_t> thumb;

  for (std::size_t first = 0; first < queue.size(); first += per_page) {
    const int count = static_cast<int>(std::min<std::size_t>(per_page, queue.size() - first));
    const int rows = (count + options.columns - 1) / options.columns;
    Canvas sheet(options.columns * cell_w + gap, rows * cell_h + gap);
    for (int k = 0; k < count; ++k) {
      const QueuedFrame& q = queue[first + k];
      const auto& entry = entries.at(q.entry);
      const auto source = source_of(entry);
      media::FramePtr frame;
      if (!entry.info.video || media::is_image_path(source)) {
        auto& photo = photos[source];
        if (!photo) photo = media::decode_image(source);
        frame = media::make_frame();
        av_frame_ref(frame.get(), photo.get());
      } else {
        auto& seeker = videos[source];
        if (!seeker) seeker = std::make_unique<media::FrameSeeker>(source);
        frame = seeker->frame(q.frame);
      }
      const double s = std::min(static_cast<double>(tw) / frame->width, static_cast<double>(th) / frame->height);
      const int w = std::max(2, static_cast<int>(frame->width * s)), h = std::max(2, static_cast<int>(frame->height * s));
      SwsContext* sws = sws_getCachedContext(scaler.release(), frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
                                             w, h, AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr);
      scaler.reset(sws);
      if (!sws) throw Error(source.string() + ": cannot scale its frames for the contact sheet");
      thumb.resize(static_cast<std::size_t>(w) * h * 3);
      std::uint8_t* dst[4] = {thumb.data(), nullptr, nullptr, nullptr};
      int stride[4] = {w * 3, 0, 0, 0};
      sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, stride);
      const int x0 = gap + (k % options.columns) * cell_w, y0 = gap + (k / options.columns) * cell_h;
      for (int y = 0; y < h; ++y)
        std::copy_n(&thumb[static_cast<std::size_t>(y) * w * 3], w * 3, &sheet.pixels[(static_cast<std::size_t>(y0 + y) * sheet.width + x0) * 3]);
      auto draw_box = [&](const Box& b, int thickness, Rgb c) {
        const int x1 = x0 + static_cast<int>(std::floor(b.x1 * s)), y1 = y0 + static_cast<int>(std::floor(b.y1 * s));
        const int x2 = x0 + static_cast<int>(std::ceil(b.x2 * s)), y2 = y0 + static_cast<int>(std::ceil(b.y2 * s));
        sheet.outline(x1 - thickness, y1 - thickness, std::max(x2, x1 + 1) + thickness, std::max(y2, y1 + 1) + thickness, thickness, c);
      };
      if (const auto it = entry.frames.find(q.frame); it != entry.frames.end())
        for (const Region& r : it->second) draw_box(r.box, 1, r.cls == ObjectClass::Plate ? kPlateColour : r.cls == ObjectClass::Face ? kFaceColour : kOwnClassColour);
      for (const Reason& r : q.reasons) draw_box(r.box, 2, kReasonColour);
      char label[64];
      std::snprintf(label, sizeof label, "#%zu f%lld %s r%.2f", first + k + 1, static_cast<long long>(q.frame),
                    timecode(q.time).c_str(), q.risk);
      sheet.text(x0, y0 + h + 4, label, 2, kWhite);
    }
    media::FramePtr page = media::make_frame();
    page->format = AV_PIX_FMT_RGB24;
    page->width = sheet.width;
    page->height = sheet.height;
    if (av_frame_get_buffer(page.get(), 0) < 0) throw std::bad_alloc();
    for (int y = 0; y < sheet.height; ++y)
      std::copy_n(&sheet.pixels[static_cast<std::size_t>(y) * sheet.width * 3], sheet.width * 3, page->data[0] + y * page->linesize[0]);
    char name[32];
    std::snprintf(name, sizeof name, "queue-%03zu.png", first / per_page + 1);
    media::encode_image(*page, dir / name, {});
    pages.push_back(dir / name);
  }
  // Pages of an earlier, longer queue in the same folder (queue-003.png after a run of two pages) would be
  // read as this queue's.
  for (std::size_t n = pages.size() + 1;; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "queue-%03zu.png", n);
    if (!std::filesystem::remove(dir / name, ec)) break;
  }
  return pages;
}

}  // namespace roadveil::review
