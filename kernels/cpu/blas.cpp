#include "kernels/cpu/blas.h"

#include <cblas.h>

#include <vector>

namespace sse::cpu {

void sgemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, float alpha, const float* a,
           index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

float* scratch(std::size_t floats, int slot) {
  thread_local std::vector<float> bufs[2];
  std::vector<float>& b = bufs[slot];
  if (b.size() < floats) b.resize(floats);
  return b.data();
}

}  // namespace sse::cpu
