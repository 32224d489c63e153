#include "media/range_reader.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/sha256.hpp"

extern "C" {
#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace roadveil::media {

struct RangeReader::Hash {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Hash() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw Error("SHA-256: OpenSSL failed to start a digest");
  }
  ~Hash() { EVP_MD_CTX_free(ctx); }
};

namespace {
int read_callback(void* opaque, std::uint8_t* buffer, int size) {
  return static_cast<RangeReader*>(opaque)->read_packet(buffer, size);
}
std::int64_t seek_callback(void* opaque, std::int64_t offset, int whence) {
  return static_cast<RangeReader*>(opaque)->seek(offset, whence);
}
}  // namespace

RangeReader::RangeReader(std::shared_ptr<ByteSource> source, std::int64_t block_size, int max_blocks, bool hashes)
    : source_(std::move(source)), name_(source_->name()), size_(source_->size()), block_size_(std::max<std::int64_t>(4096, block_size)),
      max_blocks_(std::max(1, max_blocks)), hash_(hashes ? std::make_unique<Hash>() : nullptr) {}

std::unique_ptr<RangeReader> RangeReader::reopen(int max_blocks) const {
  std::shared_ptr<ByteSource> again = source_->reopen();
  if (!again) return nullptr;
  return std::make_unique<RangeReader>(std::move(again), block_size_, max_blocks > 0 ? max_blocks : max_blocks_, false);
}

RangeReader::~RangeReader() {
  if (io_) {
    av_freep(&io_->buffer);
    avio_context_free(&io_);
  }
}

AVIOContext* RangeReader::io() {
  if (!io_) {
    constexpr int kBuffer = 1 << 16;
    auto* buffer = static_cast<unsigned char*>(av_malloc(kBuffer));
    if (!buffer) throw std::bad_alloc();
    io_ = avio_alloc_context(buffer, kBuffer, 0, this, read_callback, nullptr, seek_callback);
    if (!io_) {
      av_free(buffer);
      throw std::bad_alloc();
    }
  }
  return io_;
}

const RangeReader::Block& RangeReader::block(std::int64_t index) {
  for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
    if (it->index != index) continue;
    blocks_.splice(blocks_.begin(), blocks_, it);
    return blocks_.front();
  }
  const std::int64_t offset = index * block_size_;
  const std::int64_t length = std::min(block_size_, size_ - offset);
  std::string bytes = source_->read(offset, length);
  if (static_cast<std::int64_t>(bytes.size()) != length)
    throw Error(fmt::format("{}: read {} bytes at {} where {} were asked (the object changed or was cut?)", name_,
                            bytes.size(), offset, length));
  fetched_ += length;
  if (static_cast<int>(blocks_.size()) >= max_blocks_) blocks_.pop_back();
  blocks_.push_front({index, std::move(bytes)});
  most_held_ = std::max(most_held_, static_cast<int>(blocks_.size()));
  hash_ready_blocks();
  return blocks_.front();
}

void RangeReader::hash_ready_blocks() {
  if (!hash_) return;
  for (bool found = true; found;) {
    found = false;
    for (const Block& b : blocks_) {
      if (b.index != hashed_blocks_) continue;
      if (EVP_DigestUpdate(hash_->ctx, b.bytes.data(), b.bytes.size()) != 1) throw Error("SHA-256: OpenSSL failed to hash");
      ++hashed_blocks_;
      found = true;
      break;
    }
  }
}

std::string RangeReader::finish_sha256() {
  if (!sha256_.empty()) return sha256_;  // a finished digest cannot be finished again
  if (!hash_) throw Error(name_ + ": this reader was made without a hash");
  const std::int64_t blocks = (size_ + block_size_ - 1) / block_size_;
  while (hashed_blocks_ < blocks) block(hashed_blocks_);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(hash_->ctx, md, &n) != 1) throw Error("SHA-256: OpenSSL failed to finish a digest");
  hashed_blocks_ = blocks + 1;  // finished: nothing more is hashed
  sha256_ = hex_lower({reinterpret_cast<const char*>(md), n});
  return sha256_;
}

int RangeReader::read_packet(std::uint8_t* buffer, int size) {
  if (position_ >= size_) return AVERROR_EOF;
  try {
    const Block& b = block(position_ / block_size_);
    const std::int64_t within = position_ - b.index * block_size_;
    const int n = static_cast<int>(std::min<std::int64_t>(size, static_cast<std::int64_t>(b.bytes.size()) - within));
    std::memcpy(buffer, b.bytes.data() + within, static_cast<std::size_t>(n));
    position_ += n;
    return n;
  } catch (const std::exception& e) {
    if (error_.empty()) error_ = e.what();  // FFmpeg sees an I/O error; the caller reports this
    return AVERROR(EIO);
  }
}

std::int64_t RangeReader::seek(std::int64_t offset, int whence) {
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return size_;
    case SEEK_SET: break;
    case SEEK_CUR: offset += position_; break;
    case SEEK_END: offset += size_; break;
    default: return AVERROR(EINVAL);
  }
  if (offset < 0) return AVERROR(EINVAL);
  position_ = offset;
  return position_;
}

}  // namespace roadveil::media
