// CPU conv3d: im2col of bounded slabs of output rows + SGEMM (see kernels/conv3d.h).
//
// A slab is a run of whole (z, y) output rows; its column matrix has K = c_in·k³ rows and
// rows·w columns and never exceeds kConvWorkspaceBytes, so a 64-channel 128³ volume needs 64 MB of
// scratch, not the 14 GB of a full im2col.
#include "kernels/conv3d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/batchnorm.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_avx2.h"
#include "kernels/cpu/conv3d_winograd.h"
#include "kernels/cpu/gemm_avx2.h"
#include "kernels/reduce.h"
#include "kernels/cpu/parallel.h"

namespace sse::cpu {

namespace {
std::size_t g_workspace_bytes = kConvWorkspaceBytes;
}  // namespace

void set_conv_workspace_bytes(std::size_t bytes) { g_workspace_bytes = bytes; }
std::size_t conv_workspace_bytes() { return g_workspace_bytes; }

namespace {
ConvImpl g_impl = ConvImpl::Auto;

// The AVX2 kernels handle k = 3 (direct) and k = 1 (GEMM), the U-Net's kernels; other sizes take
// the im2col + sgemm path.
bool use_avx2(const Conv3dShape& s) { return (s.k == 3 || s.k == 1) && g_impl != ConvImpl::Blas && avx2::supported(); }
}  // namespace

bool use_avx2_kernels() { return g_impl != ConvImpl::Blas && avx2::supported(); }

namespace {
ConvWinograd g_winograd = ConvWinograd::Auto;

// The Winograd tile for a 3×3×3 convolution of kin → kout channels over s's volume (or for its weight
// gradient), 0 for direct.
int winograd_tile(const Conv3dShape& s, index_t kin, index_t kout, bool weight_grad = false) {
  if (s.k != 3 || !use_avx2(s)) return 0;
  switch (g_winograd) {
    case ConvWinograd::Off: return 0;
    case ConvWinograd::F2: return 2;
    case ConvWinograd::F4: return 4;
    default: return winograd::choose_tile(kin, kout, s.d, s.h, s.w, weight_grad);
  }
}
}  // namespace

void set_conv_winograd(ConvWinograd mode) { g_winograd = mode; }
ConvWinograd conv_winograd() { return g_winograd; }

void set_conv_impl(ConvImpl impl) {
  kernel_check(impl != ConvImpl::Avx2 || avx2::supported(), "set_conv_impl", "this CPU has no AVX2+FMA");
  g_impl = impl;
}
ConvImpl conv_impl() { return g_impl; }
bool conv_avx2_supported() { return avx2::supported(); }

namespace {

struct Slab {
  index_t row0, rows;  // output rows (z·h + y) in this slab
};

index_t slab_rows(const Conv3dShape& s) {
  const index_t per_row = s.c_in * s.kvol() * s.w;
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  return std::max<index_t>(1, std::min(s.d * s.h, budget / std::max<index_t>(per_row, 1)));
}

// Calls f(Slab) for each slab covering the d·h output rows.
template <typename F> void for_each_slab(const Conv3dShape& s, F&& f) {
  const index_t step = slab_rows(s), total = s.d * s.h;
  for (index_t r = 0; r < total; r += step) f(Slab{r, std::min(step, total - r)});
}

// col[(ci·k³ + tap), j] = x[ci, z + kz − p, y + ky − p, x + kx − p] (0 outside) for the slab's
// output positions j. Rows of the column matrix are independent, so they are filled in parallel.
void im2col(const Conv3dShape& s, const float* x, const Slab& sl, float* col) {
  const int k = s.k, p = s.pad();
  const index_t ncols = sl.rows * s.w, nrows = s.c_in * s.kvol();
#pragma omp parallel for if (nrows * ncols > kParallelGrain)
  for (index_t r = 0; r < nrows; ++r) {
    const index_t ci = r / s.kvol(), tap = r % s.kvol();
    const int kz = static_cast<int>(tap / (k * k)), ky = static_cast<int>((tap / k) % k), kx = static_cast<int>(tap % k);
    const float* xc = x + ci * s.voxels();
    float* out = col + r * ncols;
    const index_t x_lo = std::max<index_t>(0, p - kx), x_hi = std::min<index_t>(s.w, s.w + p - kx);
    for (index_t rr = 0; rr < sl.rows; ++rr) {
      const index_t zy = sl.row0 + rr, oz = zy / s.h, oy = zy % s.h;
      const index_t iz = oz + kz - p, iy = oy + ky - p;
      float* o = out + rr * s.w;
      if (iz < 0 || iz >= s.d || iy < 0 || iy >= s.h || x_lo >= x_hi) {
        std::memset(o, 0, static_cast<std::size_t>(s.w) * sizeof(float));
        continue;
      }
      const float* in = xc + (iz * s.h + iy) * s.w;  // input row; output x reads input x + kx − p
      for (index_t xx = 0; xx < x_lo; ++xx) o[xx] = 0.0f;
      std::memcpy(o + x_lo, in + x_lo + kx - p, static_cast<std::size_t>(x_hi - x_lo) * sizeof(float));
      for (index_t xx = x_hi; xx < s.w; ++xx) o[xx] = 0.0f;
    }
  }
}

// The adjoint of im2col: dx[...] += col[...]. Rows of one input channel all land in that channel,
// so channels are the unit of parallel work (no two threads write the same voxel).
void col2im(const Conv3dShape& s, const float* col, const Slab& sl, float* dx) {
  const int k = s.k, p = s.pad();
  const index_t ncols = sl.rows * s.w;
#pragma omp parallel for if (s.c_in * s.kvol() * ncols > kParallelGrain)
  for (index_t ci = 0; ci < s.c_in; ++ci) {
    float* dxc = dx + ci * s.voxels();
    for (index_t tap = 0; tap < s.kvol(); ++tap) {
      const int kz = static_cast<int>(tap / (k * k)), ky = static_cast<int>((tap / k) % k), kx = static_cast<int>(tap % k);
      const float* in = col + (ci * s.kvol() + tap) * ncols;
      const index_t x_lo = std::max<index_t>(0, p - kx), x_hi = std::min<index_t>(s.w, s.w + p - kx);
      for (index_t rr = 0; rr < sl.rows; ++rr) {
        const index_t zy = sl.row0 + rr, oz = zy / s.h, oy = zy % s.h;
        const index_t iz = oz + kz - p, iy = oy + ky - p;
        if (iz < 0 || iz >= s.d || iy < 0 || iy >= s.h) continue;
        float* o = dxc + (iz * s.h + iy) * s.w + x_lo + kx - p;
        const float* c = in + rr * s.w + x_lo;
        for (index_t xx = 0; xx < x_hi - x_lo; ++xx) o[xx] += c[xx];
      }
    }
  }
}

void check(const Conv3dShape& s, const char* op) {
  kernel_check(s.k >= 1 && s.k % 2 == 1, op, "kernel size must be odd");
  kernel_check(s.n >= 0 && s.c_in >= 1 && s.c_out >= 1 && s.d >= 1 && s.h >= 1 && s.w >= 1, op, "bad shape");
}

}  // namespace

void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y) {
  check(s, "conv3d_forward");
  if (const int m = winograd_tile(s, s.c_in, s.c_out))
    return winograd::conv3_forward(s, m, x, s.c_in, nullptr, w, b, ConvEpilogue{}, y);
  if (use_avx2(s)) return s.k == 3 ? avx2::conv3_forward(s, x, w, b, y) : avx2::conv1_forward(s, x, w, b, y);
  const index_t vol = s.voxels(), K = s.c_in * s.kvol();
  for (index_t n = 0; n < s.n; ++n) {
    const float* xn = x + n * s.c_in * vol;
    float* yn = y + n * s.c_out * vol;
    for (index_t o = 0; o < s.c_out; ++o) std::fill(yn + o * vol, yn + (o + 1) * vol, b ? b[o] : 0.0f);
    if (s.k == 1) {
      sgemm(false, false, s.c_out, vol, s.c_in, 1.0f, w, s.c_in, xn, vol, 1.0f, yn, vol);
      continue;
    }
    float* col = scratch(static_cast<std::size_t>(K * slab_rows(s) * s.w));
    for_each_slab(s, [&](const Slab& sl) {
      im2col(s, xn, sl, col);
      const index_t ncols = sl.rows * s.w;
      sgemm(false, false, s.c_out, ncols, K, 1.0f, w, K, col, ncols, 1.0f, yn + sl.row0 * s.w, vol);
    });
  }
}

void conv3d_forward_fused(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                          const float* b, const ConvEpilogue& ep, float* y) {
  check(s, "conv3d_forward_fused");
  kernel_check(c_in1 >= 1 && c_in1 <= s.c_in && (x2 != nullptr) == (c_in1 < s.c_in), "conv3d_forward_fused",
               "the two input parts must cover c_in channels (x2 null exactly when c_in1 = c_in)");
  kernel_check(!ep.scale || ep.shift, "conv3d_forward_fused", "scale without shift");
  if (const int m = winograd_tile(s, s.c_in, s.c_out)) return winograd::conv3_forward(s, m, x1, c_in1, x2, w, b, ep, y);
  if (s.k == 3 && use_avx2(s)) return avx2::conv3_forward_fused(s, x1, c_in1, x2, w, b, ep, y);
  // Elsewhere: the concatenated input (when in two parts), the plain forward, the epilogue in place.
  const index_t vol = s.voxels(), c2 = s.c_in - c_in1;
  std::vector<float> cat;
  const float* x = x1;
  if (x2) {
    cat.resize(static_cast<std::size_t>(s.n * s.c_in * vol));
    for (index_t n = 0; n < s.n; ++n) {
      std::copy(x1 + n * c_in1 * vol, x1 + (n + 1) * c_in1 * vol, cat.begin() + n * s.c_in * vol);
      std::copy(x2 + n * c2 * vol, x2 + (n + 1) * c2 * vol, cat.begin() + (n * s.c_in + c_in1) * vol);
    }
    x = cat.data();
  }
  conv3d_forward(s, x, w, b, y);
  if (!ep.scale) return;
#pragma omp parallel for collapse(2) if (s.n * s.c_out * vol > kParallelGrain)
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o) {
      float* yo = y + (n * s.c_out + o) * vol;
      const float sc = ep.scale[o], sh = ep.shift[o];
      for (index_t i = 0; i < vol; ++i) yo[i] = affine_act(yo[i], sc, sh, ep.relu);
    }
}

void conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx) {
  check(s, "conv3d_backward_data");
  if (const int m = winograd_tile(s, s.c_out, s.c_in)) return winograd::conv3_backward_data(s, m, dy, w, dx);
  if (use_avx2(s))
    return s.k == 3 ? avx2::conv3_backward_data(s, dy, w, dx) : avx2::conv1_backward_data(s, dy, w, dx);
  const index_t vol = s.voxels(), K = s.c_in * s.kvol();
  for (index_t n = 0; n < s.n; ++n) {
    const float* dyn = dy + n * s.c_out * vol;
    float* dxn = dx + n * s.c_in * vol;
    if (s.k == 1) {
      sgemm(true, false, s.c_in, vol, s.c_out, 1.0f, w, s.c_in, dyn, vol, 0.0f, dxn, vol);
      continue;
    }
    std::fill(dxn, dxn + s.c_in * vol, 0.0f);
    float* col = scratch(static_cast<std::size_t>(K * slab_rows(s) * s.w));
    for_each_slab(s, [&](const Slab& sl) {
      const index_t ncols = sl.rows * s.w;
      sgemm(true, false, K, ncols, s.c_out, 1.0f, w, K, dyn + sl.row0 * s.w, vol, 0.0f, col, ncols);
      col2im(s, col, sl, dxn);
    });
  }
}

void conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw, float* db) {
  check(s, "conv3d_backward_weight");
  if (const int m = winograd_tile(s, s.c_in, s.c_out, true)) {
    winograd::conv3_backward_weight(s, m, x, dy, dw);
    if (db) sum_mid(dy, s.n, s.c_out, s.voxels(), db);
    return;
  }
  if (use_avx2(s)) {
    if (s.k == 3) avx2::conv3_backward_weight(s, x, dy, dw);
    else avx2::conv1_backward_weight(s, x, dy, dw);
    if (db) sum_mid(dy, s.n, s.c_out, s.voxels(), db);
    return;
  }
  const index_t vol = s.voxels(), K = s.c_in * s.kvol();
  std::fill(dw, dw + s.c_out * K, 0.0f);
  for (index_t n = 0; n < s.n; ++n) {
    const float* xn = x + n * s.c_in * vol;
    const float* dyn = dy + n * s.c_out * vol;
    if (s.k == 1) {
      sgemm(false, true, s.c_out, s.c_in, vol, 1.0f, dyn, vol, xn, vol, 1.0f, dw, K);
      continue;
    }
    float* col = scratch(static_cast<std::size_t>(K * slab_rows(s) * s.w));
    for_each_slab(s, [&](const Slab& sl) {
      im2col(s, xn, sl, col);
      const index_t ncols = sl.rows * s.w;
      sgemm(false, true, s.c_out, K, ncols, 1.0f, dyn + sl.row0 * s.w, vol, col, ncols, 1.0f, dw, K);
    });
  }
  if (db) sum_mid(dy, s.n, s.c_out, vol, db);
}

}  // namespace sse::cpu
