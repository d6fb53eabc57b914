// CPU transposed convolution k2 s2 as GEMM + scatter (see kernels/conv_transpose3d.h).
//
// T (c_out·8 × voxels) = Wᵀ · X, then each T row (o, tap) scatters to the output sites
// (2i+a, 2j+b, 2l+c). Work is chunked over input z-planes so T stays within kConvWorkspaceBytes.
#include "kernels/conv_transpose3d.h"

#include <algorithm>

#include "kernels/conv3d.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_avx2.h"
#include "kernels/cpu/gemm_avx2.h"
#include "kernels/cpu/parallel.h"
#include "kernels/reduce.h"

namespace sse::cpu {
namespace {

index_t planes_per_chunk(const ConvT3dShape& s) {
  const index_t per_plane = s.c_out * 8 * s.h * s.w;
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  return std::max<index_t>(1, std::min(s.d, budget / std::max<index_t>(per_plane, 1)));
}

// Visits every (T row, T column, output index) triple of a chunk: row = o·8 + tap over the c_out·8
// rows of T, column j over input voxels of planes [z0, z0 + nz), and the output index, within the
// (c_out, 2d, 2h, 2w) volume, of the site (2i+a, 2j+b, 2l+c) that pair maps to.
template <typename F> void for_each_site(const ConvT3dShape& s, index_t z0, index_t nz, F&& f) {
  const index_t ncols = nz * s.h * s.w, oh = 2 * s.h, ow = 2 * s.w, ovol = 8 * s.in_voxels();
#pragma omp parallel for if (s.c_out * 8 * ncols > kParallelGrain)
  for (index_t row = 0; row < s.c_out * 8; ++row) {
    const index_t o = row / 8, a = (row >> 2) & 1, b = (row >> 1) & 1, c = row & 1;
    for (index_t j = 0; j < ncols; ++j) {
      const index_t l = j % s.w, i2 = (j / s.w) % s.h, z = z0 + j / (s.w * s.h);
      f(row, row * ncols + j, o * ovol + ((2 * z + a) * oh + 2 * i2 + b) * ow + 2 * l + c);
    }
  }
}

// y ← T (+ bias): the forward scatter.
void scatter(const ConvT3dShape& s, index_t z0, index_t nz, const float* t, const float* bias, float* y) {
  for_each_site(s, z0, nz, [&](index_t row, index_t ti, index_t yi) { y[yi] = t[ti] + (bias ? bias[row / 8] : 0.0f); });
}

// T ← dy: the gather both backward passes start from.
void gather(const ConvT3dShape& s, index_t z0, index_t nz, const float* dy, float* t) {
  for_each_site(s, z0, nz, [&](index_t, index_t ti, index_t yi) { t[ti] = dy[yi]; });
}

template <typename F> void for_each_chunk(const ConvT3dShape& s, F&& f) {
  const index_t step = planes_per_chunk(s);
  for (index_t z = 0; z < s.d; z += step) f(z, std::min(step, s.d - z));
}

}  // namespace

void conv_transpose3d_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y) {
  if (use_avx2_kernels()) return avx2::convt_forward(s, x, w, b, y);
  const index_t vin = s.in_voxels(), plane = s.h * s.w, M = s.c_out * 8;
  float* t = scratch(static_cast<std::size_t>(M * planes_per_chunk(s) * plane));
  for (index_t n = 0; n < s.n; ++n) {
    for_each_chunk(s, [&](index_t z0, index_t nz) {
      const index_t ncols = nz * plane;
      sgemm(true, false, M, ncols, s.c_in, 1.0f, w, M, x + n * s.c_in * vin + z0 * plane, vin, 0.0f, t, ncols);
      scatter(s, z0, nz, t, b, y + n * s.c_out * 8 * vin);
    });
  }
}

void conv_transpose3d_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx) {
  if (use_avx2_kernels()) return avx2::convt_backward_data(s, dy, w, dx);
  const index_t vin = s.in_voxels(), plane = s.h * s.w, M = s.c_out * 8;
  float* t = scratch(static_cast<std::size_t>(M * planes_per_chunk(s) * plane));
  for (index_t n = 0; n < s.n; ++n) {
    for_each_chunk(s, [&](index_t z0, index_t nz) {
      const index_t ncols = nz * plane;
      gather(s, z0, nz, dy + n * s.c_out * 8 * vin, t);
      sgemm(false, false, s.c_in, ncols, M, 1.0f, w, M, t, ncols, 0.0f, dx + n * s.c_in * vin + z0 * plane, vin);
    });
  }
}

void conv_transpose3d_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw,
                                      float* db) {
  if (use_avx2_kernels()) {
    avx2::convt_backward_weight(s, x, dy, dw);
    if (db) sum_mid(dy, s.n, s.c_out, 8 * s.in_voxels(), db);
    return;
  }
  const index_t vin = s.in_voxels(), plane = s.h * s.w, M = s.c_out * 8;
  float* t = scratch(static_cast<std::size_t>(M * planes_per_chunk(s) * plane));
  std::fill(dw, dw + s.c_in * M, 0.0f);
  for (index_t n = 0; n < s.n; ++n) {
    for_each_chunk(s, [&](index_t z0, index_t nz) {
      const index_t ncols = nz * plane;
      gather(s, z0, nz, dy + n * s.c_out * 8 * vin, t);
      sgemm(false, true, s.c_in, M, ncols, 1.0f, x + n * s.c_in * vin + z0 * plane, vin, t, ncols, 1.0f, dw, M);
    });
  }
  if (db) sum_mid(dy, s.n, s.c_out, 8 * vin, db);
}

}  // namespace sse::cpu
