#pragma once
// Random access to the bytes of an input that is not a local file (an object in a bucket): what a decoder
// needs to read a large video in ranges while it decodes, instead of a downloaded copy.
#include <cstdint>
#include <filesystem>
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

// A local file as a ByteSource (what reads an input's bytes where it may be a file or an object).
class FileByteSource final : public ByteSource {
 public:
  // Throws Error naming the file when it cannot be opened.
  explicit FileByteSource(const std::filesystem::path& path);
  ~FileByteSource() override;
  FileByteSource(const FileByteSource&) = delete;
  FileByteSource& operator=(const FileByteSource&) = delete;
  std::int64_t size() const override { return size_; }
  std::string read(std::int64_t offset, std::int64_t length) override;
  std::string name() const override { return path_.string(); }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::int64_t size_ = 0;
};

}  // namespace roadveil
