#pragma once
// An object read in ranges (GET with Range, pinned to the ETag it had when opened): what a decoder reads a
// large video from while it decodes, instead of a downloaded copy (media/range_reader.hpp).
#include <memory>

#include "core/byte_source.hpp"
#include "storage/s3_client.hpp"

namespace roadveil::storage {

class S3ByteSource : public ByteSource {
 public:
  // Its own client (the caller's may be busy on another thread); throws S3Error when there is no such object,
  // or when `pinned_etag` is given and the object is no longer that version.
  S3ByteSource(const S3Config& config, const S3Url& object, const std::string& pinned_etag = "");
  std::int64_t size() const override { return size_; }
  std::string read(std::int64_t offset, std::int64_t length) override;
  std::string name() const override { return object_.to_string(); }
  const std::string& etag() const { return etag_; }
  // The same version of the object, through a client of its own; null where the store gave no ETag to pin it.
  std::shared_ptr<ByteSource> reopen() const override;

 private:
  S3Client client_;
  S3Url object_;
  std::int64_t size_ = 0;
  std::string etag_;
};

}  // namespace roadveil::storage
