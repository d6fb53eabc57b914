// kernels/cuda/wgrad_brick.cu — the brick weight-gradient kernels (contract and tiling in
// wgrad_brick.cuh). One kernel template; a Geometry class says where the B operand comes from
// (conv3: the x halo; up2: the de-interleaved dy rows), a Format how values are stored (fp32 words,
// TF32-rounded or not, or BF16 pairs), and the Math policy how a warp multiplies.
#include "kernels/cuda/wgrad_brick.cuh"

#include "kernels/cuda/brick.cuh"
#include "kernels/cuda/igemm.cuh"
#include "kernels/cuda/workspace.cuh"

namespace sse::cuda {
namespace {

// How shared memory holds values: fp32 words (Simt, TF32: copied as they are by cp.async, TF32
// rounded when a fragment is loaded) or BF16 pairs (staged through registers, rounded when packed).
// A k-step is one mma's K: 8 voxels (fp32 words) or 16 (pairs: word j of a 16-column row holds the
// voxels j and j + 8). Either way step s of a brick starts at word 8·s of an A row.
template <BrickMath Math> struct Format {
  static constexpr bool kPairs = Math == BrickMath::BF16;
  static constexpr int kRowWords = kPairs ? 8 : 16;  // words per 16-voxel row
  static constexpr int kStepVoxels = kPairs ? 16 : 8;
};

// The kernel's arguments. The bricked volume is d × h × w (conv3: the volume; up2: the input).
struct BrickProblem {
  BrickSrc a_src;      // (images, M, d·h·w): dy (conv3) or x (up2; bfloat16 possible under BF16)
  BrickSrc b_src;      // (images, Cn, volume of B): x (conv3; bfloat16 possible) or dy (up2, 8·d·h·w)
  float* out;          // slices × (M · Cn · taps)
  int M, Cn;           // rows of A, channels of B
  int d, h, w;
  int by, bx;          // bricks per column (ceil(h / KY)) and per row (ceil(w / 16))
  index_t bricks;      // images · d · by · bx
  index_t chunk;       // bricks per slice
};

// ---- geometries: where B_t[k, c] lives in shared memory and how it is staged -------------------------

// conv3: per channel the x halo of the brick, 3 planes × (KY + 2) rows × kRow words. fp32: the 18
// values x0−1 .. x0+16; pairs: word j = (x0−1+j, x0+7+j), j < 10. Tap (tz, ty, tx) of voxel
// (ky, kx) reads word (tz, ky + ty, kx + tx): a warp's taps are the three tx of one (tz, ty).
template <int KY, bool Pairs> struct Conv3Geometry {
  static constexpr int kTaps = 27, kWarpTaps = 3, kTapStride = 1;
  static constexpr int kRow = Pairs ? 10 : 18, kPlane = (KY + 2) * kRow, kWords = 3 * kPlane;
  static constexpr int ld = spread(kWords);
  __device__ static int warp_tap_base(int wt) { return wt / 3 * kPlane + wt % 3 * kRow; }
  __device__ static int step_offset(int s) { return Pairs ? s * kRow : (s >> 1) * kRow + (s & 1) * 8; }

  // Word e (< kWords · BC) of the channel tile starting at c0: where its value (its pair's second
  // value: `second`) lives in x, −1 for zero padding; and its shared-memory index.
  __device__ static const BrickSrc& tensor(const BrickProblem& p) { return p.b_src; }
  __device__ static index_t offset(const BrickProblem& p, const BrickPos& bp, int c0, int e, bool second) {
    const int c = e / kWords, rem = e % kWords, row = rem / kRow;
    const int zi = bp.z + row / (KY + 2) - 1, yi = bp.y0 + row % (KY + 2) - 1;
    const int xi = bp.x0 + rem % kRow - 1 + (second ? 8 : 0);
    const bool ok = c0 + c < p.Cn && zi >= 0 && zi < p.d && yi >= 0 && yi < p.h && xi >= 0 && xi < p.w;
    return ok ? ((bp.img * p.Cn + c0 + c) * p.d + zi) * index_t{p.h} * p.w + index_t{yi} * p.w + xi : -1;
  }
  __device__ static int index(int e) { return e / kWords * ld + e % kWords; }
};

// up2: per channel and tap (a, b, c) the dy values dy[2z + a, 2(y0 + ky) + b, 2(x0 + kx) + c] as
// KY rows of kRow words (fp32: kx = 0..15; pairs: word j = (j, j + 8)). Staged along the output
// rows (consecutive threads, consecutive dy columns), de-interleaved into the taps.
template <int KY, bool Pairs> struct Up2Geometry {
  static constexpr int kTaps = 8, kWarpTaps = 4;
  static constexpr int kRow = Pairs ? 8 : 16, kTapWords = KY * kRow, kWords = 8 * kTapWords;
  static constexpr int kTapStride = kTapWords;
  static constexpr int ld = spread(kWords);
  static constexpr int kOut = 2 * kRow;  // dy columns a staged (a, ky, b) row covers, per word set
  __device__ static int warp_tap_base(int wt) { return wt * kWarpTaps * kTapWords; }
  __device__ static int step_offset(int s) { return 8 * s; }

  // Word e's coordinates: channel c, tap, row ky and column word j (e runs along dy's columns).
  struct Coord {
    int c, tap, ky, j, col;  // col: dy column offset 2·j + (tap & 1) from 2·x0
  };
  __device__ static Coord coord(int e) {
    const int c = e / kWords, rem = e % kWords;
    const int a = rem / (KY * 2 * kOut), r2 = rem % (KY * 2 * kOut);
    const int ky = r2 / (2 * kOut), r3 = r2 % (2 * kOut), b = r3 / kOut, xo = r3 % kOut;
    return Coord{c, a * 4 + b * 2 + (xo & 1), ky, xo >> 1, xo};
  }
  __device__ static const BrickSrc& tensor(const BrickProblem& p) { return p.b_src; }
  __device__ static index_t offset(const BrickProblem& p, const BrickPos& bp, int c0, int e, bool second) {
    const Coord k = coord(e);
    const int y = bp.y0 + k.ky, dx = second ? 8 : 0;
    if (c0 + k.c >= p.Cn || y >= p.h || bp.x0 + k.j + dx >= p.w) return -1;
    const int oh = 2 * p.h, ow = 2 * p.w;
    return ((bp.img * p.Cn + c0 + k.c) * (2 * p.d) + 2 * bp.z + (k.tap >> 2)) * index_t{oh} * ow +
           index_t{2 * y + ((k.tap >> 1) & 1)} * ow + 2 * bp.x0 + k.col + 2 * dx;
  }
  __device__ static int index(int e) {
    const Coord k = coord(e);
    return k.c * ld + k.tap * kTapWords + k.ky * kRow + k.j;
  }
};

// ---- A staging (both geometries): the BM × brick values of rows m0.. of a (images, M, vol) tensor ----

template <int KY, class F> struct ATile {
  static constexpr int kRowWords = KY * F::kRowWords;  // words per row of the tile
  static constexpr int ld = spread(kRowWords);
  __device__ static const BrickSrc& tensor(const BrickProblem& p) { return p.a_src; }
  __device__ static index_t offset(const BrickProblem& p, const BrickPos& bp, int m0, int e, bool second) {
    const int r = e / kRowWords, rem = e % kRowWords, ky = rem / F::kRowWords;
    const int y = bp.y0 + ky, x = bp.x0 + rem % F::kRowWords + (second ? 8 : 0);
    if (m0 + r >= p.M || y >= p.h || x >= p.w) return -1;
    return ((bp.img * p.M + m0 + r) * p.d + bp.z) * index_t{p.h} * p.w + index_t{y} * p.w + x;
  }
  __device__ static int index(int e) { return e / kRowWords * ld + e % kRowWords; }
};

// ---- configuration -----------------------------------------------------------------------------------

template <template <int, bool> class Geo, int KY_, int WM_, int FM_, int FN_, BrickMath Math_> struct BrickCfg {
  static constexpr BrickMath Math = Math_;
  using F = Format<Math>;
  using G = Geo<KY_, F::kPairs>;
  using A = ATile<KY_, F>;
  static constexpr int KY = KY_, WM = WM_, FM = FM_, FN = FN_;
  static constexpr int FT = G::kWarpTaps, WT = G::kTaps / FT;
  static constexpr int kThreads = 32 * WM * WT;
  static constexpr int BM = WM * FM * 16, BC = FN * 8;
  static constexpr int kAWords = BM * A::kRowWords, kBWords = BC * G::kWords;
  static constexpr int kStage = BM * A::ld + BC * G::ld;  // words of one pipeline stage
  static constexpr int NA = (kAWords + kThreads - 1) / kThreads, NB = (kBWords + kThreads - 1) / kThreads;
  static constexpr int kSteps = KY * kBrickX / F::kStepVoxels;
  static constexpr std::size_t kSmemBytes = 2 * static_cast<std::size_t>(kStage) * sizeof(std::uint32_t);
  static_assert(G::kTaps % FT == 0 && kThreads <= 1024, "whole warps over the taps");
};

// ---- the warp's multiply of one k-step -----------------------------------------------------------------

// Tensor cores: fragments loaded as the mma layouts of mma.cuh prescribe (one 32-bit load each).
template <class Cfg>
__device__ void step_mma(const std::uint32_t* as, const std::uint32_t* bs, int s, int row0, int tap_base,
                         float (&acc)[Cfg::FM][Cfg::FT][Cfg::FN][4]) {
  using G = typename Cfg::G;
  constexpr int lda = Cfg::A::ld;
  const int lane = lane_id(), g = lane >> 2, q = lane & 3;
  std::uint32_t af[Cfg::FM][4];
#pragma unroll
  for (int fm = 0; fm < Cfg::FM; ++fm) {
    const std::uint32_t* pa = as + (row0 + fm * 16 + g) * lda + 8 * s + q;
    af[fm][0] = mma_operand<Cfg::Math>(pa[0]);
    af[fm][1] = mma_operand<Cfg::Math>(pa[8 * lda]);
    af[fm][2] = mma_operand<Cfg::Math>(pa[4]);
    af[fm][3] = mma_operand<Cfg::Math>(pa[8 * lda + 4]);
  }
#pragma unroll
  for (int ft = 0; ft < Cfg::FT; ++ft)
#pragma unroll
    for (int fn = 0; fn < Cfg::FN; ++fn) {
      const std::uint32_t* pb = bs + (fn * 8 + g) * G::ld + tap_base + ft * G::kTapStride + G::step_offset(s) + q;
      const std::uint32_t bf[2] = {mma_operand<Cfg::Math>(pb[0]), mma_operand<Cfg::Math>(pb[4])};
#pragma unroll
      for (int fm = 0; fm < Cfg::FM; ++fm) {
        mma<Cfg::Math>(acc[fm][ft][fn], af[fm], bf);
      }
    }
}

// SIMT: each lane computes its own accumulator elements (rows g, g + 8 of each m-fragment, columns
// 2q, 2q + 1 of each n-fragment) from shared memory, four voxels at a time. With conv3's unit tap
// stride the three taps read overlapping windows, which the compiler loads once.
template <class Cfg>
__device__ void step_simt(const std::uint32_t* as, const std::uint32_t* bs, int s, int row0, int tap_base,
                          float (&acc)[Cfg::FM][Cfg::FT][Cfg::FN][4]) {
  using G = typename Cfg::G;
  constexpr int lda = Cfg::A::ld;
  const int q = lane_id() & 3;
  const float* af = reinterpret_cast<const float*>(as);
  const float* bf = reinterpret_cast<const float*>(bs);
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    float4 a[Cfg::FM][2];
    load_fragment_rows<Cfg::FM>(af, lda, row0, 8 * s + 4 * half, a);
#pragma unroll
    for (int fn = 0; fn < Cfg::FN; ++fn)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const float* pb = bf + (fn * 8 + 2 * q + j) * G::ld + tap_base + G::step_offset(s) + 4 * half;
#pragma unroll
        for (int ft = 0; ft < Cfg::FT; ++ft) {
          const float* w = pb + ft * G::kTapStride;
          const float b0 = w[0], b1 = w[1], b2 = w[2], b3 = w[3];
#pragma unroll
          for (int fm = 0; fm < Cfg::FM; ++fm)
#pragma unroll
            for (int rr = 0; rr < 2; ++rr) {
              float& c = acc[fm][ft][fn][2 * rr + j];
              c = fmaf(a[fm][rr].x, b0, c);
              c = fmaf(a[fm][rr].y, b1, c);
              c = fmaf(a[fm][rr].z, b2, c);
              c = fmaf(a[fm][rr].w, b3, c);
            }
        }
      }
  }
}

// ---- the kernel ---------------------------------------------------------------------------------------

template <class Cfg> __global__ void __launch_bounds__(Cfg::kThreads, 1) wgrad_brick_kernel(const BrickProblem p) {
  using G = typename Cfg::G;
  using A = typename Cfg::A;
  using F = typename Cfg::F;
  constexpr int T = Cfg::kThreads, NA = Cfg::NA, NB = Cfg::NB;
  SSE_DYNAMIC_SHARED(std::uint32_t, smem);

  const int t = static_cast<int>(threadIdx.x), warp = t >> 5;
  const int wm = warp % Cfg::WM, wt = warp / Cfg::WM;
  const int m0 = static_cast<int>(blockIdx.y) * Cfg::BM, c0 = static_cast<int>(blockIdx.x) * Cfg::BC;
  const index_t b_begin = static_cast<index_t>(blockIdx.z) * p.chunk;
  const index_t b_end = b_begin + p.chunk < p.bricks ? b_begin + p.chunk : p.bricks;
  const int row0 = wm * Cfg::FM * 16, tap_base = G::warp_tap_base(wt);

  // Staging of one brick into pipeline buffer `buf`, in two halves around the multiply of the
  // previous brick (stage_begin / stage_end above).
  [[maybe_unused]] std::uint32_t ra[F::kPairs ? NA : 1], rb[F::kPairs ? NB : 1];
  auto begin = [&](index_t b, int buf) {
    const BrickPos bp = brick_pos(p, b, Cfg::KY);
    std::uint32_t* as = smem + buf * Cfg::kStage;
    stage_begin<A, F::kPairs, NA, T, Cfg::kAWords>(p, bp, m0, as, ra, t);
    stage_begin<G, F::kPairs, NB, T, Cfg::kBWords>(p, bp, c0, as + Cfg::BM * A::ld, rb, t);
    cp_async_commit();
  };
  auto end = [&](int buf) {
    if constexpr (F::kPairs) {
      std::uint32_t* as = smem + buf * Cfg::kStage;
      stage_end<A, NA, T, Cfg::kAWords>(as, ra, t);
      stage_end<G, NB, T, Cfg::kBWords>(as + Cfg::BM * A::ld, rb, t);
    }
  };

  float acc[Cfg::FM][Cfg::FT][Cfg::FN][4] = {};

  int buf = 0;
  if (b_begin < b_end) {
    begin(b_begin, 0);
    end(0);
  }
  for (index_t b = b_begin; b < b_end; ++b) {
    cp_async_wait<0>();  // this thread's copies of brick b have landed ...
    __syncthreads();     // ... and everyone's; and buffer buf ^ 1 (brick b − 1) has been consumed
    const bool more = b + 1 < b_end;
    if (more) begin(b + 1, buf ^ 1);  // in flight during the multiplies below
    const std::uint32_t* as = smem + buf * Cfg::kStage;
    const std::uint32_t* bs = as + Cfg::BM * A::ld;
#pragma unroll 1
    for (int s = 0; s < Cfg::kSteps; ++s) {
      if constexpr (Cfg::Math == BrickMath::Simt) {
        step_simt<Cfg>(as, bs, s, row0, tap_base, acc);
      } else {
        step_mma<Cfg>(as, bs, s, row0, tap_base, acc);
      }
    }
    if (more) end(buf ^ 1);  // nobody reads buffer buf ^ 1 before the next barrier
    buf ^= 1;
  }

  // Epilogue: this lane's elements C[m, c, tap] of the slice's partial (zeros for an empty slice).
  const int lane = t & 31, g = lane >> 2, q = lane & 3;
  float* out = p.out + static_cast<index_t>(blockIdx.z) * p.M * p.Cn * G::kTaps;
#pragma unroll
  for (int fm = 0; fm < Cfg::FM; ++fm)
#pragma unroll
    for (int ft = 0; ft < Cfg::FT; ++ft)
#pragma unroll
      for (int fn = 0; fn < Cfg::FN; ++fn)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int m = m0 + row0 + fm * 16 + g + 8 * (i >> 1), c = c0 + fn * 8 + 2 * q + (i & 1);
          if (m < p.M && c < p.Cn)
            out[(static_cast<index_t>(m) * p.Cn + c) * G::kTaps + wt * Cfg::FT + ft] = acc[fm][ft][fn][i];
        }
}

// ---- host side ----------------------------------------------------------------------------------------

template <class Cfg> void launch_brick(BrickProblem p, int slices, cudaStream_t st) {
  auto* kernel = wgrad_brick_kernel<Cfg>;
  static const bool configured = [&] {  // once per instantiation: allow > 48 KB of shared memory
    SSE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(Cfg::kSmemBytes)));
    return true;
  }();
  (void)configured;
  const dim3 grid(ceil_div(p.Cn, Cfg::BC), ceil_div(p.M, Cfg::BM), static_cast<unsigned>(slices));
  launch(kernel, grid, dim3(Cfg::kThreads), Cfg::kSmemBytes, st, p);
}

constexpr int kBrickY = 4;

// Plans the split (or takes the caller's), runs the kernel into dw or the workspace, adds the partials.
template <class Cfg> void run_brick(BrickProblem p, index_t images, int force_slices, float* dw, cudaStream_t st) {
  p.by = (p.h + Cfg::KY - 1) / Cfg::KY;
  p.bx = (p.w + kBrickX - 1) / kBrickX;
  p.bricks = images * p.d * p.by * p.bx;
  const index_t count = static_cast<index_t>(p.M) * p.Cn * Cfg::G::kTaps;
  const std::size_t slice_bytes = static_cast<std::size_t>(count) * sizeof(float);
  const index_t tiles = detail::tiles(p.M, p.Cn, Cfg::BM, Cfg::BC);
  SplitK sk = plan_split_k(tiles, p.bricks, slice_bytes, /*min_chunk=*/4, /*align=*/1);
  if (force_slices > 0) {
    sk.chunk = (p.bricks + force_slices - 1) / force_slices;
    sk.slices = static_cast<int>((p.bricks + sk.chunk - 1) / sk.chunk);
  }
  p.chunk = sk.chunk;
  p.out = sk.slices == 1 ? dw : static_cast<float*>(workspace(sk.slices * slice_bytes, st));
  launch_brick<Cfg>(p, sk.slices, st);
  if (sk.slices > 1) sum_splits(p.out, sk.slices, count, dw, st);
}

// Nine warps (one per (tz, ty)) leave ≤ 168 registers a thread (3 warps share a sub-partition's
// register file): both tiles hold 48 accumulators a thread (64 × 8 × 16 spilled, on ptxas 13.0).
template <BrickMath Math> void conv3_with(const BrickProblem& p, index_t n, BrickTile tile, int slices, float* dw,
                                          cudaStream_t st) {
  const bool large = tile == BrickTile::Large || (tile == BrickTile::Auto && p.M > 32);
  if (large) return run_brick<BrickCfg<Conv3Geometry, kBrickY, 1, 4, 1, Math>>(p, n, slices, dw, st);
  run_brick<BrickCfg<Conv3Geometry, kBrickY, 1, 2, 2, Math>>(p, n, slices, dw, st);
}

template <BrickMath Math> void up2_with(const BrickProblem& p, index_t n, int slices, float* dw, cudaStream_t st) {
  run_brick<BrickCfg<Up2Geometry, kBrickY, 4, 1, 2, Math>>(p, n, slices, dw, st);
}

// x as a float or (BF16 only) a bfloat16 tensor.
void wgrad_conv3(const Conv3dShape& s, const BrickSrc& x, const float* dy, float* dw, BrickMath math, cudaStream_t st,
                 BrickTile tile, int slices) {
  kernel_check(s.k == 3 && s.n >= 1, "brick_wgrad_conv3", "k = 3 and at least one image");
  kernel_check(!x.h || math == BrickMath::BF16, "brick_wgrad_conv3", "bfloat16 x needs the BF16 math");
  BrickProblem p{BrickSrc{dy, nullptr}, x, nullptr, static_cast<int>(s.c_out), static_cast<int>(s.c_in),
                 static_cast<int>(s.d), static_cast<int>(s.h), static_cast<int>(s.w), 0, 0, 0, 0};
  switch (math) {
    case BrickMath::Simt: return conv3_with<BrickMath::Simt>(p, s.n, tile, slices, dw, st);
    case BrickMath::TF32: return conv3_with<BrickMath::TF32>(p, s.n, tile, slices, dw, st);
    case BrickMath::BF16: return conv3_with<BrickMath::BF16>(p, s.n, tile, slices, dw, st);
  }
}

void wgrad_up2(const ConvT3dShape& s, const BrickSrc& x, const float* dy, float* dw, BrickMath math, cudaStream_t st,
               int slices) {
  kernel_check(s.n >= 1, "brick_wgrad_up2", "at least one image");
  kernel_check(!x.h || math == BrickMath::BF16, "brick_wgrad_up2", "bfloat16 x needs the BF16 math");
  BrickProblem p{x, BrickSrc{dy, nullptr}, nullptr, static_cast<int>(s.c_in), static_cast<int>(s.c_out),
                 static_cast<int>(s.d), static_cast<int>(s.h), static_cast<int>(s.w), 0, 0, 0, 0};
  switch (math) {
    case BrickMath::Simt: return up2_with<BrickMath::Simt>(p, s.n, slices, dw, st);
    case BrickMath::TF32: return up2_with<BrickMath::TF32>(p, s.n, slices, dw, st);
    case BrickMath::BF16: return up2_with<BrickMath::BF16>(p, s.n, slices, dw, st);
  }
}

}  // namespace

void brick_wgrad_conv3(const Conv3dShape& s, const float* x, const float* dy, float* dw, BrickMath math,
                       cudaStream_t st, BrickTile tile, int slices) {
  wgrad_conv3(s, BrickSrc{x, nullptr}, dy, dw, math, st, tile, slices);
}
void brick_wgrad_conv3(const Conv3dShape& s, const bf16_t* x, const float* dy, float* dw, BrickMath math,
                       cudaStream_t st, BrickTile tile, int slices) {
  wgrad_conv3(s, BrickSrc{nullptr, x}, dy, dw, math, st, tile, slices);
}
void brick_wgrad_up2(const ConvT3dShape& s, const float* x, const float* dy, float* dw, BrickMath math,
                     cudaStream_t st, int slices) {
  wgrad_up2(s, BrickSrc{x, nullptr}, dy, dw, math, st, slices);
}
void brick_wgrad_up2(const ConvT3dShape& s, const bf16_t* x, const float* dy, float* dw, BrickMath math,
                     cudaStream_t st, int slices) {
  wgrad_up2(s, BrickSrc{nullptr, x}, dy, dw, math, st, slices);
}

}  // namespace sse::cuda
