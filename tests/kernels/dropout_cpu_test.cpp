// The CPU dropout kernel (blocked Philox, AVX2 lanes where available) against its definition,
// dropout_keep(seed, offset, i, p) per element (kernels/philox.h), at sizes around every block
// boundary (4 elements per Philox call, 32 per AVX2 group, 4096 per unit of parallel work).
#include <gtest/gtest.h>

#include <vector>

#include "kernels/dropout.h"

namespace sse {
namespace {

TEST(DropoutCpu, MatchesPerElementDefinition) {
  for (const index_t n : {index_t{1}, index_t{3}, index_t{31}, index_t{32}, index_t{33}, index_t{100}, index_t{4096 + 37},
                          index_t{3 * 4096 + 4095}, index_t{70001}}) {
    for (const DropoutParams d : {DropoutParams{0.5f, 1234, 7}, DropoutParams{0.1f, 0xFEDCBA9876543210ull, 0x1234567890ull},
                                  DropoutParams{0.9f, 0, 0}}) {
      std::vector<float> x(static_cast<std::size_t>(n)), y(x.size()), dx(x.size());
      for (index_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = 0.25f + static_cast<float>(i % 97);
      cpu::dropout_forward(d, x.data(), y.data(), n);
      cpu::dropout_backward(d, x.data(), dx.data(), n);
      const float scale = 1.0f / (1.0f - d.p);
      index_t bad = 0;
      for (index_t i = 0; i < n; ++i) {
        const std::size_t k = static_cast<std::size_t>(i);
        const float want = dropout_keep(d.seed, d.offset, static_cast<std::uint64_t>(i), d.p) ? x[k] * scale : 0.0f;
        bad += y[k] != want || dx[k] != want;
      }
      EXPECT_EQ(bad, 0) << "n=" << n << " p=" << d.p << " seed=" << d.seed << " offset=" << d.offset;
    }
  }
}

}  // namespace
}  // namespace sse
