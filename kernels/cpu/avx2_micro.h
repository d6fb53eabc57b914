// kernels/cpu/avx2_micro.h — AVX2+FMA micro-kernels shared by kernels/cpu/conv3d_avx2.cpp and
// kernels/cpu/gemm_avx2.cpp. Internal linkage (each including file gets its own copy, compiled for
// AVX2 through the target pragma), so no AVX2 code can leak into a generic inline function. Include
// it after every other header.
#pragma once

#include <immintrin.h>

#include "kernels/common.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace sse::cpu::avx2 {
namespace {

// Dot products of MR rows of P with 3 rows of Q over nvec·8 columns, added to part[m][j][8] (eight
// partial sums each, 32-byte aligned; the caller reduces them): rows of P at p + m·ldp, rows of Q at
// q + j·qs. qs = 1 makes the Q rows one row shifted by 0, 1, 2 (the kx taps of a 3³ weight
// gradient); qs = ldq makes them three rows of a matrix (a GEMM C += P·Qᵀ). Per 8 columns: 3 loads
// of Q, MR loads of P, 3·MR FMAs (MR = 4: 12 accumulators).
template <int MR>
__attribute__((noinline)) void micro_dot(const float* __restrict p, index_t ldp, const float* __restrict q, index_t qs,
                                         index_t nvec, float* __restrict part) {
  __m256 acc[MR][3];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j) acc[m][j] = _mm256_setzero_ps();
  for (index_t i = 0; i < nvec; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(q + 8 * i + 64), _MM_HINT_T0);
    const __m256 q0 = _mm256_loadu_ps(q + 8 * i), q1 = _mm256_loadu_ps(q + qs + 8 * i),
                 q2 = _mm256_loadu_ps(q + 2 * qs + 8 * i);
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) {
      const __m256 d = _mm256_loadu_ps(p + m * ldp + 8 * i);
      acc[m][0] = _mm256_fmadd_ps(d, q0, acc[m][0]);
      acc[m][1] = _mm256_fmadd_ps(d, q1, acc[m][1]);
      acc[m][2] = _mm256_fmadd_ps(d, q2, acc[m][2]);
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j)
      _mm256_store_ps(part + (m * 3 + j) * 8, _mm256_add_ps(_mm256_load_ps(part + (m * 3 + j) * 8), acc[m][j]));
}

// A C tile of MR rows × 24 floats (3 ymm each) at c + m·ldc, the accumulators of the intrinsic
// micro-kernels (MR < 4; MR = 4 is assembly, kernels/cpu/avx2_asm.h): loaded when accumulating, else
// zero; one rank-1 update (a broadcast A value per row against 3 B vectors); the store.
template <int MR>
__attribute__((always_inline)) inline void tile_load(__m256 (&acc)[MR][3], const float* c, index_t ldc,
                                                     bool accumulate) {
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j) acc[m][j] = accumulate ? _mm256_loadu_ps(c + m * ldc + 8 * j) : _mm256_setzero_ps();
}

template <int MR>
__attribute__((always_inline)) inline void tile_fma(__m256 (&acc)[MR][3], const float* a, __m256 b0, __m256 b1,
                                                    __m256 b2) {
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    const __m256 av = _mm256_broadcast_ss(a + m);
    acc[m][0] = _mm256_fmadd_ps(av, b0, acc[m][0]);
    acc[m][1] = _mm256_fmadd_ps(av, b1, acc[m][1]);
    acc[m][2] = _mm256_fmadd_ps(av, b2, acc[m][2]);
  }
}

template <int MR>
__attribute__((always_inline)) inline void tile_store(const __m256 (&acc)[MR][3], float* c, index_t ldc) {
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j) _mm256_storeu_ps(c + m * ldc + 8 * j, acc[m][j]);
}

// The sum of the eight floats at v (32-byte aligned).
inline float hsum8(const float* v) {
  __m128 h = _mm_add_ps(_mm_load_ps(v), _mm_load_ps(v + 4));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

}  // namespace
}  // namespace sse::cpu::avx2

#pragma GCC pop_options
