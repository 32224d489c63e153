#pragma once
// SHA-256 of a file, to verify model files against their published checksums without pulling in a crypto
// library for one function.
#include <filesystem>
#include <string>
#include <string_view>

namespace roadveil {

std::string sha256_hex(std::string_view data);
std::string sha256_file_hex(const std::filesystem::path& path);  // throws Error when unreadable

}  // namespace roadveil
