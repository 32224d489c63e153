#include "storage/s3_byte_source.hpp"

#include "core/error.hpp"

namespace roadveil::storage {

S3ByteSource::S3ByteSource(const S3Config& config, const S3Url& object, const std::string& pinned_etag)
    : client_(config), object_(object) {
  const auto info = client_.head(object_);
  if (!info) throw S3Error(object_.to_string() + ": reading failed: no such object", 404, "NoSuchKey");
  if (!pinned_etag.empty() && info->etag != pinned_etag)
    throw S3Error(object_.to_string() + ": the object changed while it was read (ETag " + pinned_etag + ", now " +
                      info->etag + ")",
                  412, "PreconditionFailed");
  size_ = info->size;
  etag_ = info->etag;
}

std::shared_ptr<ByteSource> S3ByteSource::reopen() const {
  // Without an ETag nothing says the second reader reads the version the first did: detection would run on
  // one and rendering on the other (a replacement with the same timestamps would get the first's regions).
  if (etag_.empty()) return nullptr;
  auto again = std::make_shared<S3ByteSource>(client_.config(), object_, etag_);
  if (again->size() != size_)
    throw S3Error(object_.to_string() + ": the object changed while it was read (" + std::to_string(size_) + " bytes, now " +
                      std::to_string(again->size()) + ")",
                  412, "PreconditionFailed");
  return again;
}

std::string S3ByteSource::read(std::int64_t offset, std::int64_t length) {
  return client_.read_range(object_, offset, length, etag_.empty() ? "" : "\"" + etag_ + "\"");
}

}  // namespace roadveil::storage
