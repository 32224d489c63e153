#include "core/temporary_path.hpp"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <mutex>
#include <set>

#include "core/interrupt_cleanup.hpp"

namespace roadveil {

namespace {
constexpr std::string_view kMark = ".roadveil-", kSuffix = ".part";
}  // namespace

const std::string& temporary_host_name() {
  static const std::string name = [] {
    char buffer[HOST_NAME_MAX + 1] = {};
    std::string host = ::gethostname(buffer, sizeof buffer - 1) == 0 ? buffer : "";
    for (char& c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return host.empty() ? std::string("host") : host;
  }();
  return name;
}

std::filesystem::path temporary_path_for(const std::filesystem::path& target) {
  constexpr std::size_t kNameMax = 255;
  const std::string suffix = std::string(kMark) + temporary_host_name() + "-" + std::to_string(::getpid()) + std::string(kSuffix);
  std::string name = target.filename().string();
  if (1 + name.size() + suffix.size() > kNameMax) name.resize(kNameMax - 1 - std::min(suffix.size(), kNameMax - 1));
  const std::filesystem::path folder = target.parent_path();
  {
    static std::mutex mutex;
    static std::set<std::filesystem::path> swept;
    std::lock_guard lock(mutex);
    if (swept.insert(folder.empty() ? "." : folder).second) remove_stale_temporaries(folder.empty() ? "." : folder);
  }
  auto temporary = folder / ("." + name + suffix);
  remove_on_interrupt(temporary);
  return temporary;
}

std::optional<pid_t> temporary_name_pid(const std::string& file_name, const std::string& host) {
  const std::string tail = std::string(kMark) + host + "-";
  if (file_name.empty() || file_name[0] != '.' || file_name.size() < tail.size() + kSuffix.size() + 2 ||
      !file_name.ends_with(kSuffix))
    return std::nullopt;
  const std::size_t at = file_name.rfind(tail);
  if (at == std::string::npos || at == 0) return std::nullopt;
  const char* first = file_name.data() + at + tail.size();
  const char* last = file_name.data() + file_name.size() - kSuffix.size();
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(first, last, pid);
  if (ec != std::errc() || end != last || pid <= 0) return std::nullopt;
  return pid;
}

int remove_stale_temporaries(const std::filesystem::path& folder) {
  int removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const auto pid = temporary_name_pid(it->path().filename().string());
    if (!pid || *pid == ::getpid()) continue;
    // Still running (or the id taken by another process): keep. EPERM is a live process of another user.
    if (::kill(*pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code removing;
    if (it->is_regular_file(removing) && std::filesystem::remove(it->path(), removing)) ++removed;
  }
  return removed;
}

}  // namespace roadveil
