#pragma once
// The review page (src/review/web), compiled into the binary by cmake/embed_web.cmake.
#include <string_view>
#include <vector>

namespace roadveil::review {

struct WebAsset {
  std::string_view path;  // "/index.html"
  std::string_view mime;
  std::string_view body;
};

const std::vector<WebAsset>& web_assets();

}  // namespace roadveil::review
