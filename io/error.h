// io/error.h — the one exception type of the io/ layer.
//
// Contract: every failure caused by input data (unreadable or malformed files, a chain id that is
// not in the model, a model that does not overlap its map, NaNs in a map, ...) throws IoError.
// Its message names the file (or manifest row) and the problem, so a user can act on it without
// a debugger. Programming errors (bad arguments from calling code) throw std::invalid_argument.
#pragma once

#include <stdexcept>
#include <string>

namespace sse::io {

class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<file>: <problem>" — the single place that decides how file errors read.
inline IoError file_error(const std::string& path, const std::string& problem) {
  return IoError(path + ": " + problem);
}

}  // namespace sse::io
