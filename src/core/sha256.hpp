#pragma once
// SHA-256 of a string or a file (model checksums, audit records), computed by OpenSSL's EVP interface.
#include <filesystem>
#include <string>
#include <string_view>

namespace roadveil {

std::string sha256_hex(std::string_view data);
std::string hex_lower(std::string_view bytes);  // two lower-case hex digits per byte
std::string sha256_file_hex(const std::filesystem::path& path);  // throws Error when unreadable

}  // namespace roadveil
