#pragma once
// `--models s3://bucket/prefix/` (or ROADVEIL_MODELS=s3://...): workers on fresh machines take the model files
// from the team's bucket. Each file the registry knows is copied once into a local cache
// ($XDG_CACHE_HOME/roadveil/models/BUCKET/PREFIX, else ~/.cache/...) and reused while its SHA-256 is the
// registry's; the model loader verifies it again as for any folder.
#include <filesystem>
#include <string>

#include "storage/s3_client.hpp"

namespace roadveil::service {

// The local folder holding the models of `url` (a prefix), fetching what is missing or different.
// Throws Error naming the object that is missing or whose bytes are not the registry's.
std::filesystem::path cached_models(storage::S3Client& client, const std::string& url);

// The cache folder for `url` under `cache_root`.
std::filesystem::path models_cache_dir(const std::filesystem::path& cache_root, const storage::S3Url& url);
std::filesystem::path default_cache_root();

}  // namespace roadveil::service
