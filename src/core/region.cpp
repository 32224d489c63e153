#include "core/region.hpp"

#include <array>

namespace roadveil {
namespace {
constexpr std::array<std::string_view, 2> kClassNames = {"face", "plate"};
constexpr std::array<std::string_view, 7> kSourceNames = {"detector", "interpolated", "extended", "backward",
                                                          "context",  "manual",       "head"};
}  // namespace

std::string_view to_string(ObjectClass c) { return kClassNames[static_cast<int>(c)]; }

std::optional<ObjectClass> object_class_from_string(std::string_view name) {
  for (size_t i = 0; i < kClassNames.size(); ++i)
    if (kClassNames[i] == name) return static_cast<ObjectClass>(i);
  return std::nullopt;
}

std::string_view to_string(RegionSource s) { return kSourceNames[static_cast<int>(s)]; }

std::optional<RegionSource> region_source_from_string(std::string_view name) {
  for (size_t i = 0; i < kSourceNames.size(); ++i)
    if (kSourceNames[i] == name) return static_cast<RegionSource>(i);
  return std::nullopt;
}

}  // namespace roadveil
