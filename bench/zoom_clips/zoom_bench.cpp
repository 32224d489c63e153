// Video ground truth made from annotated stills: each still becomes a clip that moves the way a dashcam sees
// the world, with exact per-frame boxes, and `roadveil eval` measures what stays hidden in every frame.
//
//   roadveil_zoom_bench --annotations DIR [--images DIR] --work DIR [--motion in|out|pan] [--frames 48] [--fps 24]
//                       [--zoom 1.8] [--limit N] [--json FILE] [--roadveil PATH] [--queue] [-- ROADVEIL EVAL OPTIONS...]
//
// --queue also ranks every frame of every clip with `roadveil review-queue` and prints how many of the exposed
// object-frames the top 1/5/10/20% of the queue contains.
//
// in: a steady zoom towards a point a little above the centre (1.8x over 48 frames at 24 fps): everything
// starts small and grows, as when driving forward. out: the same backwards (objects recede). pan: a
// lateral pan at 1.4x. The frames are crops of the still scaled to its size (even crop origins and sizes),
// so a box maps exactly: x' = (x - x0) * width / crop_width. Boxes less than half inside a frame are dropped
// (clipped otherwise). Clips are encoded by the ffmpeg program (libx264, crf 18); truth is written as MOT text
// (class 1 face, 2 plate, one id per annotated box).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/read.hpp"
#include "eval/coverage.hpp"
#include "media/image_file.hpp"

extern "C" {
#include <libswscale/swscale.h>
}

namespace fs = std::filesystem;
using namespace roadveil;

namespace {

struct Options {
  fs::path annotations, images, work, json, roadveil = "build/roadveil";
  std::string motion = "in";
  int frames = 48, fps = 24, limit = 0;
  double zoom = 1.8;
  std::vector<std::string> eval_args;
  bool queue = false;  // also measure `roadveil review-queue` against the exposures
};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int even(double v) { return 2 * static_cast<int>(std::floor(v / 2)); }

struct Crop {
  int x, y, w, h;
};

// The crop of frame n of `frames`, for a still of w x h.
Crop crop_at(const Options& o, int n, int w, int h) {
  const double t = o.frames > 1 ? static_cast<double>(n) / (o.frames - 1) : 0;
  double z = 1, cx = 0.5 * w, cy = 0.45 * h;
  if (o.motion == "in") z = 1 + (o.zoom - 1) * t;
  else if (o.motion == "out") z = o.zoom - (o.zoom - 1) * t;
  else {
    z = 1.4;
    cx = (0.5 - 0.5 * (1 - 1 / z) + (1 - 1 / z) * t) * w;  // from the left edge of the still to the right
  }
  Crop c;
  c.w = std::min(w - (w & 1), even(w / z));
  c.h = std::min(h - (h & 1), even(h / z));
  if (o.motion == "pan") {
    c.x = std::clamp(even(cx - c.w / 2.0), 0, w - c.w);
    c.y = std::clamp(even(cy - c.h / 2.0), 0, h - c.h);
  } else {
    // Zooming towards (cx, cy) keeps that point where it is in the picture, as driving forward keeps the
    // vanishing point still: the crop has the point at the same share of its size as the still. (Centring the
    // crop on it instead moved the point from 0.45 to 0.5 of the height, clamped at the top edge for the first
    // frames: a tilt that stopped abruptly at frame 6, which no forward-moving camera does.)
    c.x = std::clamp(even(cx - cx / w * c.w), 0, w - c.w);
    c.y = std::clamp(even(cy - cy / h * c.h), 0, h - c.h);
  }
  return c;
}

struct Totals {
  std::array<long, 2> object_frames{}, hidden{}, objects{}, never_exposed{};
  std::array<int, 2> longest{};
  std::array<std::string, 2> longest_where;
  double area = 0;
  int clips = 0;
};

// How much of what stayed exposed `roadveil review-queue` puts in front of a person: the exposed object-frames
// inside the top 1%, 5% and 10% of all frames of all clips, against a random order (the same share) and the
// best possible order (frames with the most exposed objects first).
nlohmann::json measure_queue(const Options& o, const std::vector<fs::path>& regions_files,
                             const std::map<std::string, std::vector<int>>& exposed_per_frame) {
  const fs::path queue_json = o.work / ("queue." + o.motion + ".json");
  std::string cmd = quote(o.roadveil.string()) + " review-queue --budget 100% --json " + quote(queue_json.string());
  for (const auto& r : regions_files) {
    cmd += ' ';
    cmd += quote(r.string());
  }
  if (std::system((cmd + " > /dev/null").c_str()) != 0) throw Error("failed: " + cmd);
  std::ifstream in(queue_json);
  const auto queue = nlohmann::json::parse(in)["queue"];
  long frames = 0, exposed = 0;
  std::vector<int> all;
  for (const auto& [clip, per_frame] : exposed_per_frame) {
    frames += static_cast<long>(per_frame.size());
    for (int e : per_frame) {
      exposed += e;
      all.push_back(e);
    }
  }
  std::sort(all.rbegin(), all.rend());
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\n| review budget | frames | exposed object-frames in them: queue | random order | best order |\n| --- | --- | --- | --- | --- |\n");
  for (double share : {0.01, 0.05, 0.10, 0.20}) {
    const long budget = std::max(1L, std::lround(share * static_cast<double>(frames)));
    long found = 0, best = 0;
    for (long i = 0; i < budget && i < static_cast<long>(queue.size()); ++i) {
      const auto it = exposed_per_frame.find(queue[i]["input"].get<std::string>());
      const long f = queue[i]["frame"].get<long>();
      if (it != exposed_per_frame.end() && f >= 0 && f < static_cast<long>(it->second.size())) found += it->second[f];
    }
    for (long i = 0; i < budget && i < static_cast<long>(all.size()); ++i) best += all[i];
    auto pct = [&](double v) { return exposed ? 100.0 * v / static_cast<double>(exposed) : 0.0; };
    std::printf("| %.0f%% | %ld | %ld/%ld = %.1f%% | %.1f%% | %.1f%% |\n", 100 * share, budget, found, exposed, pct(found),
                100 * share, pct(best));
    rows.push_back({{"budget_share", share}, {"frames", budget}, {"exposed_found", found}, {"exposed_total", exposed},
                    {"best", best}});
  }
  return rows;
}

int run(const Options& o) {
  dataset::ReadOptions ro;
  if (!o.images.empty()) ro.images_dir = o.images;
  auto annotated = dataset::read_annotations(o.annotations, ro);
  std::sort(annotated.begin(), annotated.end(), [](const auto& a, const auto& b) { return a.image < b.image; });
  const fs::path images = o.images.empty() ? o.annotations.parent_path() / "images" : o.images;
  fs::create_directories(o.work);
  Totals total;
  int done = 0;
  std::vector<fs::path> regions_files;
  std::map<std::string, std::vector<int>> exposed_per_frame;  // clip -> exposed objects per frame
  for (const auto& a : annotated) {
    if (o.limit && done >= o.limit) break;
    std::vector<std::pair<ObjectClass, Box>> boxes;
    for (const auto& b : a.boxes)
      if (auto cls = eval::class_for_label(b.label)) boxes.push_back({*cls, b.box});
    if (boxes.empty()) continue;
    ++done;
    const fs::path still = images / fs::path(a.image).filename();
    media::FramePtr frame = media::decode_image(still);
    const int w = frame->width - (frame->width & 1), h = frame->height - (frame->height & 1);
    // The still in YUV 4:2:0 once; each output frame scales a crop of it.
    media::FramePtr yuv = media::make_frame();
    yuv->format = AV_PIX_FMT_YUV420P;
    yuv->width = w;
    yuv->height = h;
    if (av_frame_get_buffer(yuv.get(), 0) < 0) throw std::bad_alloc();
    SwsContext* to_yuv = sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), w, h,
                                        AV_PIX_FMT_YUV420P, SWS_POINT, nullptr, nullptr, nullptr);
    sws_scale(to_yuv, frame->data, frame->linesize, 0, h, yuv->data, yuv->linesize);
    sws_freeContext(to_yuv);

    const std::string name = fs::path(a.image).stem().string();
    const fs::path clip = o.work / (name + "." + o.motion + ".mp4"), truth = o.work / (name + "." + o.motion + ".mot.txt");
    const std::string encode = "ffmpeg -v error -y -f rawvideo -pix_fmt yuv420p -s " + std::to_string(w) + "x" +
                               std::to_string(h) + " -r " + std::to_string(o.fps) +
                               " -i - -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p " + quote(clip.string());
    FILE* pipe = ::popen(encode.c_str(), "w");
    if (!pipe) throw Error("cannot run ffmpeg");
    std::ofstream mot(truth);
    std::vector<std::uint8_t> out(static_cast<size_t>(w) * h * 3 / 2);
    for (int n = 0; n < o.frames; ++n) {
      const Crop c = crop_at(o, n, w, h);
      SwsContext* sws = sws_getContext(c.w, c.h, AV_PIX_FMT_YUV420P, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr,
                                       nullptr, nullptr);
      const std::uint8_t* src[3] = {yuv->data[0] + static_cast<ptrdiff_t>(c.y) * yuv->linesize[0] + c.x,
                                    yuv->data[1] + static_cast<ptrdiff_t>(c.y / 2) * yuv->linesize[1] + c.x / 2,
                                    yuv->data[2] + static_cast<ptrdiff_t>(c.y / 2) * yuv->linesize[2] + c.x / 2};
      std::uint8_t* dst[3] = {out.data(), out.data() + static_cast<size_t>(w) * h,
                              out.data() + static_cast<size_t>(w) * h * 5 / 4};
      const int dst_stride[3] = {w, w / 2, w / 2};
      sws_scale(sws, src, yuv->linesize, 0, c.h, dst, dst_stride);
      sws_freeContext(sws);
      if (std::fwrite(out.data(), 1, out.size(), pipe) != out.size()) throw Error("ffmpeg stopped reading frames");
      const double sx = static_cast<double>(w) / c.w, sy = static_cast<double>(h) / c.h;
      for (size_t id = 0; id < boxes.size(); ++id) {
        const Box& b = boxes[id].second;
        const Box m{static_cast<float>((b.x1 - c.x) * sx), static_cast<float>((b.y1 - c.y) * sy),
                    static_cast<float>((b.x2 - c.x) * sx), static_cast<float>((b.y2 - c.y) * sy)};
        const Box in = intersection(m, Box{0, 0, static_cast<float>(w), static_cast<float>(h)});
        if (in.empty() || in.area() < 0.5f * m.area()) continue;
        mot << n + 1 << ',' << id + 1 << ',' << in.x1 << ',' << in.y1 << ',' << in.width() << ',' << in.height() << ",1,"
            << (boxes[id].first == ObjectClass::Face ? 1 : 2) << ",1\n";
      }
    }
    if (::pclose(pipe) != 0) throw Error(clip.string() + ": ffmpeg failed");
    mot.close();

    const fs::path report = o.work / (name + "." + o.motion + ".json");
    const fs::path regions = o.work / (name + "." + o.motion + ".regions.json");
    std::string cmd = quote(o.roadveil.string()) + " eval -q --ground-truth " + quote(truth.string()) + " " +
                      quote(clip.string()) + " --json " + quote(report.string());
    if (o.queue) {
      cmd += " --detections " + quote(regions.string());
      regions_files.push_back(regions);
    }
    for (const auto& arg : o.eval_args) {
      cmd += ' ';
      cmd += quote(arg);
    }
    if (std::system((cmd + " > /dev/null").c_str()) != 0) throw Error("failed: " + cmd);
    std::ifstream in(report);
    const auto j = nlohmann::json::parse(in);
    ++total.clips;
    total.area += j["hidden_area_share"].get<double>();
    exposed_per_frame[clip.string()] = j["exposed_per_frame"].get<std::vector<int>>();
    for (int k = 0; k < 2; ++k) {
      const auto& c = j["classes"][k == 0 ? "face" : "plate"];
      total.object_frames[k] += c["object_frames"].get<long>();
      total.hidden[k] += c["hidden_object_frames"].get<long>();
      total.objects[k] += c["objects"].get<long>();
      total.never_exposed[k] += c["never_exposed"].get<long>();
      if (c["longest_exposure_frames"].get<int>() > total.longest[k]) {
        total.longest[k] = c["longest_exposure_frames"].get<int>();
        total.longest_where[k] = name + " object " + std::to_string(c["longest_exposure_object"].get<int>());
      }
    }
    std::cerr << "zoom_bench: " << done << " " << name << "\n";
  }
  if (total.clips == 0) throw Error(o.annotations.string() + ": no annotated image with faces or plates");
  auto ratio = [](long a, long b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  std::printf("| set | motion | clips | head-frames hidden | heads never exposed | plate-frames hidden | plates never exposed | longest exposure (frames): heads / plates | frame hidden |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::printf("| %s | %s | %d | %ld/%ld = %.3f | %ld/%ld = %.3f | %ld/%ld = %.3f | %ld/%ld = %.3f | %d / %d | %.1f%% |\n",
              o.annotations.parent_path().filename().c_str(), o.motion.c_str(), total.clips, total.hidden[0],
              total.object_frames[0], ratio(total.hidden[0], total.object_frames[0]), total.never_exposed[0],
              total.objects[0], ratio(total.never_exposed[0], total.objects[0]), total.hidden[1], total.object_frames[1],
              ratio(total.hidden[1], total.object_frames[1]), total.never_exposed[1], total.objects[1],
              ratio(total.never_exposed[1], total.objects[1]), total.longest[0], total.longest[1],
              100 * total.area / total.clips);
  nlohmann::json queue_summary;
  if (o.queue) queue_summary = measure_queue(o, regions_files, exposed_per_frame);
  if (!o.json.empty()) {
    nlohmann::json j = {{"clips", total.clips}, {"motion", o.motion}, {"hidden_area_share", total.area / total.clips}};
    if (o.queue) j["review_queue"] = queue_summary;
    for (int k = 0; k < 2; ++k)
      j[k == 0 ? "face" : "plate"] = {{"object_frames", total.object_frames[k]},
                                      {"recall", ratio(total.hidden[k], total.object_frames[k])},
                                      {"objects", total.objects[k]},
                                      {"never_exposed_share", ratio(total.never_exposed[k], total.objects[k])},
                                      {"longest_exposure_frames", total.longest[k]},
                                      {"longest_exposure_where", total.longest_where[k]}};
    std::ofstream(o.json) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--") {
        o.eval_args.assign(argv + i + 1, argv + argc);
        break;
      } else if (a == "--annotations") o.annotations = value();
      else if (a == "--images") o.images = value();
      else if (a == "--work") o.work = value();
      else if (a == "--json") o.json = value();
      else if (a == "--roadveil") o.roadveil = value();
      else if (a == "--motion") o.motion = value();
      else if (a == "--frames") o.frames = std::stoi(value());
      else if (a == "--fps") o.fps = std::stoi(value());
      else if (a == "--zoom") o.zoom = std::stod(value());
      else if (a == "--limit") o.limit = std::stoi(value());
      else if (a == "--queue") o.queue = true;
      else throw Error("unknown option " + a);
    }
    if (o.annotations.empty() || o.work.empty()) throw Error("--annotations and --work are required");
    if (o.motion != "in" && o.motion != "out" && o.motion != "pan") throw Error("--motion is in, out or pan");
    if (o.frames < 2 || o.zoom < 1) throw Error("--frames must be at least 2 and --zoom at least 1");
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "roadveil_zoom_bench: " << e.what() << "\n";
    return 1;
  }
}
