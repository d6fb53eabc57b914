#include "kernels/cpu/blas.h"

#include <omp.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
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

namespace {
// One scratch buffer: from 2 MiB, 2 MiB-aligned and advised to use huge pages (the kernels stride
// through their buffers by tens of KB — a 4 KiB page per access would thrash the TLB); zeroed when
// (re)allocated.
struct ScratchBuffer {
  float* p = nullptr;
  std::size_t floats = 0;
  ~ScratchBuffer() { std::free(p); }
  float* get(std::size_t n) {
    if (n <= floats) return p;
    constexpr std::size_t kHuge = 2u << 20;
    const std::size_t bytes = n * sizeof(float), align = bytes >= kHuge ? kHuge : 64;
    const std::size_t size = (bytes + align - 1) / align * align;
    std::free(p);
    p = static_cast<float*>(std::aligned_alloc(align, size));
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (size >= kHuge) madvise(p, size, MADV_HUGEPAGE);
#endif
    std::memset(p, 0, size);
    floats = size / sizeof(float);
    return p;
  }
};
}  // namespace

float* scratch(std::size_t floats, int slot) {
  thread_local ScratchBuffer bufs[4];
  return bufs[slot].get(floats);
}

}  // namespace sse::cpu
