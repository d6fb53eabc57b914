#include "engine/random.h"

#include <cmath>
#include <vector>

#include "kernels/philox.h"

namespace sse {

void fill_normal(Tensor& t, float mean, float std, Generator& g) {
  check_dtype("fill_normal", t, DType::F32);
  const std::uint64_t off = g.next_offset();
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); i += 2) {
    // Box–Muller on a pair of uniforms; u1 is moved into (0, 1] so log() stays finite.
    const double u1 = 1.0 - philox_uniform(g.seed, off, i);
    const double u2 = philox_uniform(g.seed, off, i + 1);
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
    v[i] = static_cast<float>(mean + std * r * std::cos(a));
    if (i + 1 < v.size()) v[i + 1] = static_cast<float>(mean + std * r * std::sin(a));
  }
  t.copy_(Tensor::from_vector(v, t.shape()));
}

void fill_uniform(Tensor& t, float lo, float hi, Generator& g) {
  check_dtype("fill_uniform", t, DType::F32);
  const std::uint64_t off = g.next_offset();
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = lo + (hi - lo) * philox_uniform(g.seed, off, i);
  t.copy_(Tensor::from_vector(v, t.shape()));
}

std::uint64_t random_index(Generator& g, std::uint64_t n) {
  if (n == 0) throw EngineError("random_index: empty range");
  const std::uint64_t off = g.next_offset();
  const std::uint64_t r = (static_cast<std::uint64_t>(philox_word(g.seed, off, 0)) << 32) | philox_word(g.seed, off, 1);
  return r % n;
}

}  // namespace sse
