#pragma once
// Reading a JSON file the command under test wrote (a report, a record, a regions file).
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace roadveil::testing {

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

}  // namespace roadveil::testing
