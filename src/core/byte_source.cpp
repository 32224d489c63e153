#include "core/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace roadveil {

FileByteSource::FileByteSource(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(path.string() + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(path.string() + ": cannot read its size (" + std::strerror(e) + ")");
  }
  size_ = st.st_size;
}

FileByteSource::~FileByteSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FileByteSource::read(std::int64_t offset, std::int64_t length) {
  std::string bytes;
  if (offset < 0 || length <= 0 || offset >= size_) return bytes;
  bytes.resize(static_cast<std::size_t>(std::min(length, size_ - offset)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path_.string() + ": reading failed (" + std::strerror(errno) + ")");
    if (n == 0) break;  // the file shrank
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace roadveil
