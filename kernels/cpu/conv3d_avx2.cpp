// Packed direct 3×3×3 convolution with AVX2+FMA micro-kernels (see kernels/cpu/conv3d_avx2.h).
//
// The volume is cut into slabs of whole output z-planes. Each slab's input is copied once into a
// zero-padded buffer, (nz+2) × (h+2) × (w+2) per channel, so that in the padded grid every output
// site q = z·P + y·Wp + x (Wp = w+2, P = (h+2)·Wp) reads its 27 inputs at q + kz·P + ky·Wp + kx: one
// flat index, no bounds. Sites with x ≥ w or y ≥ h are computed and thrown away (2/w of the work), so
// the micro-kernels run over long contiguous ranges of q with no edge cases.
//
// Forward (and backward-data, the same convolution with the weights transposed and flipped):
// C (c_out × sites) = A (c_out × c_in·27) · B, where B is never materialized — the micro-kernel loads
// its 24 sites × 27 taps straight from the padded slab with unaligned loads. Micro-tile: 4 output
// channels × 24 sites = 12 ymm accumulators; per (channel, tap): 3 loads of B, 4 broadcasts of A,
// 12 FMAs. Blocking: input channels in blocks of kc (the B of one tile, kc × 9 rows, stays in L1 while
// every group of 4 output channels passes over it; the A block, c_out × kc × 27, stays in L2).
// Threads take whole slabs (dynamic schedule); each output value is computed by one thread in a fixed
// order, so results do not depend on the thread count.
//
// Backward-weight: dW[o, c, tap] = Σ_q dy[o, q] · x_pad[c, q + off(tap)], with dy transposed onto the
// padded grid's sites in blocks of 16 channels (dyᵀ[q][16], zeros on the discarded sites), so that a
// vector holds 8 output channels: micro-tile 16 output channels × 6 taps (kx = 0..2 of two (c, kz,
// ky) rows) = 12 ymm accumulators, each lane its own dW element (no horizontal sums); per site: 2
// loads of dyᵀ, 6 broadcasts of x, 12 FMAs. Threads split the (16 outputs, 4 inputs) tiles of each
// slab; each tile sums over the slab in a fixed order, so again the thread count does not change the
// result.
#include "kernels/cpu/conv3d_avx2.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/avx2_asm.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/avx2_micro.h"

namespace sse::cpu::avx2 {

bool supported() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

namespace {

constexpr int kMR = 4;    // output channels per micro-tile
constexpr int kNR = 24;   // sites per forward micro-tile (3 ymm)

index_t round_up(index_t v, index_t m) { return (v + m - 1) / m * m; }

// Geometry of one slab of output planes [z0, z0 + nz) in the padded grid.
struct Slab {
  index_t h, w, wp, p;   // p = (h+2)·(w+2): one padded plane
  index_t z0, nz;
  index_t sites;         // last valid site + 1: (nz−1)·P + (h−1)·Wp + w
  index_t plane_sites;   // sites of one plane up to its last valid one: (h−1)·Wp + w
  index_t cs;            // channel stride of the padded slab buffer (floats)
  // Forward tiles of kNR sites. Per plane (tpp tiles from z·P, skipping the two pad rows between
  // planes) when a plane's tiles fit in P, else (tiny planes) over the whole slab (tpp = 0).
  index_t tpp, tiles;
};

// First site of forward tile t.
inline index_t tile_site(const Slab& g, index_t t) { return g.tpp ? (t / g.tpp) * g.p + (t % g.tpp) * kNR : t * kNR; }

Slab make_slab(const Conv3dShape& s, index_t z0, index_t nz) {
  Slab g{};
  g.h = s.h;
  g.w = s.w;
  g.wp = s.w + 2;
  g.p = (s.h + 2) * g.wp;
  g.z0 = z0;
  g.nz = nz;
  g.sites = (nz - 1) * g.p + (s.h - 1) * g.wp + s.w;
  g.plane_sites = (s.h - 1) * g.wp + s.w;
  const index_t tpp = (g.plane_sites + kNR - 1) / kNR;
  g.tpp = tpp * kNR <= g.p ? tpp : 0;
  g.tiles = g.tpp ? nz * tpp : (g.sites + kNR - 1) / kNR;
  // The last tile may read up to kNR − 1 sites past `sites`, plus the largest tap offset (which
  // brings `sites` exactly to the (nz+2)·P extent). Keep the stride an odd multiple of 16 floats so that the channels
  // of one tile do not all fall into the same L1 sets.
  index_t cs = round_up((nz + 2) * g.p + 32, 16);
  if ((cs / 16) % 2 == 0) cs += 16;
  g.cs = cs;
  return g;
}

// Padded copy of channels [0, c) of one image, planes z0 − 1 .. z0 + nz, into xp (channel stride cs).
void pad_slab(const ConvChannels& x, index_t c, index_t d, const Slab& g, float* xp) {
  for (index_t ch = 0; ch < c; ++ch) {
    float* dst = xp + ch * g.cs;
    const float* xc = x.at(ch);
    for (index_t pz = 0; pz < g.nz + 2; ++pz) {
      const index_t iz = g.z0 - 1 + pz;
      float* plane = dst + pz * g.p;
      if (iz < 0 || iz >= d) {
        std::memset(plane, 0, static_cast<std::size_t>(g.p) * sizeof(float));
        continue;
      }
      std::memset(plane, 0, static_cast<std::size_t>(g.wp) * sizeof(float));  // top pad row
      const float* src = xc + iz * g.h * g.w;
      for (index_t iy = 0; iy < g.h; ++iy) {
        float* row = plane + (iy + 1) * g.wp;
        row[0] = 0.0f;
        std::memcpy(row + 1, src + iy * g.w, static_cast<std::size_t>(g.w) * sizeof(float));
        row[g.w + 1] = 0.0f;
      }
      std::memset(plane + (g.h + 1) * g.wp, 0, static_cast<std::size_t>(g.wp) * sizeof(float));  // bottom
    }
    std::memset(dst + (g.nz + 2) * g.p, 0, static_cast<std::size_t>(g.cs - (g.nz + 2) * g.p) * sizeof(float));
  }
}

// The sites of C (channel stride ldc, the slab's padded-grid layout) back to y's planes, plus bias,
// then the epilogue (ep.scale null: none). Same float operations as conv + batchnorm_forward_eval.
void compact_slab(const float* c, index_t ldc, index_t ch_out, index_t d, const Slab& g, const float* bias,
                  const ConvEpilogue& ep, float* y) {
  const index_t vol = d * g.h * g.w;
  for (index_t o = 0; o < ch_out; ++o) {
    const float bo = bias ? bias[o] : 0.0f;
    const float sc = ep.scale ? ep.scale[o] : 1.0f, sh = ep.scale ? ep.shift[o] : 0.0f;
    for (index_t z = 0; z < g.nz; ++z)
      for (index_t yy = 0; yy < g.h; ++yy) {
        const float* src = c + o * ldc + z * g.p + yy * g.wp;
        float* dst = y + o * vol + ((g.z0 + z) * g.h + yy) * g.w;
        if (!ep.scale) {
          for (index_t x = 0; x < g.w; ++x) dst[x] = src[x] + bo;
        } else if (ep.relu) {
          for (index_t x = 0; x < g.w; ++x) {
            const float v = (src[x] + bo) * sc + sh;
            dst[x] = v < 0.0f ? 0.0f : v;
          }
        } else {
          for (index_t x = 0; x < g.w; ++x) dst[x] = (src[x] + bo) * sc + sh;
        }
      }
  }
}

// A packed for the forward micro-kernel: [group of 4 outputs][input channel][tap][4], zero rows
// where c_out is not a multiple of 4. Backward-data packs the transposed, flipped weights:
// A'[c][o][tap] = w[o][c][26 − tap].
std::vector<float> pack_weights(const Conv3dShape& s, const float* w, bool transpose_flip) {
  const index_t m = transpose_flip ? s.c_in : s.c_out, kin = transpose_flip ? s.c_out : s.c_in;
  const index_t groups = (m + kMR - 1) / kMR;
  std::vector<float> a(static_cast<std::size_t>(groups * kin * 27 * kMR), 0.0f);
  for (index_t o = 0; o < m; ++o)
    for (index_t c = 0; c < kin; ++c)
      for (int t = 0; t < 27; ++t) {
        const float v = transpose_flip ? w[(c * s.c_in + o) * 27 + (26 - t)] : w[(o * s.c_in + c) * 27 + t];
        a[static_cast<std::size_t>((((o / kMR) * kin + c) * 27 + t) * kMR + o % kMR)] = v;
      }
  return a;
}

// Slabs of whole output planes: as many planes as the workspace allows, at least 4 slabs per thread
// (so a thread slowed by other work on the machine does not hold up the rest: the dynamic schedule
// hands its share to the others), a multiple of the thread count, planes shared evenly.
index_t slab_count(const Conv3dShape& s, index_t c_in, index_t c_out, index_t threads, index_t budget_floats) {
  const index_t p = (s.h + 2) * (s.w + 2);
  const index_t nz_max = std::max<index_t>(1, (budget_floats / p - 2 * c_in) / (c_in + c_out));
  index_t ns = std::max((s.d + nz_max - 1) / nz_max, 4 * threads);
  ns = (ns + threads - 1) / threads * threads;
  return std::min(ns, s.d);
}

#pragma GCC push_options
#pragma GCC target("avx2,fma")

// acc (MR × 24 sites) (+)= Σ_{c < kc, tap} a[c][tap][m] · b[c·cs + off(tap) + j]
template <int MR>
__attribute__((always_inline)) inline void micro_fwd(const float* __restrict a, const float* __restrict b, index_t cs,
                                                     int kc, index_t p, index_t wp, float* __restrict c, index_t ldc,
                                                     bool accumulate) {
  __m256 acc[MR][3];
  tile_load<MR>(acc, c, ldc, accumulate);
  for (int ci = 0; ci < kc; ++ci) {
    const float* bc = b + ci * cs;
#pragma GCC unroll 3
    for (int kz = 0; kz < 3; ++kz) {
#pragma GCC unroll 3
      for (int ky = 0; ky < 3; ++ky) {
        const float* r = bc + kz * p + ky * wp;
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          const __m256 b0 = _mm256_loadu_ps(r + kx), b1 = _mm256_loadu_ps(r + kx + 8), b2 = _mm256_loadu_ps(r + kx + 16);
          tile_fma<MR>(acc, a, b0, b1, b2);
          a += kMR;
        }
      }
    }
  }
  tile_store<MR>(acc, c, ldc);
}

// The same for MR = 4 in assembly: with 12 accumulators, 3 B vectors and a broadcast A the tile
// needs all 16 ymm registers, and the compiler, one short, re-loads B inside each FMA (16 loads per
// 12 FMAs instead of 7). One input channel per loop iteration: 27 taps, each 3 loads of B from the
// plane bases z0..z2 (+ ky·Wp through the index register), 4 broadcasts of A, 12 FMAs.
#define SSE_B3(Z, YI, KX)                                         \
  "vmovups " #KX "*4(%[" #Z "]" YI "), %%ymm12\n\t"               \
  "vmovups " #KX "*4+32(%[" #Z "]" YI "), %%ymm13\n\t"            \
  "vmovups " #KX "*4+64(%[" #Z "]" YI "), %%ymm14\n\t"
#define SSE_A4(T, M, R0, R1, R2)                                  \
  "vbroadcastss (" #T ")*16+" #M "*4(%[a]), %%ymm15\n\t"          \
  "vfmadd231ps %%ymm12, %%ymm15, %%" #R0 "\n\t"                     \
  "vfmadd231ps %%ymm13, %%ymm15, %%" #R1 "\n\t"                     \
  "vfmadd231ps %%ymm14, %%ymm15, %%" #R2 "\n\t"
#define SSE_TAP(Z, YI, KX, T)                                      \
  SSE_B3(Z, YI, KX)                                                \
  SSE_A4(T, 0, ymm0, ymm1, ymm2)                                   \
  SSE_A4(T, 1, ymm3, ymm4, ymm5)                                   \
  SSE_A4(T, 2, ymm6, ymm7, ymm8)                                   \
  SSE_A4(T, 3, ymm9, ymm10, ymm11)
#define SSE_ROW(Z, YI, T0) SSE_TAP(Z, YI, 0, T0) SSE_TAP(Z, YI, 1, T0 + 1) SSE_TAP(Z, YI, 2, T0 + 2)
#define SSE_PLANE(Z, T0) SSE_ROW(Z, "", T0) SSE_ROW(Z, ",%[w4],1", T0 + 3) SSE_ROW(Z, ",%[w4],2", T0 + 6)

template <int MR>
__attribute__((noinline)) void micro_fwd_call(const float* a, const float* b, index_t cs, int kc, index_t p, index_t wp,
                                              float* c, index_t ldc, bool accumulate) {
  if constexpr (MR != 4) {
    micro_fwd<MR>(a, b, cs, kc, p, wp, c, ldc, accumulate);
  } else {
    float* c0 = c;
    float* c1 = c + ldc;
    float* c2 = c + 2 * ldc;
    float* c3 = c + 3 * ldc;
    index_t n = kc;
    const index_t cs4 = cs * 4, p4 = p * 4, w4 = wp * 4;
    const float* z1 = nullptr;
    const float* z2 = nullptr;
    const index_t acc = accumulate ? 1 : 0;
    __asm__ volatile(
        SSE_ASM_C4X24_INIT
        "lea (%[z0],%[p4]), %[z1]\n\t"
        "lea (%[z1],%[p4]), %[z2]\n\t"
        SSE_PLANE(z0, 0) SSE_PLANE(z1, 9) SSE_PLANE(z2, 18)
        "add %[cs4], %[z0]\n\t"
        "add $432, %[a]\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        SSE_ASM_C4X24_STORE
        : [a] "+r"(a), [z0] "+r"(b), [z1] "+&r"(z1), [z2] "+&r"(z2), [n] "+r"(n)
        : [acc] "r"(acc), [cs4] "r"(cs4), [p4] "r"(p4), [w4] "r"(w4), [c0] "r"(c0), [c1] "r"(c1), [c2] "r"(c2), [c3] "r"(c3)
        : SSE_ASM_YMM_CLOBBERS, "cc", "memory");
  }
}
#undef SSE_PLANE
#undef SSE_ROW
#undef SSE_TAP
#undef SSE_A4
#undef SSE_B3

// C (m × tiles·24, channel stride ldc) = A · B over one slab; xp the padded slab of kin channels.
// Blocking (GotoBLAS-style, B never packed): tile blocks of tb tiles × m-blocks of gpb groups of 4
// outputs × input-channel blocks of kc. Within a block the C block (gpb·4 × tb·24) stays in L2 across
// the kc blocks, the A block (gpb·4 × kc × 27) in L2 across the tiles, and one tile's B (kc × 9 rows
// of 26 floats) in L1 across the groups.
__attribute__((noinline)) void forward_slab(const Slab& g, index_t kin, index_t m, const float* apack, const float* xp,
                                            float* c, index_t ldc, index_t kc_max) {
  const index_t tiles = g.tiles, groups = (m + kMR - 1) / kMR;
  const index_t kc_blocks = (kin + kc_max - 1) / kc_max, kc = (kin + kc_blocks - 1) / kc_blocks;
  const index_t gpb_max = std::max<index_t>(1, (160 * 1024 / 4) / (kc * 27 * kMR));
  const index_t m_blocks = (groups + gpb_max - 1) / gpb_max, gpb = (groups + m_blocks - 1) / m_blocks;
  const index_t tb = std::max<index_t>(1, (64 * 1024 / 4) / (gpb * kMR * kNR));
  for (index_t t0 = 0; t0 < tiles; t0 += tb) {
    const index_t t1 = std::min(tiles, t0 + tb);
    for (index_t g0 = 0; g0 < groups; g0 += gpb) {
      const index_t g1 = std::min(groups, g0 + gpb);
      for (index_t c0 = 0; c0 < kin; c0 += kc) {
        const int kcb = static_cast<int>(std::min(kc, kin - c0));
        const bool accumulate = c0 > 0;
        for (index_t t = t0; t < t1; ++t) {
          const index_t q = tile_site(g, t);
          const float* b = xp + c0 * g.cs + q;
          if (t + 1 < t1) {  // the next tile's B into L1 while this one computes
            const float* bn = xp + c0 * g.cs + tile_site(g, t + 1);
            for (int ci = 0; ci < kcb; ++ci)
              for (int r = 0; r < 9; ++r) {
                const char* row = reinterpret_cast<const char*>(bn + ci * g.cs + (r / 3) * g.p + (r % 3) * g.wp);
                _mm_prefetch(row, _MM_HINT_T0);
                _mm_prefetch(row + 64, _MM_HINT_T0);
              }
          }
          for (index_t gi = g0; gi < g1; ++gi) {
            const float* a = apack + (gi * kin + c0) * 27 * kMR;
            float* cc = c + gi * kMR * ldc + q;
            switch (std::min<index_t>(kMR, m - gi * kMR)) {
              case 4: micro_fwd_call<4>(a, b, g.cs, kcb, g.p, g.wp, cc, ldc, accumulate); break;
              case 3: micro_fwd_call<3>(a, b, g.cs, kcb, g.p, g.wp, cc, ldc, accumulate); break;
              case 2: micro_fwd_call<2>(a, b, g.cs, kcb, g.p, g.wp, cc, ldc, accumulate); break;
              default: micro_fwd_call<1>(a, b, g.cs, kcb, g.p, g.wp, cc, ldc, accumulate); break;
            }
          }
        }
      }
    }
  }
}

// Backward-weight micro-kernel: 16 output channels (2 ymm) × 6 taps (kx = 0..2 of two rows of x),
// summed over n sites: part[i][t][8] += Σ_q dyt[q][8i .. 8i+7] · x_t[q] with x_t[q] = x0[q + t] (t < 3)
// or x1[q + t − 3]. Per site: 2 loads of dyᵀ, 6 broadcasts of x, 12 FMAs; the dyᵀ rows (64 bytes per
// site) stay in L1 across the row pairs of a tile.
// In assembly: the compiler, with all 16 ymm registers live, spills an accumulator.
__attribute__((noinline)) void micro_wgt16x6(const float* dyt, const float* x0, const float* x1, index_t n,
                                             float* part) {
  if (n <= 0) return;
  __asm__ volatile(
      "vmovaps (%[p]), %%ymm0\n\t vmovaps 32(%[p]), %%ymm1\n\t vmovaps 64(%[p]), %%ymm2\n\t"
      "vmovaps 96(%[p]), %%ymm3\n\t vmovaps 128(%[p]), %%ymm4\n\t vmovaps 160(%[p]), %%ymm5\n\t"
      "vmovaps 192(%[p]), %%ymm6\n\t vmovaps 224(%[p]), %%ymm7\n\t vmovaps 256(%[p]), %%ymm8\n\t"
      "vmovaps 288(%[p]), %%ymm9\n\t vmovaps 320(%[p]), %%ymm10\n\t vmovaps 352(%[p]), %%ymm11\n\t"
      ".p2align 4\n\t"
      "1:\n\t"
      "vmovaps (%[d]), %%ymm12\n\t"
      "vmovaps 32(%[d]), %%ymm13\n\t"
      "vbroadcastss (%[x0]), %%ymm14\n\t"
      "vfmadd231ps %%ymm14, %%ymm12, %%ymm0\n\t vfmadd231ps %%ymm14, %%ymm13, %%ymm6\n\t"
      "vbroadcastss 4(%[x0]), %%ymm15\n\t"
      "vfmadd231ps %%ymm15, %%ymm12, %%ymm1\n\t vfmadd231ps %%ymm15, %%ymm13, %%ymm7\n\t"
      "vbroadcastss 8(%[x0]), %%ymm14\n\t"
      "vfmadd231ps %%ymm14, %%ymm12, %%ymm2\n\t vfmadd231ps %%ymm14, %%ymm13, %%ymm8\n\t"
      "vbroadcastss (%[x1]), %%ymm15\n\t"
      "vfmadd231ps %%ymm15, %%ymm12, %%ymm3\n\t vfmadd231ps %%ymm15, %%ymm13, %%ymm9\n\t"
      "vbroadcastss 4(%[x1]), %%ymm14\n\t"
      "vfmadd231ps %%ymm14, %%ymm12, %%ymm4\n\t vfmadd231ps %%ymm14, %%ymm13, %%ymm10\n\t"
      "vbroadcastss 8(%[x1]), %%ymm15\n\t"
      "vfmadd231ps %%ymm15, %%ymm12, %%ymm5\n\t vfmadd231ps %%ymm15, %%ymm13, %%ymm11\n\t"
      "add $64, %[d]\n\t"
      "add $4, %[x0]\n\t"
      "add $4, %[x1]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vmovaps %%ymm0, (%[p])\n\t vmovaps %%ymm1, 32(%[p])\n\t vmovaps %%ymm2, 64(%[p])\n\t"
      "vmovaps %%ymm3, 96(%[p])\n\t vmovaps %%ymm4, 128(%[p])\n\t vmovaps %%ymm5, 160(%[p])\n\t"
      "vmovaps %%ymm6, 192(%[p])\n\t vmovaps %%ymm7, 224(%[p])\n\t vmovaps %%ymm8, 256(%[p])\n\t"
      "vmovaps %%ymm9, 288(%[p])\n\t vmovaps %%ymm10, 320(%[p])\n\t vmovaps %%ymm11, 352(%[p])\n\t"
      "vzeroupper\n\t"
      : [d] "+r"(dyt), [x0] "+r"(x0), [x1] "+r"(x1), [n] "+r"(n)
      : [p] "r"(part)
      : SSE_ASM_YMM_CLOBBERS, "cc", "memory");
}

#pragma GCC pop_options

constexpr index_t kWgtOut = 16;     // output channels per backward-weight tile (2 ymm)
constexpr index_t kWgtCb = 4;       // input channels per backward-weight tile: 36 rows of x, 18 pairs
constexpr index_t kWgtChunk2 = 256; // sites per micro-kernel call: a 16 KB dyᵀ chunk in L1

// dy of one image onto the slab's sites, transposed and blocked by 16 output channels:
// dyt[ob][q][16], zeros on discarded sites and for channels past c_out. Blocks [ob0, ob1).
void transpose_dy_slab(const float* dy, index_t c_out, index_t d, const Slab& g, index_t len, index_t ob0, index_t ob1,
                       float* dyt) {
  const index_t vol = d * g.h * g.w;
  for (index_t ob = ob0; ob < ob1; ++ob) {
    float* blk = dyt + ob * len * kWgtOut;
    std::memset(blk, 0, static_cast<std::size_t>(len * kWgtOut) * sizeof(float));
    for (index_t j = 0; j < kWgtOut && ob * kWgtOut + j < c_out; ++j) {
      const float* src = dy + (ob * kWgtOut + j) * vol;
      for (index_t z = 0; z < g.nz; ++z)
        for (index_t y = 0; y < g.h; ++y) {
          const float* row = src + ((g.z0 + z) * g.h + y) * g.w;
          float* dst = blk + (z * g.p + y * g.wp) * kWgtOut + j;
          for (index_t x = 0; x < g.w; ++x) dst[x * kWgtOut] = row[x];
        }
    }
  }
}

// One backward-weight tile: output channels [16·ob, 16·ob + 16) × input channels [c0, c0 + cb), all
// 27 taps, summed over the slab's sites (plane by plane, skipping the pad rows between planes) and
// added to dw. part: ⌈9·cb/2⌉ · 96 floats, 32-byte aligned.
void weight_tile(const Conv3dShape& s, const Slab& g, const float* dyt, index_t len, const float* xp, index_t ob,
                 index_t c0, index_t cb, float* part, float* dw) {
  const index_t rows = 9 * cb, pairs = (rows + 1) / 2;
  std::fill(part, part + pairs * 96, 0.0f);
  // Row r of the tile: input channel c0 + r / 9, (kz, ky) = ((r % 9) / 3, r % 3).
  auto row_ptr = [&](index_t r) {
    const index_t c = c0 + r / 9, kz = (r % 9) / 3, ky = r % 3;
    return xp + c * g.cs + kz * g.p + ky * g.wp;
  };
  const float* blk = dyt + ob * len * kWgtOut;
  for (index_t z = 0; z < g.nz; ++z) {
    const index_t z_begin = z * g.p, z_end = z_begin + g.plane_sites;
    for (index_t q0 = z_begin; q0 < z_end; q0 += kWgtChunk2) {
      const index_t n = std::min(kWgtChunk2, z_end - q0);
      for (index_t pr = 0; pr < pairs; ++pr) {
        const index_t r0 = 2 * pr, r1 = std::min(2 * pr + 1, rows - 1);  // an odd last row pairs with itself
        micro_wgt16x6(blk + q0 * kWgtOut, row_ptr(r0) + q0, row_ptr(r1) + q0, n, part + pr * 96);
      }
    }
  }
  for (index_t r = 0; r < rows; ++r) {
    const index_t c = c0 + r / 9, t9 = r % 9;
    const float* pp = part + (r / 2) * 96 + (r % 2) * 24;  // taps 0..2 or 3..5 of the pair
    for (index_t i = 0; i < 2; ++i)
      for (index_t lane = 0; lane < 8; ++lane) {
        const index_t o = ob * kWgtOut + i * 8 + lane;
        if (o >= s.c_out) continue;
        for (index_t kx = 0; kx < 3; ++kx) dw[(o * s.c_in + c) * 27 + t9 * 3 + kx] += pp[i * 48 + kx * 8 + lane];
      }
  }
}

// Input-channel block of the forward micro-kernel: the B of one tile (kc × 9 rows of ~26 floats)
// within L1.
constexpr index_t kForwardKc = 16;

// Forward convolution of n images with packed weights (kin input channels, m outputs).
void run_forward(const Conv3dShape& s, index_t kin, index_t m, const std::vector<float>& apack, const float* x1,
                 index_t c1, const float* x2, const float* bias, const ConvEpilogue& ep, float* y) {
  const index_t threads = omp_get_max_threads();
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  const index_t ns = slab_count(s, kin, m, threads, budget), items = s.n * ns, vol = s.voxels();
#pragma omp parallel for schedule(dynamic, 1) if (items > 1 && m * kin * 27 * vol > (1 << 22))
  for (index_t it = 0; it < items; ++it) {
    const index_t n = it / ns, si = it % ns;
    const index_t z0 = s.d * si / ns, z1 = s.d * (si + 1) / ns;
    const Slab g = make_slab(s, z0, z1 - z0);
    const index_t ldc = round_up(round_up(g.sites, kNR), 16) + 16;
    float* xp = scratch(static_cast<std::size_t>(kin * g.cs), 0);
    float* c = scratch(static_cast<std::size_t>(round_up(m, kMR) * ldc), 1);
    pad_slab(ConvChannels{x1, c1, x2, vol}.image(n, kin), kin, s.d, g, xp);
    forward_slab(g, kin, m, apack.data(), xp, c, ldc, kForwardKc);
    compact_slab(c, ldc, m, s.d, g, bias, ep, y + n * m * vol);
  }
}

}  // namespace

void conv3_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y) {
  run_forward(s, s.c_in, s.c_out, pack_weights(s, w, false), x, s.c_in, nullptr, b, ConvEpilogue{}, y);
}

void conv3_forward_fused(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                         const float* b, const ConvEpilogue& ep, float* y) {
  run_forward(s, s.c_in, s.c_out, pack_weights(s, w, false), x1, c_in1, x2, b, ep, y);
}

void conv3_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx) {
  run_forward(s, s.c_out, s.c_in, pack_weights(s, w, true), dy, s.c_out, nullptr, nullptr, ConvEpilogue{}, dx);
}

void conv3_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw) {
  std::fill(dw, dw + s.c_out * s.c_in * 27, 0.0f);
  const index_t budget = static_cast<index_t>(conv_workspace_bytes() / sizeof(float));
  const index_t obs = (s.c_out + kWgtOut - 1) / kWgtOut, cbs = (s.c_in + kWgtCb - 1) / kWgtCb, tiles = obs * cbs;
  // One shared slab (padded x, transposed dy) at a time, every thread working on it; as few slabs as
  // the workspace allows (each costs a few barriers).
  const index_t p = (s.h + 2) * (s.w + 2);
  const index_t nz_max = std::max<index_t>(1, (budget / p - 2 * s.c_in) / (s.c_in + obs * kWgtOut));
  const index_t ns = (s.d + nz_max - 1) / nz_max, vol = s.voxels();
  for (index_t n = 0; n < s.n; ++n)
    for (index_t si = 0; si < ns; ++si) {
      const index_t z0 = s.d * si / ns, z1 = s.d * (si + 1) / ns;
      const Slab g = make_slab(s, z0, z1 - z0);
      const index_t len = g.sites + 8;
      float* xp = scratch(static_cast<std::size_t>(s.c_in * g.cs), 0);
      float* dyt = scratch(static_cast<std::size_t>(obs * len * kWgtOut), 1);
#pragma omp parallel if (2.0 * s.c_out * s.c_in * 27 * (z1 - z0) * s.h * s.w > 4e6)
      {
#pragma omp for schedule(static) nowait
        for (index_t c = 0; c < s.c_in; ++c)
          pad_slab(ConvChannels{x + (n * s.c_in + c) * vol, 1, nullptr, vol}, 1, s.d, g, xp + c * g.cs);
#pragma omp for schedule(static)
        for (index_t ob = 0; ob < obs; ++ob) transpose_dy_slab(dy + n * s.c_out * vol, s.c_out, s.d, g, len, ob, ob + 1, dyt);
        std::vector<float> part_buf(static_cast<std::size_t>((9 * kWgtCb + 1) / 2 * 96 + 8));
        float* part = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(part_buf.data()) + 31) & ~std::uintptr_t{31});
#pragma omp for schedule(dynamic, 1)
        for (index_t t = 0; t < tiles; ++t) {
          const index_t ob = t / cbs, c0 = (t % cbs) * kWgtCb;
          weight_tile(s, g, dyt, len, xp, ob, c0, std::min(kWgtCb, s.c_in - c0), part, dw);
        }
      }
    }
}

}  // namespace sse::cpu::avx2
