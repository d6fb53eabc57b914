// kernels/philox.h — Philox-4x32-10 counter-based RNG (Salmon et al., SC'11), shared by CPU and CUDA
// so both devices draw the same numbers for the same (seed, counter).
//
// Stream layout used across the project: element i of a draw with (seed, offset) takes word i % 4
// of philox(counter = {i/4 low, i/4 high, offset low, offset high}, key = seed). A Generator
// (engine/random.h) advances `offset` by one per draw so successive draws never overlap.
#pragma once

#include <cmath>

#include "kernels/common.h"

namespace sse {

struct PhiloxOut {
  std::uint32_t v[4];
};

SSE_HD inline std::uint32_t philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t* hi) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  *hi = static_cast<std::uint32_t>(p >> 32);
  return static_cast<std::uint32_t>(p);
}

SSE_HD inline PhiloxOut philox4x32_10(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                      std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    std::uint32_t hi0, hi1;
    const std::uint32_t lo0 = philox_mulhilo(kM0, c0, &hi0);
    const std::uint32_t lo1 = philox_mulhilo(kM1, c2, &hi1);
    const std::uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 += kW0; k1 += kW1;
  }
  return PhiloxOut{{c0, c1, c2, c3}};
}

// The 32-bit word for element i of the draw (seed, offset).
SSE_HD inline std::uint32_t philox_word(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
  const std::uint64_t block = i >> 2;
  const PhiloxOut o = philox4x32_10(static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                                    static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(offset >> 32),
                                    static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  return o.v[i & 3];
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float on both devices).
SSE_HD inline float philox_uniform(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
  return static_cast<float>(philox_word(seed, offset, i) >> 8) * (1.0f / 16777216.0f);
}

// Dropout decision for element i: kept with probability 1 - p.
SSE_HD inline bool dropout_keep(std::uint64_t seed, std::uint64_t offset, std::uint64_t i, float p) {
  return philox_uniform(seed, offset, i) >= p;
}

}  // namespace sse
