// kernels/elementwise.h — pointwise maps over n contiguous floats, CPU and CUDA.
//
// The op tables below are the single definition of each op's math (SSE_HD), used by both devices.
// In-place use (y == x or y == a) is allowed everywhere.
//
// cast converts the storage of DType::BF16 tensors (activations under --precision bf16): float →
// bfloat16 rounds to nearest even (bf16_bits, kernels/low_precision.h), bfloat16 → float is exact.
#pragma once

#include <cmath>

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

enum class Unary : int { Neg, Exp, Log, Scale, AddScalar, Pow, Relu, Square, Recip };
enum class Binary : int { Add, Sub, Mul, Div, ReluGrad /* a=dy, b=y: dy·[y>0] */, Max };

SSE_HD inline float apply_unary(Unary op, float x, float alpha) {
  switch (op) {
    case Unary::Neg: return -x;
    case Unary::Exp: return expf(x);
    case Unary::Log: return logf(x);
    case Unary::Scale: return alpha * x;
    case Unary::AddScalar: return x + alpha;
    case Unary::Pow: return powf(x, alpha);
    case Unary::Relu: return x > 0.0f ? x : 0.0f;
    case Unary::Square: return x * x;
    case Unary::Recip: return 1.0f / x;
  }
  return 0.0f;
}

SSE_HD inline float apply_binary(Binary op, float a, float b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::ReluGrad: return b > 0.0f ? a : 0.0f;
    case Binary::Max: return a > b ? a : b;
  }
  return 0.0f;
}

namespace cpu {
void fill(float* y, index_t n, float v);
void unary(Unary op, const float* x, float* y, index_t n, float alpha);
void binary(Binary op, const float* a, const float* b, float* y, index_t n);
// y = alpha·x + beta·y
void axpby(float alpha, const float* x, float beta, float* y, index_t n);
void cast(const float* x, bf16_t* y, index_t n);
void cast(const bf16_t* x, float* y, index_t n);
}  // namespace cpu

namespace cuda {
void fill(float* y, index_t n, float v, cudaStream_t s);
void unary(Unary op, const float* x, float* y, index_t n, float alpha, cudaStream_t s);
void binary(Binary op, const float* a, const float* b, float* y, index_t n, cudaStream_t s);
void axpby(float alpha, const float* x, float beta, float* y, index_t n, cudaStream_t s);
void cast(const float* x, bf16_t* y, index_t n, cudaStream_t s);
void cast(const bf16_t* x, float* y, index_t n, cudaStream_t s);
}  // namespace cuda

}  // namespace sse
