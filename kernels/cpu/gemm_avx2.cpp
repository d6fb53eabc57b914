// GEMM-shaped CPU kernels with AVX2+FMA micro-kernels (see kernels/cpu/gemm_avx2.h).
//
// gemm_packed is a GotoBLAS-style GEMM: C = A·B with A packed in groups of 4 rows ([k][4], so a
// micro-kernel broadcasts 4 consecutive floats per k) and B packed one tile (kc × 24 columns) at a time. Micro-tile 4 × 24: 12 accumulators, per k 3 loads of B, 4 broadcasts, 12 FMAs.
// Blocking: column tiles in blocks whose C block stays in L2, rows in blocks whose A block (rows × kc)
// stays in L2, k in blocks of kc whose B tile (kc × 24) stays in L1.
//
// The k2 s2 transposed convolution is one GEMM per chunk of input planes plus a re-layout:
//   forward       T (8·c_out × voxels) = Wᵀ · X, then T's rows (o, a, b, c) interleave into y
//   backward-data G (8·c_out × voxels) = de-interleaved dy, dx = W · G
//   backward-wgt  Gᵀ (voxels × 8·c_out) gathered from dy, dW (c_in × 8·c_out) += X · Gᵀ
// so every pass runs on gemm_packed. Threads take chunks of planes (forward, backward-data) or
// column blocks of dW (backward-weight); results do not depend on the thread count.
#include "kernels/cpu/gemm_avx2.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/avx2_asm.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_avx2.h"
#include "kernels/cpu/avx2_micro.h"

namespace sse::cpu::avx2 {
namespace {

constexpr int kMR = 4;
constexpr index_t kNR = 24;
constexpr index_t kKc = 128;  // k block: a B tile of 128 × 24 floats (≤ 24 KB with its line splits) in L1

index_t round_up(index_t v, index_t m) { return (v + m - 1) / m * m; }

#pragma GCC push_options
#pragma GCC target("avx2,fma")

// c (MR × 24, ldc) (+)= Σ_{p < kc} a[p][m] · b[p·ldb + j]
template <int MR>
__attribute__((noinline)) void micro_nn(const float* __restrict a, const float* __restrict b, index_t ldb, index_t kc,
                                        float* __restrict c, index_t ldc, bool accumulate) {
  __m256 acc[MR][3];
  tile_load<MR>(acc, c, ldc, accumulate);
  for (index_t p = 0; p < kc; ++p) {
    tile_fma<MR>(acc, a, _mm256_loadu_ps(b), _mm256_loadu_ps(b + 8), _mm256_loadu_ps(b + 16));
    a += kMR;
    b += ldb;
  }
  tile_store<MR>(acc, c, ldc);
}

// MR = 4 in assembly (all 16 ymm registers; see the note on micro_fwd_call in conv3d_avx2.cpp).
template <>
__attribute__((noinline)) void micro_nn<4>(const float* a, const float* b, index_t ldb, index_t kc, float* c,
                                           index_t ldc, bool accumulate) {
  if (kc <= 0) {  // C = 0 or unchanged
    if (!accumulate)
      for (int m = 0; m < 4; ++m) std::memset(c + m * ldc, 0, kNR * sizeof(float));
    return;
  }
  float* c1 = c + ldc;
  float* c2 = c + 2 * ldc;
  float* c3 = c + 3 * ldc;
  const index_t ldb4 = ldb * 4, acc = accumulate ? 1 : 0;
  index_t n = kc;
  __asm__ volatile(
      SSE_ASM_C4X24_INIT
      "vmovups (%[b]), %%ymm12\n\t vmovups 32(%[b]), %%ymm13\n\t vmovups 64(%[b]), %%ymm14\n\t"
      "vbroadcastss (%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm0\n\t vfmadd231ps %%ymm13, %%ymm15, %%ymm1\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\t"
      "vbroadcastss 4(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm3\n\t vfmadd231ps %%ymm13, %%ymm15, %%ymm4\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
      "vbroadcastss 8(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\t"
      "vbroadcastss 12(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm9\n\t vfmadd231ps %%ymm13, %%ymm15, %%ymm10\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
      "add $16, %[a]\n\t"
      "add %[ldb4], %[b]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      SSE_ASM_C4X24_STORE
      : [a] "+r"(a), [b] "+r"(b), [n] "+r"(n)
      : [acc] "r"(acc), [ldb4] "r"(ldb4), [c0] "r"(c), [c1] "r"(c1), [c2] "r"(c2), [c3] "r"(c3)
      : SSE_ASM_YMM_CLOBBERS, "cc", "memory");
}

void micro_nn_any(int mr, const float* a, const float* b, index_t ldb, index_t kc, float* c, index_t ldc,
                  bool accumulate) {
  switch (mr) {
    case 4: micro_nn<4>(a, b, ldb, kc, c, ldc, accumulate); break;
    case 3: micro_nn<3>(a, b, ldb, kc, c, ldc, accumulate); break;
    case 2: micro_nn<2>(a, b, ldb, kc, c, ldc, accumulate); break;
    default: micro_nn<1>(a, b, ldb, kc, c, ldc, accumulate); break;
  }
}

// y row (2w floats) = interleave(t0, t1) + bias: y[2l] = t0[l] + bias, y[2l+1] = t1[l] + bias.
void interleave_row(const float* t0, const float* t1, index_t w, float bias, float* y) {
  const __m256 bv = _mm256_set1_ps(bias);
  index_t l = 0;
  for (; l + 8 <= w; l += 8) {
    const __m256 a = _mm256_add_ps(_mm256_loadu_ps(t0 + l), bv), b = _mm256_add_ps(_mm256_loadu_ps(t1 + l), bv);
    const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
    _mm256_storeu_ps(y + 2 * l, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(y + 2 * l + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  for (; l < w; ++l) {
    y[2 * l] = t0[l] + bias;
    y[2 * l + 1] = t1[l] + bias;
  }
}

// The inverse: t0[l] = y[2l], t1[l] = y[2l+1].
void deinterleave_row(const float* y, index_t w, float* t0, float* t1) {
  index_t l = 0;
  for (; l + 8 <= w; l += 8) {
    const __m256 a = _mm256_loadu_ps(y + 2 * l), b = _mm256_loadu_ps(y + 2 * l + 8);
    // a = y0..y7, b = y8..y15; evens and odds within lanes, then fix the lane order.
    const __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(t0 + l, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0))));
    _mm256_storeu_ps(t1 + l, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; l < w; ++l) {
    t0[l] = y[2 * l];
    t1[l] = y[2 * l + 1];
  }
}

#pragma GCC pop_options

// Per-thread buffers: the packed B tile, and zero-padded copies of B and C for tail tiles (fewer
// than 24 columns).
struct TailBuffers {
  std::vector<float> b, c, pack;
};
TailBuffers& tail_buffers() {
  thread_local TailBuffers t;
  return t;
}

// Threads for a loop of `work` FLOPs: one below ~4 MFLOP (forking costs more).
bool worth_threads(double flops) { return flops > 4e6; }

// Planes per chunk for the transposed convolution: the per-thread workspace of `floats_per_plane`
// floats per input plane within budget, and at least ~3 chunks per thread when there are planes.
index_t convt_planes(const ConvT3dShape& s, index_t floats_per_plane) {
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  index_t per = std::max<index_t>(1, std::min(s.d, budget / std::max<index_t>(floats_per_plane, 1)));
  const index_t threads = omp_get_max_threads();
  const index_t want_chunks = std::min<index_t>(s.d, 3 * threads);
  per = std::min(per, std::max<index_t>(1, s.d / want_chunks));
  return per;
}

}  // namespace

std::vector<float> pack_a(index_t m, index_t k, const float* a, index_t lda, bool trans) {
  const index_t groups = (m + kMR - 1) / kMR;
  std::vector<float> out(static_cast<std::size_t>(groups * k * kMR), 0.0f);
  for (index_t i = 0; i < m; ++i) {
    float* dst = out.data() + (i / kMR) * k * kMR + i % kMR;
    if (trans) {
      for (index_t p = 0; p < k; ++p) dst[p * kMR] = a[p * lda + i];
    } else {
      const float* src = a + i * lda;
      for (index_t p = 0; p < k; ++p) dst[p * kMR] = src[p];
    }
  }
  return out;
}

void gemm_micro(int mr, const float* a, const float* b, index_t ldb, index_t kc, float* c, index_t ldc, bool accumulate) {
  micro_nn_any(mr, a, b, ldb, kc, c, ldc, accumulate);
}

void gemm_packed(index_t m, index_t n, index_t k, const float* apack, const float* b, index_t ldb, float* c,
                 index_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (index_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const index_t groups = (m + kMR - 1) / kMR, tiles = n / kNR, tail = n % kNR;
  const index_t kc_blocks = std::max<index_t>(1, (k + kKc - 1) / kKc), kc = (k + kc_blocks - 1) / kc_blocks;
  const index_t gpb_max = std::max<index_t>(1, (160 * 1024 / 4) / (kc * kMR));
  const index_t m_blocks = (groups + gpb_max - 1) / gpb_max, gpb = (groups + m_blocks - 1) / m_blocks;
  const index_t tb = std::max<index_t>(1, (64 * 1024 / 4) / (gpb * kMR * kNR));
  TailBuffers& tbuf = tail_buffers();
  if (tbuf.pack.size() < static_cast<std::size_t>(kKc * kNR + 8)) tbuf.pack.resize(static_cast<std::size_t>(kKc * kNR + 8));
  float* bp = tbuf.pack.data() + ((8 - reinterpret_cast<std::uintptr_t>(tbuf.pack.data()) / 4 % 8) % 8);
  for (index_t t0 = 0; t0 < tiles; t0 += tb) {
    const index_t t1 = std::min(tiles, t0 + tb);
    for (index_t g0 = 0; g0 < groups; g0 += gpb) {
      const index_t g1 = std::min(groups, g0 + gpb);
      for (index_t p0 = 0; p0 < k; p0 += kc) {
        const index_t kcb = std::min(kc, k - p0);
        const bool acc = accumulate || p0 > 0;
        for (index_t t = t0; t < t1; ++t) {
          // Pack the B tile (kcb × 24) contiguously: B's rows may sit a power of two apart (a channel
          // of a 16³ or 32³ volume) and would then all map to the same L1 sets.
          const float* src = b + p0 * ldb + t * kNR;
          for (index_t p = 0; p < kcb; ++p) std::memcpy(bp + p * kNR, src + p * ldb, kNR * sizeof(float));
          for (index_t gi = g0; gi < g1; ++gi)
            micro_nn_any(static_cast<int>(std::min<index_t>(kMR, m - gi * kMR)), apack + (gi * k + p0) * kMR, bp, kNR,
                         kcb, c + gi * kMR * ldc + t * kNR, ldc, acc);
        }
      }
    }
  }
  if (tail) {  // the last tail columns on padded copies
    TailBuffers& tb_ = tail_buffers();
    tb_.b.assign(static_cast<std::size_t>(k * kNR), 0.0f);
    tb_.c.assign(static_cast<std::size_t>(groups * kMR * kNR), 0.0f);
    const index_t j0 = tiles * kNR;
    for (index_t p = 0; p < k; ++p) std::memcpy(&tb_.b[static_cast<std::size_t>(p * kNR)], b + p * ldb + j0, tail * sizeof(float));
    if (accumulate)
      for (index_t i = 0; i < m; ++i) std::memcpy(&tb_.c[static_cast<std::size_t>(i * kNR)], c + i * ldc + j0, tail * sizeof(float));
    for (index_t gi = 0; gi < groups; ++gi)
      for (index_t p0 = 0; p0 < k; p0 += kc)
        micro_nn_any(static_cast<int>(std::min<index_t>(kMR, m - gi * kMR)), apack + (gi * k + p0) * kMR,
                     tb_.b.data() + p0 * kNR, kNR, std::min(kc, k - p0), tb_.c.data() + gi * kMR * kNR, kNR,
                     accumulate || p0 > 0);
    for (index_t i = 0; i < m; ++i) std::memcpy(c + i * ldc + j0, &tb_.c[static_cast<std::size_t>(i * kNR)], tail * sizeof(float));
  }
}

void gemm_nt(index_t m, index_t n, index_t l, const float* p, index_t ldp, const float* q, index_t ldq, float* c,
             index_t ldc, bool accumulate) {
  const index_t mt = (m + kMR - 1) / kMR, nt = (n + 2) / 3, tiles = mt * nt, l8 = l / 8 * 8;
#pragma omp parallel if (worth_threads(2.0 * m * n * l) && tiles > 1)
  {
    alignas(32) float part[kMR * 3 * 8];
#pragma omp for schedule(dynamic, 1)
    for (index_t t = 0; t < tiles; ++t) {
      const index_t i0 = (t / nt) * kMR, j0 = (t % nt) * 3;
      const int mr = static_cast<int>(std::min<index_t>(kMR, m - i0)), nr = static_cast<int>(std::min<index_t>(3, n - j0));
      std::fill(part, part + kMR * 3 * 8, 0.0f);
      // Fewer than 3 columns left: the missing rows of Q repeat the first (qs = 0), results dropped.
      const index_t qs = nr == 3 ? ldq : 0;
      const float* pp = p + i0 * ldp;
      const float* qq = q + j0 * ldq;
      switch (mr) {
        case 4: micro_dot<4>(pp, ldp, qq, qs, l8 / 8, part); break;
        case 3: micro_dot<3>(pp, ldp, qq, qs, l8 / 8, part); break;
        case 2: micro_dot<2>(pp, ldp, qq, qs, l8 / 8, part); break;
        default: micro_dot<1>(pp, ldp, qq, qs, l8 / 8, part); break;
      }
      if (nr == 2) {  // the second column separately
        alignas(32) float part2[kMR * 3 * 8] = {};
        switch (mr) {
          case 4: micro_dot<4>(pp, ldp, qq + ldq, 0, l8 / 8, part2); break;
          case 3: micro_dot<3>(pp, ldp, qq + ldq, 0, l8 / 8, part2); break;
          case 2: micro_dot<2>(pp, ldp, qq + ldq, 0, l8 / 8, part2); break;
          default: micro_dot<1>(pp, ldp, qq + ldq, 0, l8 / 8, part2); break;
        }
        for (int i = 0; i < mr; ++i) std::memcpy(part + (i * 3 + 1) * 8, part2 + (i * 3) * 8, 8 * sizeof(float));
      }
      for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) {
          float v = hsum8(part + (i * 3 + j) * 8);
          for (index_t r = l8; r < l; ++r) v += pp[i * ldp + r] * qq[j * ldq + r];
          float& out = c[(i0 + i) * ldc + j0 + j];
          out = accumulate ? out + v : v;
        }
    }
  }
}

// ---- 1×1×1 convolution ---------------------------------------------------------------------

namespace {
// Column chunks of a GEMM over `n` columns for the threads (multiples of 24).
template <typename F> void for_column_chunks(index_t n, double flops, F&& f) {
  const index_t threads = omp_get_max_threads();
  const index_t chunks = worth_threads(flops) ? std::max<index_t>(1, std::min<index_t>(4 * threads, n / (4 * kNR))) : 1;
  const index_t step = round_up((n + chunks - 1) / chunks, kNR);
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
  for (index_t j = 0; j < n; j += step) f(j, std::min(step, n - j));
}
}  // namespace

void conv1_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y) {
  const index_t vol = s.voxels();
  const std::vector<float> a = pack_a(s.c_out, s.c_in, w, s.c_in, false);
  for (index_t n = 0; n < s.n; ++n) {
    const float* xn = x + n * s.c_in * vol;
    float* yn = y + n * s.c_out * vol;
    for_column_chunks(vol, 2.0 * s.c_out * s.c_in * vol, [&](index_t j, index_t len) {
      if (b)
        for (index_t o = 0; o < s.c_out; ++o) std::fill(yn + o * vol + j, yn + o * vol + j + len, b[o]);
      gemm_packed(s.c_out, len, s.c_in, a.data(), xn + j, vol, yn + j, vol, b != nullptr);
    });
  }
}

void conv1_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx) {
  const index_t vol = s.voxels();
  const std::vector<float> a = pack_a(s.c_in, s.c_out, w, s.c_in, true);
  for (index_t n = 0; n < s.n; ++n) {
    const float* dyn = dy + n * s.c_out * vol;
    float* dxn = dx + n * s.c_in * vol;
    for_column_chunks(vol, 2.0 * s.c_out * s.c_in * vol, [&](index_t j, index_t len) {
      gemm_packed(s.c_in, len, s.c_out, a.data(), dyn + j, vol, dxn + j, vol, false);
    });
  }
}

void conv1_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw) {
  const index_t vol = s.voxels();
  if (s.n == 0) std::fill(dw, dw + s.c_out * s.c_in, 0.0f);
  for (index_t n = 0; n < s.n; ++n)
    gemm_nt(s.c_out, s.c_in, vol, dy + n * s.c_out * vol, vol, x + n * s.c_in * vol, vol, dw, s.c_in, n > 0);
}

// ---- transposed convolution k2 s2 ------------------------------------------------------------

void convt_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y) {
  const index_t m = 8 * s.c_out, plane = s.h * s.w, vin = s.in_voxels(), oh = 2 * s.h, ow = 2 * s.w;
  const std::vector<float> a = pack_a(m, s.c_in, w, m, true);  // A(row, ci) = w[ci][row]
  const index_t per = convt_planes(s, m * plane), chunks = (s.d + per - 1) / per, items = s.n * chunks;
#pragma omp parallel for schedule(dynamic, 1) if (items > 1 && worth_threads(s.flops()))
  for (index_t it = 0; it < items; ++it) {
    const index_t n = it / chunks, z0 = (it % chunks) * per, nz = std::min(per, s.d - z0), cols = nz * plane;
    const index_t ldt = round_up(cols, kNR) + 8;
    float* t = scratch(static_cast<std::size_t>(m * ldt), 0);
    gemm_packed(m, cols, s.c_in, a.data(), x + n * s.c_in * vin + z0 * plane, vin, t, ldt, false);
    float* yn = y + n * s.c_out * 8 * vin;
    for (index_t o = 0; o < s.c_out; ++o)
      for (int ab = 0; ab < 4; ++ab) {
        const index_t aa = ab >> 1, bb = ab & 1;
        const float* t0 = t + (o * 8 + ab * 2) * ldt;
        const float* t1 = t0 + ldt;
        const float bias = b ? b[o] : 0.0f;
        for (index_t z = 0; z < nz; ++z)
          for (index_t j = 0; j < s.h; ++j)
            interleave_row(t0 + z * plane + j * s.w, t1 + z * plane + j * s.w, s.w, bias,
                           yn + o * 8 * vin + ((2 * (z0 + z) + aa) * oh + 2 * j + bb) * ow);
      }
  }
}

void convt_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx) {
  const index_t m = 8 * s.c_out, plane = s.h * s.w, vin = s.in_voxels(), oh = 2 * s.h, ow = 2 * s.w;
  const std::vector<float> a = pack_a(s.c_in, m, w, m, false);  // A(ci, row) = w[ci][row]
  const index_t per = convt_planes(s, m * plane), chunks = (s.d + per - 1) / per, items = s.n * chunks;
#pragma omp parallel for schedule(dynamic, 1) if (items > 1 && worth_threads(s.flops()))
  for (index_t it = 0; it < items; ++it) {
    const index_t n = it / chunks, z0 = (it % chunks) * per, nz = std::min(per, s.d - z0), cols = nz * plane;
    const index_t ldg = round_up(cols, 8) + 8;
    float* g = scratch(static_cast<std::size_t>(m * ldg), 0);
    const float* dyn = dy + n * s.c_out * 8 * vin;
    for (index_t o = 0; o < s.c_out; ++o)
      for (int ab = 0; ab < 4; ++ab) {
        const index_t aa = ab >> 1, bb = ab & 1;
        float* g0 = g + (o * 8 + ab * 2) * ldg;
        float* g1 = g0 + ldg;
        for (index_t z = 0; z < nz; ++z)
          for (index_t j = 0; j < s.h; ++j)
            deinterleave_row(dyn + o * 8 * vin + ((2 * (z0 + z) + aa) * oh + 2 * j + bb) * ow, s.w,
                             g0 + z * plane + j * s.w, g1 + z * plane + j * s.w);
      }
    gemm_packed(s.c_in, cols, m, a.data(), g, ldg, dx + n * s.c_in * vin + z0 * plane, vin, false);
  }
}

void convt_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw) {
  // dW (c_in × 8·c_out) = Σ over input voxels of X (c_in × V) · Gᵀ (V × 8·c_out), with
  // Gᵀ[v][o·8 + tap] = dy[o][site(v, tap)]: the 8 taps of one o are one 32-byte run of a Gᵀ row.
  const index_t m = 8 * s.c_out, plane = s.h * s.w, vin = s.in_voxels(), oh = 2 * s.h, ow = 2 * s.w;
  std::fill(dw, dw + s.c_in * m, 0.0f);
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  const index_t per = std::max<index_t>(1, std::min(s.d, budget / std::max<index_t>(1, (m + 4 * s.c_in) * plane)));
  const index_t ldg = m + 8;
  for (index_t n = 0; n < s.n; ++n)
    for (index_t z0 = 0; z0 < s.d; z0 += per) {
      const index_t nz = std::min(per, s.d - z0), cols = nz * plane;
      float* gt = scratch(static_cast<std::size_t>(cols * ldg), 0);
      const float* dyn = dy + n * s.c_out * 8 * vin;
      const float* xn = x + n * s.c_in * vin + z0 * plane;
#pragma omp parallel for schedule(static) if (worth_threads(s.flops() * nz / s.d))
      for (index_t o = 0; o < s.c_out; ++o)
        for (index_t z = 0; z < nz; ++z)
          for (index_t j = 0; j < s.h; ++j) {
            const float* r[4];
            for (int ab = 0; ab < 4; ++ab)
              r[ab] = dyn + o * 8 * vin + ((2 * (z0 + z) + (ab >> 1)) * oh + 2 * j + (ab & 1)) * ow;
            float* dst = gt + (z * plane + j * s.w) * ldg + o * 8;
            for (index_t l = 0; l < s.w; ++l, dst += ldg)
              for (int ab = 0; ab < 4; ++ab) std::memcpy(dst + 2 * ab, r[ab] + 2 * l, 2 * sizeof(float));
          }
      // Pack X's rows in groups of 4 over this chunk's voxels, then the GEMM by column blocks of dW.
      std::vector<float> a = pack_a(s.c_in, cols, xn, vin, false);
      const index_t col_chunks = std::max<index_t>(1, std::min<index_t>(4 * omp_get_max_threads(), m / (4 * kNR)));
      const index_t step = round_up((m + col_chunks - 1) / col_chunks, kNR);
#pragma omp parallel for schedule(dynamic, 1) if (col_chunks > 1 && worth_threads(s.flops() * nz / s.d))
      for (index_t j = 0; j < m; j += step)
        gemm_packed(s.c_in, std::min(step, m - j), cols, a.data(), gt + j, ldg, dw + j, m, true);
    }
}

}  // namespace sse::cpu::avx2
