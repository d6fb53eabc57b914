// kernels/cpu/gemm_avx2.h — GEMM-shaped CPU kernels with AVX2+FMA micro-kernels
// (kernels/cpu/gemm_avx2.cpp): the 1×1×1 convolution, the k2 s2 transposed convolution and the
// GEMMs behind them. Used by kernels/cpu/conv3d.cpp and kernels/cpu/conv_transpose3d.cpp on CPUs
// with AVX2 and FMA (avx2::supported()), with the contracts of kernels/conv3d.h and
// kernels/conv_transpose3d.h. Row-major matrices throughout.
#pragma once

#include <vector>

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"

namespace sse::cpu::avx2 {

// A (m × k) packed for gemm_packed: [⌈m/4⌉ groups of 4 rows][k][4], zero rows past m.
// a(i, p) = trans ? a[p·lda + i] : a[i·lda + p].
std::vector<float> pack_a(index_t m, index_t k, const float* a, index_t lda, bool trans);

// C (m × n, ldc) = A · B, or C += A · B with accumulate; A packed by pack_a, B (k × n, ldb).
// One thread; callers split n.
void gemm_packed(index_t m, index_t n, index_t k, const float* apack, const float* b, index_t ldb, float* c,
                 index_t ldc, bool accumulate);

// One register-blocked micro-tile of gemm_packed: c (mr × 24, ldc) = Σ_{p < kc} a[p][4] · b[p·ldb + j]
// (+= with accumulate), mr = 1..4, A packed in a group of 4 rows as pack_a makes it.
void gemm_micro(int mr, const float* a, const float* b, index_t ldb, index_t kc, float* c, index_t ldc, bool accumulate);

// C (m × n, ldc) = P · Qᵀ, or C += P · Qᵀ with accumulate: P (m × l, ldp), Q (n × l, ldq), summed over
// l. OpenMP over (4-row, 3-column) tiles of C; each element summed by one thread in a fixed order.
void gemm_nt(index_t m, index_t n, index_t l, const float* p, index_t ldp, const float* q, index_t ldq, float* c,
             index_t ldc, bool accumulate);

// The 1×1×1 convolution (s.k == 1).
void conv1_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y);
void conv1_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx);
void conv1_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw);  // db: caller

// The transposed convolution k2 s2 (db: caller).
void convt_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y);
void convt_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx);
void convt_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw);

}  // namespace sse::cpu::avx2
