#pragma once
// SHA-256 of a string or a file (model checksums, audit records), computed by OpenSSL's EVP interface.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace roadveil {

// A digest fed in pieces (a file's packets as they are read).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::string hex();  // finishes the digest

 private:
  struct Free {
    void operator()(evp_md_ctx_st* c) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

std::string sha256_hex(std::string_view data);
std::string hex_lower(std::string_view bytes);  // two lower-case hex digits per byte
std::string sha256_file_hex(const std::filesystem::path& path);  // throws Error when unreadable

}  // namespace roadveil
