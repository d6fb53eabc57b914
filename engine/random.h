// engine/random.h — the engine's random stream: Philox-4x32-10 keyed by a seed, with an offset that
// advances once per draw, so every draw (an init, a dropout mask) is reproducible from (seed, offset)
// on any device, and a checkpoint that stores the Generator resumes the exact same stream.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace sse {

struct Generator {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
  explicit Generator(std::uint64_t s = 0) : seed(s) {}
  std::uint64_t next_offset() { return offset++; }
};

// Fills a float tensor (any device) with N(mean, std²) by Box–Muller on Philox uniforms.
void fill_normal(Tensor& t, float mean, float std, Generator& g);
// Fills a float tensor with U[lo, hi).
void fill_uniform(Tensor& t, float lo, float hi, Generator& g);
// A uniform integer in [0, n) (shuffles, augmentation choices).
std::uint64_t random_index(Generator& g, std::uint64_t n);

}  // namespace sse
