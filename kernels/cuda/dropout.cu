// kernels/cuda/dropout.cu — inverted dropout on the GPU (see kernels/dropout.h).
//
// The keep decision is dropout_keep(seed, offset, i, p) from kernels/philox.h, the same SSE_HD
// function the CPU calls, so both devices drop exactly the same elements; backward recomputes it.
#include "kernels/cuda/pointwise.cuh"
#include "kernels/dropout.h"

namespace sse::cuda {
namespace {

struct MaskedScaleF {
  DropoutParams d;
  float scale;
  __device__ float operator()(index_t i, float x, float) const {
    return dropout_keep(d.seed, d.offset, static_cast<std::uint64_t>(i), d.p) ? x * scale : 0.0f;
  }
};

template <class T> void masked_scale(const DropoutParams& d, const T* in, T* out, index_t n, cudaStream_t st) {
  run_map(Map<1, MaskedScaleF, T, T>{in, nullptr, out, n, {d, 1.0f / (1.0f - d.p)}}, st);
}

}  // namespace

void dropout_forward(const DropoutParams& d, const float* x, float* y, index_t n, cudaStream_t st) {
  masked_scale(d, x, y, n, st);
}
void dropout_forward(const DropoutParams& d, const bf16_t* x, bf16_t* y, index_t n, cudaStream_t st) {
  masked_scale(d, x, y, n, st);
}
void dropout_backward(const DropoutParams& d, const float* dy, float* dx, index_t n, cudaStream_t st) {
  masked_scale(d, dy, dx, n, st);
}

}  // namespace sse::cuda
