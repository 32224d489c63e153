#pragma once
// Integers read from JSON files a user hands us (regions files, verify reports, review journals, eval reports).
//
// nlohmann's get<int>() and value("key", 0) cast whatever number the file holds: a float such as 1e126 goes
// straight to int, which is undefined behaviour (UBSan, fuzz_regions_file), and 4294967301 wraps to 5. These
// take an integer, or a float with no fraction ("width": 1280.0, as some writers print), and otherwise throw
// nlohmann's own exceptions, so the readers' existing `catch (const json::exception&)` names the file.

#include <array>
#include <cmath>
#include <concepts>
#include <limits>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace roadveil {

template <std::integral T>
T json_integer(const nlohmann::json& v) {
  using json = nlohmann::json;
  auto out_of_range = [&] {
    return json::out_of_range::create(406, "number " + v.dump() + " is not an integer from " +
                                               std::to_string(std::numeric_limits<T>::min()) + " to " +
                                               std::to_string(std::numeric_limits<T>::max()),
                                      &v);
  };
  if (v.is_number_unsigned()) {
    const auto u = v.get<json::number_unsigned_t>();
    if (!std::in_range<T>(u)) throw out_of_range();
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    const auto i = v.get<json::number_integer_t>();
    if (!std::in_range<T>(i)) throw out_of_range();
    return static_cast<T>(i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // min() is 0 or -2^(n-1) and max() + 1 is 2^n or 2^(n-1): both exact as doubles.
    const double lo = static_cast<double>(std::numeric_limits<T>::min());
    const double hi = static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
    if (!(d >= lo && d < hi) || d != std::trunc(d)) throw out_of_range();  // also NaN
    return static_cast<T>(d);
  }
  throw json::type_error::create(302, std::string("type must be an integer, but is ") + v.type_name(), &v);
}

// object[key] as json_integer, or `fallback` where the object has no such key (or it is null).
template <std::integral T>
T json_integer(const nlohmann::json& object, const char* key, T fallback) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return json_integer<T>(*it);
}

// An array of exactly N integers, each as json_integer.
template <std::integral T, std::size_t N>
std::array<T, N> json_integers(const nlohmann::json& v) {
  if (!v.is_array() || v.size() != N)
    throw nlohmann::json::type_error::create(302, "must be an array of " + std::to_string(N) + " integers, but is " + v.dump(), &v);
  std::array<T, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = json_integer<T>(v[i]);
  return out;
}

}  // namespace roadveil
