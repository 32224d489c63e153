#pragma once
// A ByteSource read in blocks, for FFmpeg: an AVIOContext over at most `max_blocks` blocks of `block_size`
// bytes, so that memory stays flat whatever the size of the input, and its SHA-256 computed from the same
// blocks as they pass in order (an audit record needs the input's hash; the blocks a demuxer reads out of
// order, such as an MP4 index at the end, are read once more at the end to complete it).
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "core/byte_source.hpp"

struct AVIOContext;

namespace roadveil::media {

class RangeReader {
 public:
  // `hashes`: false for a second reader of bytes another reader already hashes (a video decoded twice).
  explicit RangeReader(std::shared_ptr<ByteSource> source, std::int64_t block_size = 4 << 20, int max_blocks = 4,
                       bool hashes = true);
  ~RangeReader();
  RangeReader(const RangeReader&) = delete;
  RangeReader& operator=(const RangeReader&) = delete;

  // A second reader of the same bytes (the source's reopen(): pinned to the version this one reads), that
  // does not hash, holding at most `max_blocks` blocks (0: as many as this one); null where the source has
  // no version to pin. Throws Error where the object has changed since.
  std::unique_ptr<RangeReader> reopen(int max_blocks = 0) const;
  // An AVIOContext reading through this object (owned by it; valid while it lives).
  AVIOContext* io();
  const std::string& name() const { return name_; }
  const std::shared_ptr<ByteSource>& source() const { return source_; }
  std::int64_t block_size() const { return block_size_; }
  int max_blocks() const { return max_blocks_; }
  std::int64_t size() const { return size_; }

  // Reads the blocks the hash has not seen yet and returns the SHA-256 (hex) of the whole source.
  std::string finish_sha256();
  std::int64_t bytes_fetched() const { return fetched_; }
  // The first read that failed (FFmpeg only sees an I/O error), or "".
  const std::string& error() const { return error_; }
  int most_blocks_held() const { return most_held_; }

  // AVIO callbacks.
  int read_packet(std::uint8_t* buffer, int size);
  std::int64_t seek(std::int64_t offset, int whence);

 private:
  struct Block {
    std::int64_t index;
    std::string bytes;
  };
  const Block& block(std::int64_t index);
  void hash_ready_blocks();

  std::shared_ptr<ByteSource> source_;
  std::string name_, error_;
  std::int64_t size_ = 0, block_size_, position_ = 0, fetched_ = 0;
  int max_blocks_, most_held_ = 0;
  std::list<Block> blocks_;  // most recently used first
  std::int64_t hashed_blocks_ = 0;
  std::string sha256_;  // once finished
  struct Hash;
  std::unique_ptr<Hash> hash_;
  AVIOContext* io_ = nullptr;
};

}  // namespace roadveil::media
