// kernels/cpu/blas.h — the one place the CPU kernels reach BLAS: OpenBLAS from Debian, or (built with
// SSEUNET_BLAS=none) a plain cache-blocked GEMM of our own for machines without a BLAS.
//
// Row-major SGEMM: C (m × n, leading dim ldc) = alpha · op(A) · op(B) + beta · C.
#pragma once

#include "kernels/common.h"

namespace sse::cpu {

void sgemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, float alpha, const float* a,
           index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc);

// Threads for the CPU kernels: OpenMP and, when linked, OpenBLAS. n ≤ 0 keeps the defaults.
void set_num_threads(int n);

// A thread-local scratch buffer of at least `floats` floats, 64-byte aligned (from 2 MiB: 2 MiB-aligned,
// on huge pages where the kernel allows), reused across calls (kernels call it with bounded sizes; see
// kConvWorkspaceBytes); its contents are unspecified. Slots 0..3 are separate buffers.
float* scratch(std::size_t floats, int slot = 0);

}  // namespace sse::cpu
