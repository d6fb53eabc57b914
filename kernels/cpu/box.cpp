#include "kernels/box.h"

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

void box_copy(const BoxCopy& b, const float* src, float* dst) {
  const index_t rows = b.planes * b.dd * b.dh;
#pragma omp parallel for if (rows * b.dw > kParallelGrain)
  for (index_t r = 0; r < rows; ++r) {
    const index_t y = r % b.dh, z = (r / b.dh) % b.dd, p = r / (b.dh * b.dd);
    const index_t sz = z + b.oz, sy = y + b.oy;
    float* out = dst + r * b.dw;
    const bool row_in = sz >= 0 && sz < b.sd && sy >= 0 && sy < b.sh;
    const float* in = row_in ? src + ((p * b.sd + sz) * b.sh + sy) * b.sw : nullptr;
    for (index_t x = 0; x < b.dw; ++x) {
      const index_t sx = x + b.ox;
      out[x] = (row_in && sx >= 0 && sx < b.sw) ? in[sx] : 0.0f;
    }
  }
}

}  // namespace sse::cpu
