#include "service/object_jobs.hpp"

#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/atomic_file.hpp"
#include "core/interrupt_cleanup.hpp"
#include "core/sha256.hpp"
#include "media/image_file.hpp"
#include "media/range_reader.hpp"
#include "storage/aws_sigv4.hpp"
#include "storage/s3_byte_source.hpp"

namespace roadveil::service {

namespace fs = std::filesystem;
using storage::S3Url;

std::string to_string(const Location& where) {
  if (const auto* url = std::get_if<S3Url>(&where)) return url->to_string();
  return std::get<fs::path>(where).string();
}

bool is_remote(const Location& where) { return std::holds_alternative<S3Url>(where); }

std::string settings_digest(const pipeline::AnonymizeOptions& options, const std::string& quality, bool audit) {
  // What files a run leaves beside the output counts too: a rerun asking for --mask or audit records that an
  // earlier run did not write must not be skipped.
  return sha256_hex(fmt::format("{}\n{}\nmask={} audit={}", pipeline::kRoadveilVersion,
                                pipeline::settings_json(options, quality).dump(), options.mask, audit));
}

std::string source_text(const S3Url& input) { return "s3://" + input.bucket + "/" + storage::uri_encode(input.key, true); }

std::optional<std::string> output_of_another_input(const storage::ObjectInfo& existing_output, const S3Url& input) {
  const auto it = existing_output.metadata.find("roadveil-source");
  if (it == existing_output.metadata.end() || it->second == source_text(input)) return std::nullopt;
  return it->second;
}

bool made_from_object_before(const S3Url& input, const std::string& input_etag, const fs::path& output,
                             const pipeline::AnonymizeOptions& options, const std::string& quality) {
  if (input_etag.empty()) return false;
  return pipeline::made_by_this_run_before(output, options, quality, [&](const nlohmann::json& i) {
    return i.value("path", "") == input.to_string() && i.value("etag", "") == input_etag;
  });
}

bool metadata_holds(const storage::ObjectMetadata& have, const storage::ObjectMetadata& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& kv) {
    const auto it = have.find(kv.first);
    return it != have.end() && it->second == kv.second;
  });
}

bool upload_landed(storage::S3Client& client, const S3Url& object, const fs::path& file, const storage::ObjectMetadata& metadata) {
  std::optional<storage::ObjectInfo> landed;
  try {
    landed = client.head(object);
  } catch (const std::exception&) {
    return false;
  }
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  return landed && !ec && landed->size == static_cast<std::int64_t>(size) && metadata_holds(landed->metadata, metadata);
}

bool source_exists(storage::S3Client& client, const std::string& source) {
  if (!source.starts_with("s3://")) return true;
  const std::string rest = source.substr(5);
  const std::size_t slash = rest.find('/');
  if (slash == std::string::npos) return true;
  try {
    return client.head(S3Url{rest.substr(0, slash), storage::uri_decode(rest.substr(slash + 1), false)}).has_value();
  } catch (const storage::S3Error&) {
    return true;  // cannot tell: as if it were there
  }
}

std::string writable_output_name(std::string name) {
  if (!media::is_read_only_video_path(name)) return name;
  const std::size_t dot = name.rfind('.');
  return name.substr(0, dot) + ".mkv";
}

bool is_media_name(const std::string& name) {
  const fs::path p(name);
  if (p.filename().string().starts_with(".")) return false;
  return media::is_image_path(p) || media::is_video_path(p);
}

namespace {

std::string file_name_of(const std::string& key) {
  const auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

// `relative` ("sub/clip.mp4") under a folder or prefix. An object key is any text: one that would climb out
// of a local folder ("../x.jpg", "a//b", an absolute remainder) is refused, so a bucket cannot make roadveil
// write outside the folder it was given.
Location joined(const Location& base, const std::string& relative) {
  if (const auto* url = std::get_if<S3Url>(&base)) return S3Url{url->bucket, url->key + relative};
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = relative.find('/', start);
    const std::string part = relative.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..")
      throw Error("'" + relative + "': a key with an empty, '.' or '..' part cannot be a file name under " +
                  std::get<fs::path>(base).string());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return std::get<fs::path>(base) / fs::path(relative);
}

bool under(const S3Url& object, const S3Url& prefix) {
  return object.bucket == prefix.bucket && object.key.starts_with(prefix.key);
}

fs::path regions_path_for(const fs::path& output) { return fs::path(output.string() + ".regions.json"); }


std::string sibling_key(const std::string& key, const fs::path& local_sibling) {
  const auto slash = key.rfind('/');
  return (slash == std::string::npos ? "" : key.substr(0, slash + 1)) + local_sibling.filename().string();
}

}  // namespace

std::string content_type_for(const std::string& name) {
  static const std::map<std::string, std::string> types = {
      {".mp4", "video/mp4"},        {".m4v", "video/mp4"},         {".mov", "video/quicktime"},
      {".mkv", "video/x-matroska"}, {".webm", "video/webm"},       {".avi", "video/x-msvideo"},
      {".ts", "video/mp2t"},        {".mts", "video/mp2t"},        {".m2ts", "video/mp2t"},
      {".mpg", "video/mpeg"},       {".mpeg", "video/mpeg"},       {".gif", "image/gif"},
      {".jpg", "image/jpeg"},       {".jpeg", "image/jpeg"},       {".jpe", "image/jpeg"},
      {".jfif", "image/jpeg"},            {".png", "image/png"},        {".webp", "image/webp"},       {".bmp", "image/bmp"},
      {".tif", "image/tiff"},       {".tiff", "image/tiff"},       {".json", "application/json"}};
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

std::vector<ObjectJob> plan_object_jobs(storage::S3Client& client, const std::vector<std::string>& inputs,
                                        const std::string& output, std::vector<std::string>& errors) {
  const Location out = storage::is_s3_url(output) ? Location(storage::parse_s3_url(output)) : Location(fs::path(output));
  const auto* out_url = std::get_if<S3Url>(&out);
  std::error_code ec;
  // The output is a container (prefix, folder) unless it names one object or file for one input object/file.
  const bool out_is_container = out_url ? out_url->is_prefix() : fs::is_directory(std::get<fs::path>(out), ec);
  std::vector<ObjectJob> jobs;
  std::vector<std::pair<Location, std::string>> singles;  // (input, etag) of inputs named one by one
  for (const std::string& text : inputs) {
    if (storage::is_s3_url(text)) {
      const S3Url in = storage::parse_s3_url(text);
      if (in.is_prefix()) {
        if (out_url && out_url->bucket == in.bucket && out_url->key == in.key) {
          errors.push_back(text + ": the output prefix is this input prefix; choose another output prefix");
          continue;
        }
        std::size_t found = 0;
        for (const storage::ObjectInfo& o : client.list(in)) {
          const S3Url object{in.bucket, o.key};
          // Never take our own outputs (an output prefix inside the input prefix) or non-media objects.
          if (!is_media_name(o.key) || (out_url && out_url->is_prefix() && under(object, *out_url))) continue;
          try {
            jobs.push_back({object, joined(out, writable_output_name(o.key.substr(in.key.size()))), o.etag});
            ++found;
          } catch (const Error& e) {
            errors.push_back(object.to_string() + ": " + e.what());
          }
        }
        if (found == 0) errors.push_back(text + ": no image or video objects under this prefix");
        continue;
      }
      const auto info = client.head(in);
      if (!info) {
        errors.push_back(text + ": no such object");
        continue;
      }
      singles.emplace_back(in, info->etag);
      continue;
    }
    const fs::path in(text);
    if (fs::is_regular_file(in, ec)) {
      singles.emplace_back(in, "");
    } else if (fs::is_directory(in, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && is_media_name(it->path().filename().string())) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) errors.push_back(text + ": folder contains no image or video files");
      for (const auto& f : files) jobs.push_back({f, joined(out, writable_output_name(fs::relative(f, in, ec).generic_string())), ""});
    } else {
      errors.push_back(text + ": no such file, folder or s3:// object");
    }
  }
  const bool one_named = singles.size() == 1 && jobs.empty() && errors.empty();
  if (!one_named && !out_is_container && !(singles.empty() && jobs.empty())) {
    if (out_url) throw Error(output + ": several inputs or a prefix need an output prefix ending in '/'");
    if (fs::exists(std::get<fs::path>(out), ec))
      throw Error(output + ": several inputs or a prefix need an output folder, and this is a file");
  }
  for (const auto& [in, etag] : singles) {
    const std::string name = is_remote(in) ? file_name_of(std::get<S3Url>(in).key) : std::get<fs::path>(in).filename().string();
    jobs.push_back({in, one_named && !out_is_container ? out : joined(out, writable_output_name(name)), etag});
  }
  // Two inputs whose outputs share a name (a.ogv written as a.mkv beside a.mkv): one output would replace the
  // other, and each rerun would redo both (neither matches the source the output says it was made from).
  // An output that is an input (an object anonymized onto itself, or into its own prefix): the original would be
  // replaced, and every rerun would anonymize the anonymized file again (its source tag no longer matches).
  std::set<std::string> input_names;
  std::set<std::pair<dev_t, ino_t>> input_files;  // local inputs by device and inode: one file under any name
  auto identity = [](const fs::path& p) -> std::optional<std::pair<dev_t, ino_t>> {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return std::nullopt;
    return std::pair{st.st_dev, st.st_ino};
  };
  for (const ObjectJob& job : jobs) {
    input_names.insert(to_string(job.input));
    if (!is_remote(job.input))
      if (const auto id = identity(std::get<fs::path>(job.input))) input_files.insert(*id);
  }
  for (const ObjectJob& job : jobs) {
    bool same = input_names.count(to_string(job.output)) > 0;
    if (!same && !is_remote(job.output))
      if (const auto id = identity(std::get<fs::path>(job.output))) same = input_files.count(*id) > 0;
    if (same)
      throw Error(to_string(job.output) + ": is an input; the output of " + to_string(job.input) +
                  " would replace an original: choose another output name or prefix");
  }
  std::map<std::string, std::string> output_of;
  for (const ObjectJob& job : jobs) {
    const auto [it, added] = output_of.emplace(to_string(job.output), to_string(job.input));
    if (!added)
      throw Error(to_string(job.output) + ": the output of both " + it->second + " and " + to_string(job.input) +
                  " (a container roadveil cannot write becomes .mkv): give them different names or outputs");
  }
  return jobs;
}

JobOutcome run_object_job(const RunContext& context, const ObjectJob& job) {
  JobOutcome outcome;
  const auto* in_url = std::get_if<S3Url>(&job.input);
  const auto* out_url = std::get_if<S3Url>(&job.output);
  std::vector<fs::path> staged;  // work files to remove whatever happens
  auto stage = [&](const fs::path& p) {
    staged.push_back(p);
    remove_on_interrupt(p);  // Ctrl-C or a worker's SIGTERM leaves no work files behind
  };
  auto clean = [&] {
    std::error_code ec;
    for (const auto& p : staged) fs::remove(p, ec);
  };
  // Messages name the object, not the work folder's copy of it, which is gone by the time they are read
  // ("/tmp/roadveil-work-tAUdXF/in/empty.jpg: file is empty" for s3://uploads/bad/empty.jpg).
  std::vector<std::pair<std::string, std::string>> staged_names;
  auto named = [&](std::string text) {
    for (const auto& [local, name] : staged_names)
      for (std::size_t at = 0; !local.empty() && (at = text.find(local, at)) != std::string::npos; at += name.size())
        text.replace(at, local.size(), name);
    return text;
  };
  // The metadata an object output of this run carries: which run made it (version, settings), from what (the
  // source object and its ETag, or a local input's SHA-256, read once), and whether it is whole. An output that
  // holds all of it, whole, is done (--skip-done); an upload that errs is this run's if it landed with it.
  std::optional<std::string> local_input_sha256;
  auto output_metadata = [&](const std::string& input_etag, bool damaged) {
    storage::ObjectMetadata m{{"roadveil-version", pipeline::kRoadveilVersion},
                              {"roadveil-settings", context.settings_digest},
                              {"roadveil-status", damaged ? "damaged" : "ok"}};
    if (in_url) {
      m["roadveil-source"] = source_text(*in_url);
      m["roadveil-source-etag"] = input_etag;
    } else {
      if (!local_input_sha256) local_input_sha256 = sha256_file_hex(std::get<fs::path>(job.input));
      m["roadveil-source-sha256"] = *local_input_sha256;
    }
    return m;
  };
  try {
    if (out_url && (in_url || context.skip_done)) {
      std::optional<storage::ObjectInfo> existing;
      try {
        existing = context.client->head(*out_url);
      } catch (const storage::S3Error& e) {
        // Without s3:ListBucket, AWS answers 403 for a missing object: not made yet, as far as we can tell.
        if (e.status != 403) throw;
        spdlog::warn("{} (taken as not made yet)", e.what());
      }
      // The output of another upload under the same name (cam/a.vob is written as cam/a.mkv, beside an upload
      // cam/a.mkv): the worker's jobs replaced each other's output, and every backfill queued the other again.
      // The first made stays; this one fails, saying why.
      // One whose source is gone (cam/a.vob deleted, then cam/a.mkv uploaded) is no one's any more: replaced.
      if (existing && in_url)
        if (const auto other = output_of_another_input(*existing, *in_url)) {
          if (source_exists(*context.client, *other))
            throw Error(to_string(job.output) + ": is the anonymized output of " + *other + "; the output of " +
                        to_string(job.input) + " would replace it (an upload in a container roadveil cannot write is written "
                        "as .mkv): rename one of them");
        }
      // A damaged output (a truncated upload, rendered as far as it decoded) is not done: a retried task
      // exited 0 on it and the worker counted it a success, where a local --skip-done makes it again. With a
      // local input (one side on this machine), the source's SHA-256 says it is the same input: both sides
      // local or remote reran and replaced every output (review of storage).
      if (existing && context.skip_done && metadata_holds(existing->metadata, output_metadata(job.input_etag, false))) {
        outcome.result = JobResult::Skipped;
        return outcome;
      }
    }
    // A local output of an object: skipped as a local --skip-done does (the shard options imply it), by the
    // audit record beside it.
    if (context.skip_done && in_url && !out_url && context.audit && context.audit->options) {
      const fs::path out_file = std::get<fs::path>(job.output);
      if (made_from_object_before(*in_url, job.input_etag, out_file, *context.audit->options, context.audit->quality)) {
        outcome.result = JobResult::Skipped;
        return outcome;
      }
    }
    // An object deleted between its event (or the listing) and its job: nothing to anonymize, and nothing to
    // retry (it failed, was retried and ended in the dead-letter stream, where one deleted during the job was
    // acknowledged as superseded).
    if (in_url) {
      std::optional<storage::ObjectInfo> now;
      try {
        now = context.client->head(*in_url);
      } catch (const storage::S3Error& e) {
        if (e.status != 403) throw;  // 403: missing, without s3:ListBucket; or not readable, which the read says
        now = storage::ObjectInfo{};
      }
      if (!now) {
        outcome.result = JobResult::Superseded;
        outcome.error = to_string(job.input) + " was deleted before it was anonymized: nothing to do";
        return outcome;
      }
    }
    std::string input_etag = job.input_etag;
    fs::path local_in, local_out;
    // A video is decoded from ranged reads as it goes (constant memory, no copy on disk, no wait for a whole
    // download); its SHA-256 comes from the same reads. Photos are small: they are downloaded.
    std::unique_ptr<media::RangeReader> remote;
    if (in_url && media::is_video_path(fs::path(in_url->key)) && context.ranged_reads) {
      auto source = std::make_shared<storage::S3ByteSource>(context.client->config(), *in_url);
      if (!source->etag().empty()) input_etag = source->etag();
      remote = std::make_unique<media::RangeReader>(source, context.range_block_size);
    } else if (in_url) {
      fs::create_directories(context.work_dir / "in");
      local_in = context.work_dir / "in" / file_name_of(in_url->key);
      stage(local_in);
      // The ETag of what was read: the object may have been replaced since the event or listing.
      if (const std::string read = context.client->download(*in_url, local_in); !read.empty()) input_etag = read;
    } else {
      local_in = std::get<fs::path>(job.input);
    }
    if (out_url) {
      fs::create_directories(context.work_dir / "out");
      local_out = context.work_dir / "out" / file_name_of(out_url->key);
      stage(local_out);
      stage(pipeline::audit_path_for(local_out));
      stage(pipeline::mask_path_for(local_out));
    } else {
      local_out = std::get<fs::path>(job.output);
      if (!local_out.parent_path().empty()) fs::create_directories(local_out.parent_path());
    }
    if (in_url && !local_in.empty()) staged_names.emplace_back(local_in.string(), to_string(job.input));
    if (out_url) staged_names.emplace_back(local_out.string(), to_string(job.output));
    // The regions hidden in every frame go beside the output as OUTPUT.regions.json (what `review` edits and
    // `render` re-applies), its entry naming the input and output where they live.
    const fs::path regions = regions_path_for(local_out);
    if (out_url) stage(regions);
    auto writer = std::make_unique<pipeline::RegionsWriter>(regions);
    outcome.report = remote ? context.anonymizer->process(*remote, local_out, writer.get())
                            : context.anonymizer->process(local_in, local_out, writer.get());
    // The output's metadata names the input as it was read, as its audit record does (a file still being
    // written may have changed since the skip check read it).
    local_input_sha256.reset();
    outcome.report.error = named(outcome.report.error);
    for (std::string& w : outcome.report.warnings) w = named(w);
    if (!outcome.report.ok) {
      outcome.error = outcome.report.error;
      writer.reset();
      clean();
      return outcome;
    }
    nlohmann::json record;
    if (context.audit) {
      pipeline::AuditContext audit = *context.audit;
      // The regions file goes beside the output: the record names it there (it said none, and audit never
      // checked the hidden area of an output on object storage; downloaded beside the record, it is found).
      if (audit.regions_file.empty()) {  // (render names the file it rendered)
        audit.regions_file = regions;
        audit.regions_file_name = out_url ? S3Url{out_url->bucket, sibling_key(out_url->key, regions)}.to_string() : regions.string();
        audit.regions_sha256 = writer->entry_digest();
      }
      nlohmann::json described;
      if (remote) {
        const media::VideoInfo& v = outcome.report.input_video;
        described = {{"path", to_string(job.input)}, {"sha256", remote->finish_sha256()}, {"size", remote->size()},
                     {"type", "video"}, {"duration", std::round(v.duration_seconds * 1e6) / 1e6},
                     {"frame_count", v.frame_count}, {"width", v.width}, {"height", v.height}};
        audit.input_description = &described;
        spdlog::debug("{}: {} bytes read in ranges for {} bytes, at most {} blocks held", remote->name(),
                      remote->bytes_fetched(), remote->size(), remote->most_blocks_held());
      }
      record = pipeline::make_audit_record(audit, outcome.report);
      record["input"]["path"] = to_string(job.input);
      record["output"]["path"] = to_string(job.output);
      if (!input_etag.empty()) record["input"]["etag"] = input_etag;
      pipeline::write_audit_record(pipeline::audit_path_for(local_out), record);
      writer->attach_audit(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    writer->close();
    writer.reset();
    {
      std::ifstream in(regions);
      nlohmann::json doc = nlohmann::json::parse(in);
      for (auto& entry : doc["entries"]) {
        entry["input"] = to_string(job.input);
        entry["output"] = to_string(job.output);
      }
      write_file_atomically(regions, [&](std::ostream& out) { out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); },
                            "regions file");
    }
    if (context.before_upload) context.before_upload();
    if (out_url && in_url && !input_etag.empty()) {
      // A newer version of the input, uploaded while this one was anonymized, has an event of its own whose job
      // may already have written this output: the older output must not replace it (and a deleted input's
      // output is not wanted). Checked as late as can be; S3 has no write conditional on another object, so
      // what is left is the time the uploads take.
      std::optional<storage::ObjectInfo> now;
      try {
        now = context.client->head(*in_url);
      } catch (const storage::S3Error& e) {
        // The object was just read, so a 403 is the answer for a missing object without s3:ListBucket.
        if (e.status != 403) throw;
      }
      if (!now || now->etag != input_etag) {
        clean();
        outcome.result = JobResult::Superseded;
        outcome.error = to_string(job.input) +
                        (now ? " was replaced while it was anonymized (ETag " + input_etag + ", now " + now->etag + ")"
                             : " was deleted while it was anonymized") +
                        ": its output is not uploaded";
        return outcome;
      }
    }
    if (out_url) {
      // The evidence goes up first: once the output appears (the sign that the work is done), its audit
      // record and mask are there too. Should an upload fail, the evidence already up is put back as it was
      // (an earlier output's own, or none): a failed rerun left its audit record and regions file beside the
      // earlier output, which then failed its audit, and a reviewer's edited regions file was replaced.
      struct Evidence {
        fs::path file;
        S3Url url;
        std::string content_type;
        fs::path previous;  // the object as it was, downloaded; empty when there was none
      };
      std::vector<Evidence> evidence;
      if (context.audit) evidence.push_back({pipeline::audit_path_for(local_out), {}, "application/json", {}});
      evidence.push_back({regions, {}, "application/json", {}});
      if (context.mask) evidence.push_back({pipeline::mask_path_for(local_out), {}, content_type_for(pipeline::mask_path_for(local_out).string()), {}});
      for (Evidence& e : evidence) {
        e.url = {out_url->bucket, sibling_key(out_url->key, e.file)};
        if (context.client->head(e.url)) {
          e.previous = context.work_dir / "out" / (e.file.filename().string() + ".previous");
          stage(e.previous);
          context.client->download(e.url, e.previous);
        }
      }
      const storage::ObjectMetadata metadata = output_metadata(input_etag, outcome.report.damaged);
      std::size_t uploaded = 0;
      try {
        for (; uploaded < evidence.size(); ++uploaded)
          context.client->upload(evidence[uploaded].file, evidence[uploaded].url, {}, evidence[uploaded].content_type);
        context.client->upload(local_out, *out_url, metadata, content_type_for(out_url->key));
      } catch (const std::exception& e) {
        // An output whose upload landed though its answer was lost (a timeout after the last byte): there with
        // this run's metadata and size, it is this run's, and its evidence stays (put back, it sat beside the new
        // output, which then failed its audit).
        if (uploaded == evidence.size()) {
          if (upload_landed(*context.client, *out_url, local_out, metadata)) {
            spdlog::warn("{}: its upload reported an error ({}) but the output is there, as this run made it", to_string(job.output), e.what());
            clean();
            outcome.result = JobResult::Done;
            return outcome;
          }
        }
        // The upload's own error is the job's; a failure to put things back is said beside it.
        std::string restore_error;
        for (std::size_t k = 0; k < uploaded; ++k) {
          try {
            if (evidence[k].previous.empty()) context.client->remove(evidence[k].url);
            else context.client->upload(evidence[k].previous, evidence[k].url, {}, evidence[k].content_type);
          } catch (const std::exception& r) {
            restore_error += std::string("; ") + evidence[k].url.to_string() + " could not be put back as it was (" + r.what() + ")";
          }
        }
        throw Error(e.what() + restore_error);
      }
    }
    clean();
    outcome.result = JobResult::Done;
    return outcome;
  } catch (const std::exception& e) {
    clean();
    outcome.result = JobResult::Failed;
    outcome.error = named(e.what());
    return outcome;
  }
}

}  // namespace roadveil::service
