#include "core/memory_limit.hpp"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace roadveil {

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

bool lists_memory(std::string_view controllers) {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == "memory") return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::uint64_t> parse_cgroup_memory_value(std::string_view text) {
  text = trimmed(text);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;  // "max", junk
  // cgroup v1 writes its "unlimited" as the largest page-aligned signed 64-bit number.
  if (value >= (std::uint64_t{1} << 62)) return std::nullopt;
  return value;
}

MemoryLimit cgroup_memory_limit(std::string_view proc_self_cgroup, const std::filesystem::path& cgroup_root) {
  MemoryLimit tightest;
  std::istringstream lines{std::string(proc_self_cgroup)};
  for (std::string line; std::getline(lines, line);) {
    // "hierarchy-ID:controllers:path"; cgroup v2's single hierarchy has ID 0 and no controllers.
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string_view controllers = std::string_view(line).substr(first + 1, second - first - 1);
    const bool v2 = controllers.empty() && line.compare(0, first, "0") == 0;
    if (!v2 && !lists_memory(controllers)) continue;
    const std::filesystem::path mount = v2 ? cgroup_root : cgroup_root / "memory";
    const char* file = v2 ? "memory.max" : "memory.limit_in_bytes";
    // From the process's own group up to the mount's root: a limit on any group above it applies too. In a
    // container the path can be the host's, which the container's mount does not have: its root is the
    // container's own group, and the walk reaches it.
    std::filesystem::path group = std::filesystem::path(line.substr(second + 1)).relative_path();
    for (;;) {
      const auto value = parse_cgroup_memory_value(first_line(mount / group / file));
      if (value && (tightest.bytes == 0 || *value < tightest.bytes)) {
        tightest.bytes = *value;
        // The file read, not the group's name: in a container without its own cgroup namespace the group
        // /proc names (/docker/ID) is the mount's root, and a path says which it was.
        tightest.source = "the control group's limit, " + (mount / group / file).lexically_normal().string();
      }
      if (group.empty()) break;
      group = group.parent_path();
    }
  }
  return tightest;
}

MemoryLimit process_memory_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  MemoryLimit limit = cgroup_memory_limit(text.str(), "/sys/fs/cgroup");
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const std::uint64_t machine = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
  if (machine > 0 && (limit.bytes == 0 || machine < limit.bytes)) limit = {machine, "the machine's memory"};
  return limit;
}

std::uint64_t parse_memory_size(std::string_view text) {
  const std::string_view s = trimmed(text);
  if (s == "none") return 0;
  const auto bad = [&] {
    return Error(fmt::format("memory size '{}': expected none or a number with K, M, G or T (binary units: 1.5G, 800M)", text));
  };
  std::size_t digits = 0;
  while (digits < s.size() && (std::isdigit(static_cast<unsigned char>(s[digits])) || s[digits] == '.')) ++digits;
  if (digits == 0) throw bad();
  double number = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + digits, number);
  if (ec != std::errc() || end != s.data() + digits || !(number > 0)) throw bad();
  std::string unit;
  for (char c : trimmed(s.substr(digits))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() == 3 && unit.substr(1) == "IB") unit.resize(1);                      // MiB
  else if (unit.size() == 2 && (unit.back() == 'B' || unit.back() == 'I')) unit.pop_back();  // MB, Mi (Kubernetes)
  static constexpr std::string_view kUnits = "KMGT";
  double scale = 1;
  if (unit.size() == 1 && kUnits.find(unit[0]) != std::string_view::npos)
    scale = std::pow(1024.0, static_cast<double>(kUnits.find(unit[0]) + 1));
  else if (!unit.empty() && unit != "B")
    throw bad();
  const double bytes = number * scale;
  if (bytes > 1e18) throw bad();
  // No run fits in less; a bare "4096" meant as megabytes would decode every video twice and warn.
  if (bytes < 64.0 * 1024 * 1024)
    throw Error(fmt::format("memory size '{}': under 64 MiB, too little for any run (a size without a unit is in bytes: "
                            "write 800M, 2G)", text));
  return static_cast<std::uint64_t>(bytes);
}

std::string format_memory(std::uint64_t bytes) {
  constexpr double kMiB = 1024.0 * 1024.0;
  if (bytes >= (std::uint64_t{1} << 30)) return fmt::format("{:.1f} GB", static_cast<double>(bytes) / (1024 * kMiB));
  return fmt::format("{:.0f} MB", static_cast<double>(bytes) / kMiB);
}

}  // namespace roadveil
