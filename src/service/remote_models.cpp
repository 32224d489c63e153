#include "service/remote_models.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/temporary_file.hpp"
#include "detect/model_registry.hpp"

namespace roadveil::service {

namespace fs = std::filesystem;

fs::path default_cache_root() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "roadveil" / "models";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "roadveil" / "models";
  return fs::temp_directory_path() / "roadveil-models";
}

fs::path models_cache_dir(const fs::path& cache_root, const storage::S3Url& url) {
  fs::path dir = cache_root / url.bucket;
  std::string prefix = url.key;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) dir /= fs::path(prefix).lexically_normal().relative_path();
  return dir;
}

fs::path cached_models(storage::S3Client& client, const std::string& text) {
  storage::S3Url url = storage::parse_s3_url(text);
  if (!url.key.empty() && url.key.back() != '/') url.key += '/';
  if (url.key.find("..") != std::string::npos) throw Error(text + ": a models prefix with '..' is not used");
  const fs::path dir = models_cache_dir(default_cache_root(), url);
  for (const detect::ModelId id : {detect::ModelId::FaceYunet, detect::ModelId::PlateYolov9, detect::ModelId::ContextYolox,
                                   detect::ModelId::HeadYolox}) {
    const detect::ModelSpec& spec = detect::model_spec(id);
    const fs::path local = dir / spec.relative_path;
    std::error_code ec;
    if (fs::is_regular_file(local, ec) && sha256_file_hex(local) == spec.sha256) continue;
    const storage::S3Url object{url.bucket, url.key + spec.relative_path};
    fs::create_directories(local.parent_path());
    TemporaryFile part(local);  // removed if this throws
    spdlog::info("fetching {} into {}", object.to_string(), local.string());
    client.download(object, part.path());
    if (sha256_file_hex(part.path()) != spec.sha256)
      throw Error(object.to_string() + ": not the model file roadveil expects (SHA-256 differs from " + spec.sha256 +
                  "; get it from " + spec.upstream + ")");
    if (const std::error_code moved = part.move_into_place())
      throw Error(local.string() + ": cannot move the fetched model into place (" + moved.message() + ")");
  }
  return dir;
}

}  // namespace roadveil::service
