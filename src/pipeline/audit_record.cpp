#include "pipeline/audit_record.hpp"

#include <unistd.h>

#include <fstream>
#include <functional>
#include <set>
#include <map>

#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "core/sha256.hpp"
#include "core/atomic_file.hpp"
#include "core/utc_time.hpp"
#include "detect/model_registry.hpp"
#include "media/image_file.hpp"
#include "media/input_file.hpp"

namespace roadveil::pipeline {

using nlohmann::json;

std::filesystem::path audit_path_for(const std::filesystem::path& output) {
  return output.parent_path() / (output.filename().string() + ".audit.json");
}

json describe_media_file(const std::filesystem::path& path, std::int64_t frames_decoded) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot read (" + ec.message() + ")");
  json j = {{"path", path.string()}, {"sha256", sha256_file_hex(path)}, {"size", size}};
  if (media::is_image_path(path)) {
    j["type"] = "image";
    j["frame_count"] = 1;
    j["duration"] = 0.0;
    return j;
  }
  media::InputFile file(path);
  j["type"] = "video";
  j["duration"] = std::round(file.video().duration_seconds * 1e6) / 1e6;
  j["frame_count"] = frames_decoded >= 0 ? frames_decoded : file.video().frame_count;
  j["width"] = file.video().width;
  j["height"] = file.video().height;
  return j;
}

// A detector of one's own changes what is hidden: its identity (and not its path, which differs between
// machines) belongs to the settings a split run's parts must share.
json style_to_json(const redact::StyleOptions& s) {
  return json{{"style", redact::to_string(s.style)}, {"shape", s.shape == redact::Shape::Ellipse ? "ellipse" : "box"},
              {"mosaic_blocks", s.mosaic_blocks}, {"min_block_px", s.min_block_px}, {"blur_strength", s.blur_strength}};
}

redact::StyleOptions style_from_json(const json& s) {
  redact::StyleOptions o;
  if (!s.is_object()) return o;
  o.style = redact::style_from_string(s.value("style", "mosaic"));
  o.shape = s.value("shape", "box") == "ellipse" ? redact::Shape::Ellipse : redact::Shape::Box;
  o.mosaic_blocks = json_integer(s, "mosaic_blocks", o.mosaic_blocks);
  o.min_block_px = json_integer(s, "min_block_px", o.min_block_px);
  o.blur_strength = s.value("blur_strength", o.blur_strength);
  // A record or regions file is read back by render, audit and split runs: a style weaker than any run can
  // ask for (a 1000-block mosaic of 1-pixel blocks, a blur of nothing) would show what it claims to hide.
  if (o.mosaic_blocks < 2 || o.mosaic_blocks > 64)
    throw Error("\"mosaic_blocks\" is " + std::to_string(o.mosaic_blocks) + ", expected 2 to 64 (as --mosaic-blocks)");
  if (o.min_block_px < 1 || o.min_block_px > 4096)
    throw Error("\"min_block_px\" is " + std::to_string(o.min_block_px) + ", expected 1 to 4096");
  if (!(o.blur_strength >= 0.1f && o.blur_strength <= 1.0f))
    throw Error("\"blur_strength\" is " + s.value("blur_strength", json()).dump() + ", expected 0.1 to 1");
  return o;
}

void apply_recorded_class_styles(const json& class_styles, redact::ClassStyles& styles) {
  if (!class_styles.is_object()) return;
  for (const auto& [name, st] : class_styles.items()) {
    const ObjectClass c = intern_object_class(name);
    if (is_builtin(c)) continue;  // faces and plates: "face_style", "plate_style" and the options
    const redact::StyleOptions recorded = style_from_json(st);
    redact::StyleOptions& style = styles[static_cast<int>(c)];
    style.shape = recorded.shape;
    // A manifest that named no style hid the class as --style: so does this run, as its own --style says.
    if (st.value("style_given", true)) style = recorded;
  }
}

static json custom_models(const detect::DetectorConfig& d) {
  json out = json::array();
  for (const auto& m : d.custom_models) {
    json classes = json::array();
    for (const auto& c : m.classes)
      classes.push_back({{"id", c.id}, {"hide_as", to_string(c.hide_as)}, {"threshold", c.threshold}});
    out.push_back({{"name", m.name}, {"sha256", m.sha256}, {"replaces_builtin", m.replaces_builtin}, {"classes", classes}});
  }
  return out;
}

json settings_json(const AnonymizeOptions& o, const std::string& quality) {
  const auto& d = o.detector;
  // How the classes of one's own models were hidden (their manifests' style, shape and padding; a render of a
  // regions file with such classes: as --style, in boxes).
  json class_styles = json::object();
  for (const ObjectClass c : object_classes())
    if (!is_builtin(c)) {
      json st = style_to_json(o.styles[static_cast<int>(c)]);
      st["padding"] = o.padding.own[static_cast<int>(c)].left;
      bool given = false;  // whether a manifest named the style (else it was --style's)
      for (const auto& m : d.custom_models)
        for (const auto& mc : m.classes) given = given || (mc.hidden && mc.hide_as == c && !mc.style.empty());
      st["style_given"] = given;
      class_styles[std::string(to_string(c))] = st;
    }
  const char* codec = o.encode.codec == media::VideoCodecChoice::Hevc ? "hevc" : o.encode.codec == media::VideoCodecChoice::SameFamily ? "same" : "h264";
  return {
      {"quality", quality},
      {"faces", d.faces},
      {"plates", d.plates},
      {"face_network", d.face_network},
      {"face_threshold", d.face_threshold},
      {"face_resolution", d.face_max_side},
      {"plate_threshold", d.plate_threshold},
      {"plate_resolution", d.plate_max_side},
      {"head_network", d.heads.enabled},
      {"head_threshold", d.heads.head_threshold},
      {"head_resolution", d.heads.max_side},
      {"body_regions", d.heads.body_regions},
      {"body_threshold", d.heads.body_threshold},
      {"context", d.context.enabled},
      {"context_resolution", d.context.max_side},
      {"guided_plates", d.context.guided_plates},
      {"refine", d.context.refine},
      {"refine_photos", d.context.refine_photos},
      {"window_min_head", d.context.window_min_head_px},
      {"tracking", o.tracker.enabled},
      {"max_gap", o.tracker.max_gap},
      {"extend_forward", o.tracker.extend_forward},
      {"extend_forward_share", o.tracker.extend_forward_share},
      {"max_extend_forward", o.tracker.max_extend_forward},
      {"jitter_margin", o.tracker.jitter_margin},
      {"max_jitter_share", o.tracker.max_jitter_share},
      {"extend_backward", o.tracker.extend_backward},
      {"padding", o.padding.scale},
      {"keyframes_seconds", o.schedule.keyframe_seconds},
      {"detect_every", o.schedule.keyframe_interval},
      {"search_every", o.schedule.search_every},
      {"glances", o.schedule.glances},
      {"continue_score", o.schedule.continue_score_factor},
      {"appearance", o.schedule.appearance_similarity},
      {"custom_models", custom_models(d)},
      {"face_style", style_to_json(o.styles[static_cast<int>(ObjectClass::Face)])},
      {"plate_style", style_to_json(o.styles[static_cast<int>(ObjectClass::Plate)])},
      {"class_styles", class_styles},
      {"codec", codec},
      {"crf", o.encode.crf_ceiling > o.encode.crf ? json("auto") : json(o.encode.crf)},
      {"preset", o.encode.preset},
      {"jpeg_quality", o.image.jpeg_qscale > 0 ? json(o.image.jpeg_qscale) : json("source")},
  };
}

json review_summary(const json& review) {
  if (!review.is_object()) return nullptr;
  std::map<std::string, json> people;
  auto person = [&](const std::string& name) -> json& {
    json& p = people[name];
    if (p.is_null()) p = {{"name", name}, {"frames_reviewed", 0}, {"edits", 0}, {"first", nullptr}, {"last", nullptr}};
    return p;
  };
  auto seen_at = [](json& p, const json& at) {
    if (!at.is_string()) return;
    if (p["first"].is_null() || at.get<std::string>() < p["first"].get<std::string>()) p["first"] = at;
    if (p["last"].is_null() || at.get<std::string>() > p["last"].get<std::string>()) p["last"] = at;
  };
  const json reviewed = review.value("reviewed", json::array());
  for (const json& m : reviewed) {
    json& p = person(m.value("by", ""));
    p["frames_reviewed"] = p["frames_reviewed"].get<int>() + 1;
    seen_at(p, m.value("at", json()));
  }
  // Frames changed and regions taken out or added by the edits that stand (not undone; an undo is an edit back):
  // a review that deleted a face track says so here, not only in its count of edits. The frames were summed
  // per edit (two edits of one frame counted twice, undone ones too: 100 "frames changed" of a 50-frame clip).
  std::int64_t edits = 0, undone = 0;
  std::set<std::int64_t> changed_frames;
  std::map<std::string, std::int64_t> added, removed;
  for (const json& e : review.value("edits", json::array())) {
    ++edits;
    if (e.contains("undone_by")) ++undone;
    json& p = person(e.value("by", ""));
    p["edits"] = p["edits"].get<int>() + 1;
    seen_at(p, e.value("at", json()));
    if (e.contains("undone_by") || e.value("op", "") == "undo") continue;
    for (const json& c : e.value("changes", json::array())) {
      if (!c.is_object()) continue;
      if (c.contains("frame") && c["frame"].is_number_integer()) changed_frames.insert(c["frame"].get<std::int64_t>());
      std::map<std::string, std::int64_t> net;
      for (const char* side : {"before", "after"})
        for (const json& r : c.value(side, json::array()))
          if (r.is_object() && r.contains("class") && r["class"].is_string()) net[r["class"].get<std::string>()] += side[0] == 'a' ? 1 : -1;
      for (const auto& [cls, n] : net) (n > 0 ? added : removed)[cls] += n > 0 ? n : -n;
    }
  }
  json list = json::array();
  for (auto& [_, p] : people) list.push_back(p);
  json added_json = json::object(), removed_json = json::object();
  for (const auto& [cls, n] : added) if (n) added_json[cls] = n;
  for (const auto& [cls, n] : removed) if (n) removed_json[cls] = n;
  return {{"frames_reviewed", reviewed.size()}, {"edits", edits}, {"undone", undone},
          {"frames_changed", changed_frames.size()}, {"regions_added", added_json}, {"regions_removed", removed_json},
          {"reviewers", list}};
}

json make_audit_record(const AuditContext& context, const FileReport& report, std::chrono::system_clock::time_point now) {
  json record = {{"format", "roadveil-audit"}, {"version", kAuditRecordVersion}, {"created", utc_time_text(now)},
                 {"roadveil", kRoadveilVersion}, {"command", context.command}};
  std::error_code ec;
  record["cwd"] = std::filesystem::current_path(ec).string();  // relative paths below are from here
  record["input"] = context.input_description ? *context.input_description : describe_media_file(report.input);
  record["output"] = describe_media_file(report.output, report.frames);
  if (report.video_crf >= 0) record["output"]["crf"] = report.video_crf;  // what --crf auto chose
  record["status"] = report.damaged ? "damaged" : "ok";
  if (!report.warnings.empty()) record["warnings"] = report.warnings;

  json models = json::array();
  if (context.options && context.command == "anonymize") {
    for (const detect::ModelId id : detect::models_in_use(context.options->detector)) {
      const auto& spec = detect::model_spec(id);
      // The loader refused any file whose checksum differs, so the registry's is the file's.
      models.push_back({{"file", spec.relative_path}, {"sha256", spec.sha256}});
    }
    for (const auto& m : context.options->detector.custom_models)  // checked against their manifests at load
      models.push_back({{"file", m.model.string()}, {"sha256", m.sha256}, {"manifest", m.manifest.string()}, {"name", m.name}});
  }
  record["models"] = models;
  if (context.options) {
    json settings = settings_json(*context.options, context.quality);
    if (context.command == "render") {  // nothing was detected: only how the regions were drawn and encoded
      json drawn;
      for (const char* key : {"face_style", "plate_style", "class_styles", "codec", "crf", "preset", "jpeg_quality"}) drawn[key] = settings[key];
      settings = drawn;
    }
    record["settings"] = settings;
  }

  json by_class = json::object(), by_source = json::object();
  std::int64_t total = 0;
  for (int c = 0; c < object_class_count(); ++c) {
    by_class[std::string(to_string(static_cast<ObjectClass>(c)))] = report.regions[c];
    total += report.regions[c];
  }
  for (int s = 0; s < kRegionSourceCount; ++s)
    if (report.regions_by_source[s]) by_source[std::string(to_string(static_cast<RegionSource>(s)))] = report.regions_by_source[s];
  record["regions"] = {{"total", total}, {"frames_with_regions", report.frames_with_regions},
                       {"by_class", by_class}, {"by_source", by_source}};
  // Cover art is hidden too and counted above, but has no frame in the regions file: said apart, so that the
  // file's own counts can be checked against the rest.
  if (report.pictures_with_regions > 0) {
    json on_pictures = json::object();
    for (int c = 0; c < object_class_count(); ++c)
      if (report.picture_regions[c]) on_pictures[std::string(to_string(static_cast<ObjectClass>(c)))] = report.picture_regions[c];
    record["regions"]["on_attached_pictures"] = {{"pictures", report.pictures_with_regions}, {"by_class", on_pictures}};
  }

  json regions_file = nullptr, review = nullptr;
  if (!context.regions_file.empty()) {
    regions_file = {{"path", context.regions_file_name.empty() ? context.regions_file.string() : context.regions_file_name},
                    {"role", context.regions_file_is_input ? "rendered" : "written by this run"}};
    // The file as written may be reviewed since (its journal says how); the regions as written stay provable.
    if (!context.regions_file_is_input && !context.regions_sha256.empty()) regions_file["regions_sha256"] = context.regions_sha256;
    if (context.regions_file_is_input) {
      regions_file["sha256"] = sha256_file_hex(context.regions_file);
      // The review of what was rendered: the entry of this input in the regions file.
      const auto file = RegionsFile::read(context.regions_file);
      if (const RegionsEntry* e = file.find(report.input, true); e && !e->review.is_null()) review = review_summary(e->review);
    }
  }
  record["regions_file"] = regions_file;
  record["review"] = review;
  record["verify"] = nullptr;
  return record;
}

void write_audit_record(const std::filesystem::path& path, const json& record) {
  write_file_atomically(
      path, [&](std::ostream& out) { out << record.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; },
      "audit record");
}

bool made_by_this_run_before(const std::filesystem::path& output, const AnonymizeOptions& options,
                             const std::string& quality, const std::function<bool(const json& input)>& same_input) {
  std::error_code ec;
  const auto audit = audit_path_for(output);
  if (!std::filesystem::is_regular_file(output, ec) || !std::filesystem::is_regular_file(audit, ec)) return false;
  // A run asked for masks needs the mask too (a missing one was never made again: "skipped", exit 0).
  if (options.mask && !std::filesystem::is_regular_file(mask_path_for(output), ec)) return false;
  try {
    std::ifstream in(audit);
    const json record = json::parse(in);
    if (record.value("command", "") != "anonymize" || record.value("roadveil", "") != kRoadveilVersion ||
        record.value("status", "") != "ok" || record.value("settings", json()) != settings_json(options, quality))
      return false;
    const json& o = record.at("output");
    if (json_integer<std::int64_t>(o.at("size")) != static_cast<std::int64_t>(std::filesystem::file_size(output)))
      return false;  // cheap before hashing
    return same_input(record.at("input")) && o.at("sha256").get<std::string>() == sha256_file_hex(output);
  } catch (const std::exception&) {
    return false;
  }
}

bool made_by_this_run_before(const std::filesystem::path& input, const std::filesystem::path& output,
                             const AnonymizeOptions& options, const std::string& quality) {
  return made_by_this_run_before(output, options, quality, [&](const json& i) {
    return json_integer<std::int64_t>(i.at("size")) == static_cast<std::int64_t>(std::filesystem::file_size(input)) &&
           i.at("sha256").get<std::string>() == sha256_file_hex(input);  // the size first: cheap before hashing
  });
}

}  // namespace roadveil::pipeline
