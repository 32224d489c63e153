#pragma once
// Random access to the bytes of an input that is not a local file (an object in a bucket): what a decoder
// needs to read a large video in ranges while it decodes, instead of a downloaded copy.
#include <cstdint>
#include <memory>
#include <string>

namespace roadveil {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::int64_t size() const = 0;
  // `length` bytes from `offset` (fewer only at the end). Throws Error naming the source.
  virtual std::string read(std::int64_t offset, std::int64_t length) = 0;
  // What to call it in messages and records ("s3://bucket/key").
  virtual std::string name() const = 0;
  // A second reader of the same bytes that another thread may use while this one is read (a video decoded
  // twice: pipeline::Anonymizer); null where there is none. Throws Error where the bytes have changed since.
  virtual std::shared_ptr<ByteSource> reopen() const { return nullptr; }
};

}  // namespace roadveil
