// kernels/cuda/elementwise.cu — fill, unary, binary, axpby and cast on the GPU (see kernels/elementwise.h).
//
// Each op is a functor over the shared SSE_HD math (apply_unary / apply_binary) handed to the one
// vectorized grid-stride map of pointwise.cuh, so CPU and GPU compute the same expression.
#include "kernels/cuda/pointwise.cuh"
#include "kernels/elementwise.h"

namespace sse::cuda {
namespace {

struct FillF {
  float v;
  __device__ float operator()(index_t, float, float) const { return v; }
};
struct UnaryF {
  Unary op;
  float alpha;
  __device__ float operator()(index_t, float x, float) const { return apply_unary(op, x, alpha); }
};
struct BinaryF {
  Binary op;
  __device__ float operator()(index_t, float a, float b) const { return apply_binary(op, a, b); }
};
struct CopyF {  // the conversion is the map's: to_f32 on load, from_f32 on store
  __device__ float operator()(index_t, float x, float) const { return x; }
};
struct AxpbyF {  // a = x, b = y (the output's old value)
  float alpha, beta;
  __device__ float operator()(index_t, float x, float y) const { return alpha * x + beta * y; }
};

}  // namespace

void fill(float* y, index_t n, float v, cudaStream_t s) { run_map(Map<0, FillF>{nullptr, nullptr, y, n, {v}}, s); }

void unary(Unary op, const float* x, float* y, index_t n, float alpha, cudaStream_t s) {
  run_map(Map<1, UnaryF>{x, nullptr, y, n, {op, alpha}}, s);
}

void binary(Binary op, const float* a, const float* b, float* y, index_t n, cudaStream_t s) {
  run_map(Map<2, BinaryF>{a, b, y, n, {op}}, s);
}

void axpby(float alpha, const float* x, float beta, float* y, index_t n, cudaStream_t s) {
  run_map(Map<2, AxpbyF>{x, y, y, n, {alpha, beta}}, s);
}

void cast(const float* x, bf16_t* y, index_t n, cudaStream_t s) {
  run_map(Map<1, CopyF, float, bf16_t>{x, nullptr, y, n, {}}, s);
}

void cast(const bf16_t* x, float* y, index_t n, cudaStream_t s) {
  run_map(Map<1, CopyF, bf16_t, float>{x, nullptr, y, n, {}}, s);
}

}  // namespace sse::cuda
