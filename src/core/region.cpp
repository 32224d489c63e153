#include "core/region.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

#include "core/error.hpp"

namespace roadveil {
namespace {
// Written once each, under the mutex, before the count that publishes them: readers need no lock.
struct ClassTable {
  std::mutex mutex;
  std::array<std::string, kMaxObjectClasses> names{"face", "plate"};
  std::atomic<int> count{kBuiltinObjectClasses};
};
ClassTable& class_table() {
  static ClassTable table;
  return table;
}
bool valid_class_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}
constexpr std::array<std::string_view, 7> kSourceNames = {"detector", "interpolated", "extended", "backward",
                                                          "context",  "manual",       "head"};
}  // namespace

int object_class_count() { return class_table().count.load(std::memory_order_acquire); }

std::vector<ObjectClass> object_classes() {
  std::vector<ObjectClass> out;
  for (int c = 0, n = object_class_count(); c < n; ++c) out.push_back(static_cast<ObjectClass>(c));
  return out;
}

std::string_view to_string(ObjectClass c) {
  const int i = static_cast<int>(c);
  return i < object_class_count() ? std::string_view(class_table().names[i]) : std::string_view("unknown");
}

std::optional<ObjectClass> object_class_from_string(std::string_view name) {
  const ClassTable& t = class_table();
  for (int i = 0, n = object_class_count(); i < n; ++i)
    if (t.names[i] == name) return static_cast<ObjectClass>(i);
  return std::nullopt;
}

ObjectClass intern_object_class(std::string_view name) {
  if (const auto known = object_class_from_string(name)) return *known;
  if (!valid_class_name(name))
    throw Error("class name '" + std::string(name) +
                "': use 1-32 characters of a-z, 0-9, '-' and '_', starting with a letter");
  ClassTable& t = class_table();
  std::lock_guard lock(t.mutex);
  const int n = t.count.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i)
    if (t.names[i] == name) return static_cast<ObjectClass>(i);  // added by another thread meanwhile
  if (n >= kMaxObjectClasses)
    throw Error("class '" + std::string(name) + "': at most " + std::to_string(kMaxObjectClasses) +
                " classes (face, plate and " + std::to_string(kMaxObjectClasses - kBuiltinObjectClasses) + " of your own)");
  t.names[n] = std::string(name);
  t.count.store(n + 1, std::memory_order_release);
  return static_cast<ObjectClass>(n);
}

bool is_builtin(ObjectClass c) { return static_cast<int>(c) < kBuiltinObjectClasses; }

std::string counts_in_words(const ClassCounts& counts, std::string_view noun) {
  std::vector<std::string> parts;
  for (int c = 0, n = object_class_count(); c < n; ++c)
    if (c < kBuiltinObjectClasses || counts[c] > 0)
      parts.push_back(std::to_string(counts[c]) + " " + std::string(to_string(static_cast<ObjectClass>(c))));
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out + " " + std::string(noun);
}

std::string_view to_string(RegionSource s) { return kSourceNames[static_cast<int>(s)]; }

std::optional<RegionSource> region_source_from_string(std::string_view name) {
  for (size_t i = 0; i < kSourceNames.size(); ++i)
    if (kSourceNames[i] == name) return static_cast<RegionSource>(i);
  return std::nullopt;
}

}  // namespace roadveil
