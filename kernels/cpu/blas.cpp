#include "kernels/cpu/blas.h"

#include <omp.h>

#include <cstdint>
#include <vector>

#if SSE_HAVE_CBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace sse::cpu {

#if SSE_HAVE_CBLAS
void sgemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, float alpha, const float* a,
           index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

void set_num_threads(int n) {
  if (n <= 0) return;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}
#else
// Rows of C in parallel; for each row, k-blocks of A's row times B's rows accumulate into a
// contiguous C row (B row-major and not transposed is the fast, streaming case).
void sgemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, float alpha, const float* a,
           index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  auto A = [&](index_t i, index_t p) { return trans_a ? a[p * lda + i] : a[i * lda + p]; };
#pragma omp parallel
  {
    std::vector<float> brow(trans_b ? static_cast<std::size_t>(n) : 0);
#pragma omp for schedule(static)
    for (index_t i = 0; i < m; ++i) {
      float* ci = c + i * ldc;
      for (index_t j = 0; j < n; ++j) ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
      for (index_t p = 0; p < k; ++p) {
        const float s = alpha * A(i, p);
        if (s == 0.0f) continue;
        const float* bp = b + p * ldb;
        if (trans_b) {
          for (index_t j = 0; j < n; ++j) ci[j] += s * b[j * ldb + p];
        } else {
          for (index_t j = 0; j < n; ++j) ci[j] += s * bp[j];
        }
      }
    }
  }
}

void set_num_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}
#endif

float* scratch(std::size_t floats, int slot) {
  thread_local std::vector<float> bufs[4];
  std::vector<float>& b = bufs[slot];
  if (b.size() < floats + 16) b.resize(floats + 16);
  // 64-byte aligned (a cache line; what aligned AVX loads need).
  const auto addr = reinterpret_cast<std::uintptr_t>(b.data());
  return b.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

}  // namespace sse::cpu
