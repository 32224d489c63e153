#pragma once
// One exception type for every user-facing failure: its message is printed as is, so it must name the file
// and say what is wrong in words a user understands.
#include <stdexcept>
#include <string>

namespace roadveil {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace roadveil
