// tests/kernels/cuda_test_util.h — helpers shared by the CUDA-vs-CPU kernel tests (cuda_*_test.cpp):
// random host data and bit-exact comparison. Device buffers and the skip rule live in
// tests/support/cuda_buffers.h.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/support/test_util.h"

namespace sse::test {

// n floats uniform in [lo, hi), the same on every run for a seed.
inline std::vector<float> rnd(index_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  if (n == 0) return {};
  return uniform(Shape{n}, seed, lo, hi).to_vector<float>();
}

// Equal as bit patterns (so NaN == NaN of the same payload, and −0 ≠ +0): for copies, masks, pooling,
// and for "the same run twice" determinism checks.
template <typename T>
::testing::AssertionResult bit_equal(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0)
      return ::testing::AssertionFailure() << "first difference at index " << i << ": " << a[i] << " vs " << b[i];
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sse::test
