// tests/support/fixture.h — reads the named-tensor fixtures written by tests/reference/fixture_io.py
// (PyTorch-generated reference values; format documented there).
#pragma once

#include <map>
#include <string>

#include "engine/tensor.h"

namespace sse::test {

// All tensors of a fixture file by name (CPU tensors, float32 or int32). Throws on a bad file.
std::map<std::string, Tensor> read_fixture(const std::string& path);
// The path of a committed test data file: SSE_TEST_DATA_DIR/<relative>.
std::string data_path(const std::string& relative);

}  // namespace sse::test
