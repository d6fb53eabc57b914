// kernels/reduce.h — deterministic reductions and their broadcasts.
//
// Determinism: results depend only on the sizes, never on thread timing (fixed-order blocked sums;
// no atomics), so the same run repeats bit for bit on the same device. CPU sums accumulate in double.
#pragma once

#include "kernels/common.h"

namespace sse {

namespace cpu {
// out[0] = Σ x[i]
void sum_all(const float* x, index_t n, float* out);
// out[r] = Σ_c x[r·cols + c]   (rows × cols row-major)
void sum_rows(const float* x, index_t rows, index_t cols, float* out);
// y[r·cols + c] = v[r]  (alpha-scaled: y = alpha·v[r])
void broadcast_rows(const float* v, index_t rows, index_t cols, float alpha, float* y);
// For x viewed as (outer, mid, inner): out[m] = Σ_{o,i} x[(o·mid + m)·inner + i]
// (e.g. a per-channel sum over batch and voxels of an NCDHW tensor).
void sum_mid(const float* x, index_t outer, index_t mid, index_t inner, float* out);
}  // namespace cpu

namespace cuda {
void sum_all(const float* x, index_t n, float* out, cudaStream_t s);
void sum_rows(const float* x, index_t rows, index_t cols, float* out, cudaStream_t s);
void broadcast_rows(const float* v, index_t rows, index_t cols, float alpha, float* y, cudaStream_t s);
void sum_mid(const float* x, index_t outer, index_t mid, index_t inner, float* out, cudaStream_t s);
}  // namespace cuda

}  // namespace sse
