// kernels/cuda/wx_brick.cu — the brick forward / backward-data kernel (contract and tiling in
// wx_brick.cuh): the weight rearrangement, the staging of one stage (weight tile and src halo plane),
// the warp's multiply of a stage's 9 taps (mma.sync or the SIMT twin) and the store.
#include "kernels/cuda/wx_brick.cuh"

#include "kernels/batchnorm.h"
#include "kernels/cuda/brick.cuh"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/workspace.cuh"

namespace sse::cuda {
namespace {

constexpr int kBrickY = 8;                         // rows of a brick
constexpr int kChunkWords = 8;                     // words of one (row, tap) of a weight chunk
constexpr int kHaloCols = kBrickX + 2;             // 18 src columns a brick row's taps read
constexpr int kPlaneWords = (kBrickY + 2) * kHaloCols;  // one halo plane of one channel (or pair)

constexpr int chunk_channels(BrickMath m) { return m == BrickMath::BF16 ? 2 * kChunkWords : kChunkWords; }

struct WxProblem {
  const std::uint32_t* wb;  // (M, 27, kw) words (wx_brick.cuh, "Weight")
  const float* src;         // (images, c_src, d, h, w): the first c_src channels
  const float* src2;        // (images, c_k − c_src, d, h, w): the others, or null
  const bf16_t* hsrc;       // or src (images, c_k, d, h, w) as bfloat16 (BF16 math, src and src2 null)
  const float* bias;        // (M) or null
  ConvBnEval bn;            // the epilogue's batch norm (gamma null: none) and ReLU
  float* dst;               // (images, M, d, h, w)
  int M, c_k, c_src, kw;
  int d, h, w;
  int by, bx;   // bricks per column and per row
  int chunks;   // channel chunks of K; a stage is one chunk × one tap plane
};

// ---- the weight: w (c_out, c_in, 27) → (M, 27, kw) words in the math's format ---------------------------

template <BrickMath Math>
__global__ void wx_weight_kernel(const float* w, int rows, int c_k, int kw, bool flip, std::uint32_t* wb) {
  const index_t total = static_cast<index_t>(rows) * 27 * kw;
  auto value = [&](int m, int t, int c) {
    if (c >= c_k) return 0.0f;
    return flip ? w[(static_cast<index_t>(c) * rows + m) * 27 + (26 - t)] : w[(static_cast<index_t>(m) * c_k + c) * 27 + t];
  };
  for (index_t i = global_thread(); i < total; i += grid_threads()) {
    const int j = static_cast<int>(i % kw), t = static_cast<int>(i / kw % 27), m = static_cast<int>(i / (27 * kw));
    if constexpr (Math == BrickMath::BF16) {
      wb[i] = pack_bf16x2(value(m, t, 2 * j), value(m, t, 2 * j + 1));
    } else {
      const float v = value(m, t, j);
      wb[i] = float_bits(Math == BrickMath::TF32 ? round_tf32(v) : v);
    }
  }
}

// ---- one stage's tiles ------------------------------------------------------------------------------------

// Weight tile: BM rows × 9 taps × 8 words, row r at r · ld; copied in 16-byte pieces (18 a row).
template <int BM> struct WTile {
  static constexpr int kRowWords = 9 * kChunkWords;
  static constexpr int ld = spread(kRowWords);
  static constexpr int kVecs = BM * kRowWords / 4;
};

// Src halo plane: 8 words (channels c0 + j, or BF16 pairs c0 + 2j, c0 + 2j + 1) × 10 rows × 18
// columns at (j, row, col) = j · ld + row · 18 + col, holding src[c, z, y0 + row − 1, x0 + col − 1]
// of the stage's plane z (zero outside the volume and past c_k).
constexpr int kHaloLd = spread_rows(kPlaneWords);

template <int WM_, int FM_, BrickMath Math_> struct WxCfg {
  static constexpr BrickMath Math = Math_;
  static constexpr bool kPairs = Math == BrickMath::BF16;
  static constexpr int WM = WM_, FM = FM_, WN = kBrickY / 2, FN = 4;  // a warp: 2 brick rows × 2 halves
  static constexpr int kThreads = 32 * WM * WN;
  static constexpr int BM = WM * FM * 16;
  using W = WTile<BM>;
  static constexpr int kStage = BM * W::ld + kChunkWords * kHaloLd;  // words of one pipeline stage
  static constexpr int NW = (W::kVecs + kThreads - 1) / kThreads;         // weight pieces a thread copies
  static constexpr int NP = (kPlaneWords + kThreads - 1) / kThreads;      // halo positions a thread stages
  static constexpr std::size_t kSmemBytes = 2 * static_cast<std::size_t>(kStage) * sizeof(std::uint32_t);
  static_assert(kStage % 4 == 0 && W::ld % 4 == 0, "16-byte aligned weight rows in every stage");
};

// Copies stage (chunk, tz)'s weight tile: piece e is words 4·(e % 18) .. + 3 of row e / 18, i.e. of
// tap tz·9 + (e % 18) / 2; rows past M are zeros. Offsets fit 32 bits (M · 27 · kw words).
template <class Cfg>
__device__ void stage_weights(const WxProblem& p, int m0, int chunk, int tz, std::uint32_t* ws, int t) {
#pragma unroll
  for (int i = 0; i < Cfg::NW; ++i) {
    const int e = t + i * Cfg::kThreads;
    if (e >= Cfg::W::kVecs) continue;
    const int r = e / 18, v = e % 18;
    const int offset = ((m0 + r) * 27 + tz * 9 + v / 2) * p.kw + chunk * kChunkWords + 4 * (v & 1);
    cp_async16(ws + r * Cfg::W::ld + 4 * v, m0 + r < p.M ? p.wb + offset : nullptr);
  }
}

// Start of channel c's volume of image img in the two-part src; null past c_k.
__device__ inline const float* channel_volume(const WxProblem& p, index_t img, int c, index_t vol) {
  if (c >= p.c_k) return nullptr;
  if (c < p.c_src) return p.src + (img * p.c_src + c) * vol;
  return p.src2 + (img * (p.c_k - p.c_src) + (c - p.c_src)) * vol;
}

// Stages (fp32: cp.async into `hs`; BF16: loads into `regs`, packed by halo_end) the halo plane z of
// channels c0..: this thread's positions t, t + T, ... of the plane, each for the chunk's 8 words.
template <class Cfg>
__device__ void halo_begin(const WxProblem& p, const BrickPos& bp, int z, int c0, std::uint32_t* hs,
                           std::uint32_t (&regs)[Cfg::kPairs ? Cfg::NP : 1][kChunkWords], int t) {
  const index_t vol = index_t{p.d} * p.h * p.w, plane = index_t{z} * p.h * p.w;
  const bool z_ok = z >= 0 && z < p.d;
#pragma unroll
  for (int i = 0; i < Cfg::NP; ++i) {
    const int e = t + i * Cfg::kThreads;
    if (e >= kPlaneWords) continue;
    const int y = bp.y0 + e / kHaloCols - 1, x = bp.x0 + e % kHaloCols - 1;
    const bool ok = z_ok && y >= 0 && y < p.h && x >= 0 && x < p.w;
    const index_t at = plane + index_t{y} * p.w + x;
    auto value = [&](int c) -> const float* {
      const float* v = ok ? channel_volume(p, bp.img, c0 + c, vol) : nullptr;
      return v ? v + at : nullptr;
    };
    // The bfloat16 src's offset of channel c0 + c, −1 outside.
    auto offset16 = [&](int c) -> index_t { return ok && c0 + c < p.c_k ? (bp.img * p.c_k + c0 + c) * vol + at : -1; };
#pragma unroll
    for (int j = 0; j < kChunkWords; ++j) {
      if constexpr (Cfg::kPairs) {
        regs[i][j] = p.hsrc ? BrickSrc{nullptr, p.hsrc}.pair(offset16(2 * j), offset16(2 * j + 1))
                            : pack_bf16x2(load_or_zero(value(2 * j)), load_or_zero(value(2 * j + 1)));
      } else {
        cp_async4(reinterpret_cast<float*>(hs + j * kHaloLd + e), value(j));
      }
    }
  }
}

template <class Cfg>
__device__ void halo_end(std::uint32_t* hs, const std::uint32_t (&regs)[Cfg::kPairs ? Cfg::NP : 1][kChunkWords],
                         int t) {
#pragma unroll
  for (int i = 0; i < Cfg::NP; ++i) {
    const int e = t + i * Cfg::kThreads;
    if (e >= kPlaneWords) continue;
#pragma unroll
    for (int j = 0; j < kChunkWords; ++j) hs[j * kHaloLd + e] = regs[i][j];
  }
}

// ---- the warp's multiply of one stage: 9 taps (ty, tx) × FM × FN fragments ---------------------------------

// Fragment n-tile fn of warp wn covers brick row 2·wn + fn / 2, columns 8·(fn % 2) .. + 7.
__device__ inline int frag_row(int wn, int fn) { return 2 * wn + (fn >> 1); }
__device__ inline int frag_col(int fn) { return 8 * (fn & 1); }

template <class Cfg>
__device__ void multiply_mma(const std::uint32_t* ws, const std::uint32_t* hs, int row0, int wn,
                             float (&acc)[Cfg::FM][Cfg::FN][4]) {
  constexpr int lda = Cfg::W::ld, ldh = kHaloLd;
  const int lane = lane_id(), g = lane >> 2, q = lane & 3;
#pragma unroll 1
  for (int tap = 0; tap < 9; ++tap) {
    const int ty = tap / 3, tx = tap % 3;
    std::uint32_t af[Cfg::FM][4];  // weights: already in the math's format
#pragma unroll
    for (int fm = 0; fm < Cfg::FM; ++fm) {
      const std::uint32_t* pa = ws + (row0 + fm * 16 + g) * lda + tap * kChunkWords + q;
      af[fm][0] = pa[0];
      af[fm][1] = pa[8 * lda];
      af[fm][2] = pa[4];
      af[fm][3] = pa[8 * lda + 4];
    }
#pragma unroll
    for (int fn = 0; fn < Cfg::FN; ++fn) {
      const std::uint32_t* pb = hs + q * ldh + (frag_row(wn, fn) + ty) * kHaloCols + frag_col(fn) + g + tx;
      const std::uint32_t bf[2] = {mma_operand<Cfg::Math>(pb[0]), mma_operand<Cfg::Math>(pb[4 * ldh])};
#pragma unroll
      for (int fm = 0; fm < Cfg::FM; ++fm) mma<Cfg::Math>(acc[fm][fn], af[fm], bf);
    }
  }
}

// SIMT: each lane computes its own accumulator elements (rows g, g + 8 of each m-fragment, voxels
// 2q, 2q + 1 of each n-fragment) with fp32 FMAs, four channels of weights loaded at a time.
template <class Cfg>
__device__ void multiply_simt(const std::uint32_t* ws, const std::uint32_t* hs, int row0, int wn,
                              float (&acc)[Cfg::FM][Cfg::FN][4]) {
  constexpr int lda = Cfg::W::ld, ldh = kHaloLd;
  const int q = lane_id() & 3;
  const float* wf = reinterpret_cast<const float*>(ws);
  const float* hf = reinterpret_cast<const float*>(hs);
#pragma unroll 1
  for (int tap = 0; tap < 9; ++tap) {
    const int ty = tap / 3, tx = tap % 3;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float4 a[Cfg::FM][2];
      load_fragment_rows<Cfg::FM>(wf, lda, row0, tap * kChunkWords + 4 * half, a);
#pragma unroll
      for (int fn = 0; fn < Cfg::FN; ++fn)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const float* pb = hf + 4 * half * ldh + (frag_row(wn, fn) + ty) * kHaloCols + frag_col(fn) + 2 * q + j + tx;
          const float b0 = pb[0], b1 = pb[ldh], b2 = pb[2 * ldh], b3 = pb[3 * ldh];
#pragma unroll
          for (int fm = 0; fm < Cfg::FM; ++fm)
#pragma unroll
            for (int rr = 0; rr < 2; ++rr) {
              float& c = acc[fm][fn][2 * rr + j];
              c = fmaf(a[fm][rr].x, b0, c);
              c = fmaf(a[fm][rr].y, b1, c);
              c = fmaf(a[fm][rr].z, b2, c);
              c = fmaf(a[fm][rr].w, b3, c);
            }
        }
    }
  }
}

// ---- the epilogue ------------------------------------------------------------------------------------------

// Row m's epilogue: v ↦ affine_act(v + bias, scale, shift, relu) — the batch norm's affine map, or the
// identity (scale 1, shift 0) without one, as ops::conv3d_eval's fused CPU form applies it.
struct RowEpilogue {
  float bias = 0.0f, scale = 1.0f, shift = 0.0f;
  __device__ float operator()(float v, bool relu) const { return affine_act(v + bias, scale, shift, relu); }
};

__device__ inline RowEpilogue row_epilogue(const WxProblem& p, int m) {
  RowEpilogue e;
  if (m >= p.M) return e;
  if (p.bias) e.bias = p.bias[m];
  if (p.bn.gamma) {
    const BnAffine a = bn_eval_affine(p.bn.gamma[m], p.bn.beta[m], p.bn.running_mean[m], p.bn.running_var[m], p.bn.eps);
    e.scale = a.scale;
    e.shift = a.shift;
  }
  return e;
}

// This lane's outputs (rows g, g + 8 of each m-fragment; voxels 2q, 2q + 1 of each n-fragment).
template <class Cfg>
__device__ void store(const WxProblem& p, const BrickPos& bp, int row0, int wn, const float (&acc)[Cfg::FM][Cfg::FN][4]) {
  const int lane = lane_id(), g = lane >> 2, q = lane & 3;
  const index_t hw = index_t{p.h} * p.w;
#pragma unroll
  for (int fm = 0; fm < Cfg::FM; ++fm)
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      const int m = row0 + fm * 16 + g + 8 * rr;
      if (m >= p.M) continue;
      const RowEpilogue ep = row_epilogue(p, m);
      float* row = p.dst + ((bp.img * p.M + m) * p.d + bp.z) * hw;
#pragma unroll
      for (int fn = 0; fn < Cfg::FN; ++fn) {
        const int y = bp.y0 + frag_row(wn, fn), x = bp.x0 + frag_col(fn) + 2 * q;
        if (y >= p.h) continue;
        for (int j = 0; j < 2; ++j)
          if (x + j < p.w) row[index_t{y} * p.w + x + j] = ep(acc[fm][fn][2 * rr + j], p.bn.relu);
      }
    }
}

// ---- the kernel -------------------------------------------------------------------------------------------

template <class Cfg> __global__ void __launch_bounds__(Cfg::kThreads, 1) wx_brick_kernel(const WxProblem p) {
  using W = typename Cfg::W;
  SSE_DYNAMIC_SHARED(std::uint32_t, smem);

  const int t = static_cast<int>(threadIdx.x), warp = t >> 5;
  const int wm = warp % Cfg::WM, wn = warp / Cfg::WM;
  const int m0 = static_cast<int>(blockIdx.y) * Cfg::BM, row0 = wm * Cfg::FM * 16;
  const BrickPos bp = brick_pos(p, static_cast<index_t>(blockIdx.x), kBrickY);

  // The tap planes tz whose src plane z + tz − 1 lies in the volume (a brick on the first or last
  // plane has 2, in a volume one plane deep 1): the others would multiply zeros only.
  const int tz0 = bp.z == 0 ? 1 : 0, ntz = (bp.z == p.d - 1 ? 2 : 3) - tz0, stages = p.chunks * ntz;

  // Staging of stage s into buffer `buf`, in two halves around the multiply of the previous stage.
  [[maybe_unused]] std::uint32_t rh[Cfg::kPairs ? Cfg::NP : 1][kChunkWords];
  auto begin = [&](int s, int buf) {
    const int chunk = s / ntz, tz = tz0 + s % ntz;
    std::uint32_t* ws = smem + buf * Cfg::kStage;
    stage_weights<Cfg>(p, m0, chunk, tz, ws, t);
    halo_begin<Cfg>(p, bp, bp.z + tz - 1, chunk * chunk_channels(Cfg::Math), ws + Cfg::BM * W::ld, rh, t);
    cp_async_commit();
  };
  auto end = [&](int buf) {
    if constexpr (Cfg::kPairs) halo_end<Cfg>(smem + buf * Cfg::kStage + Cfg::BM * W::ld, rh, t);
  };

  float acc[Cfg::FM][Cfg::FN][4] = {};
  begin(0, 0);
  end(0);
  int buf = 0;
  for (int s = 0; s < stages; ++s) {
    cp_async_wait<0>();  // this thread's copies of stage s have landed ...
    __syncthreads();     // ... and everyone's; and buffer buf ^ 1 (stage s − 1) has been consumed
    const bool more = s + 1 < stages;
    if (more) begin(s + 1, buf ^ 1);  // in flight during the multiplies below
    const std::uint32_t* ws = smem + buf * Cfg::kStage;
    if constexpr (Cfg::Math == BrickMath::Simt) {
      multiply_simt<Cfg>(ws, ws + Cfg::BM * W::ld, row0, wn, acc);
    } else {
      multiply_mma<Cfg>(ws, ws + Cfg::BM * W::ld, row0, wn, acc);
    }
    if (more) end(buf ^ 1);  // nobody reads buffer buf ^ 1 before the next barrier
    buf ^= 1;
  }

  store<Cfg>(p, bp, m0 + row0, wn, acc);
}

// ---- host side --------------------------------------------------------------------------------------------

template <class Cfg> void launch_wx(const WxProblem& p, index_t bricks, cudaStream_t st) {
  auto* kernel = wx_brick_kernel<Cfg>;
  static const bool configured = [&] {  // once per instantiation: allow > 48 KB of shared memory
    SSE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(Cfg::kSmemBytes)));
    return true;
  }();
  (void)configured;
  const dim3 grid(static_cast<unsigned>(bricks), ceil_div(p.M, Cfg::BM));
  launch(kernel, grid, dim3(Cfg::kThreads), Cfg::kSmemBytes, st, p);
}

template <BrickMath Math> void wx_with(const WxProblem& p, index_t bricks, WxTile tile, cudaStream_t st) {
  if (tile == WxTile::Auto) tile = p.M > 64 ? WxTile::Large : p.M > 32 ? WxTile::Medium : WxTile::Small;
  switch (tile) {
    case WxTile::Large: return launch_wx<WxCfg<2, 4, Math>>(p, bricks, st);
    case WxTile::Medium: return launch_wx<WxCfg<1, 4, Math>>(p, bricks, st);
    default: return launch_wx<WxCfg<1, 2, Math>>(p, bricks, st);
  }
}

template <BrickMath Math> void prepare_weight(const float* w, const WxProblem& p, bool flip, std::uint32_t* wb,
                                              cudaStream_t st) {
  const index_t total = static_cast<index_t>(p.M) * 27 * p.kw;
  launch(wx_weight_kernel<Math>, dim3(grid_for(total)), dim3(kBlock), 0, st, w, p.M, p.c_k, p.kw, flip, wb);
}

// The problem of one call, without its weight words (run_wx prepares them).
WxProblem make_problem(const Conv3dShape& s, bool flip, const float* src, const float* bias, float* dst,
                       BrickMath math, const WxEval* eval) {
  WxProblem p{};
  p.M = static_cast<int>(flip ? s.c_in : s.c_out);
  p.c_k = static_cast<int>(flip ? s.c_out : s.c_in);
  p.c_src = eval && eval->src2 ? static_cast<int>(eval->c_src) : p.c_k;
  const int chunks = ceil_div(p.c_k, chunk_channels(math));
  p.kw = chunks * kChunkWords;
  p.src = src;
  p.src2 = eval ? eval->src2 : nullptr;
  p.bias = bias;
  if (eval) p.bn = eval->bn;
  p.dst = dst;
  p.d = static_cast<int>(s.d);
  p.h = static_cast<int>(s.h);
  p.w = static_cast<int>(s.w);
  p.by = ceil_div(p.h, kBrickY);
  p.bx = ceil_div(p.w, kBrickX);
  p.chunks = chunks;
  return p;
}

template <BrickMath Math> void run_wx(WxProblem p, bool flip, const float* w, index_t bricks, WxTile tile,
                                      cudaStream_t st) {
  auto* wb = static_cast<std::uint32_t*>(
      workspace(static_cast<std::size_t>(p.M) * 27 * p.kw * sizeof(std::uint32_t), st));
  prepare_weight<Math>(w, p, flip, wb, st);
  p.wb = wb;
  wx_with<Math>(p, bricks, tile, st);
}

void run(const Conv3dShape& s, bool flip, const float* src, const bf16_t* hsrc, const float* w, const float* bias,
         float* dst, BrickMath math, cudaStream_t st, WxTile tile, const WxEval* eval) {
  kernel_check(s.k == 3 && s.n >= 1, "brick_conv3_wx", "k = 3 and at least one image");
  kernel_check(!eval || (!flip && eval->c_src >= 1 && eval->c_src <= s.c_in && (eval->src2 != nullptr) == (eval->c_src < s.c_in)),
               "brick_conv3_wx", "the inference extras belong to a forward: src2 exactly when c_src < c_in");
  const index_t bricks = s.n * s.d * ceil_div(s.h, kBrickY) * ceil_div(s.w, kBrickX);
  kernel_check(bricks < (index_t{1} << 31), "brick_conv3_wx", "fewer than 2^31 bricks");
  WxProblem p = make_problem(s, flip, src, bias, dst, math, eval);
  p.hsrc = hsrc;
  kernel_check(index_t{p.M} * 27 * p.kw < (index_t{1} << 31), "brick_conv3_wx",
               "the rearranged weight must have fewer than 2^31 words");
  switch (math) {
    case BrickMath::Simt: return run_wx<BrickMath::Simt>(p, flip, w, bricks, tile, st);
    case BrickMath::TF32: return run_wx<BrickMath::TF32>(p, flip, w, bricks, tile, st);
    case BrickMath::BF16: return run_wx<BrickMath::BF16>(p, flip, w, bricks, tile, st);
  }
}

}  // namespace

void brick_conv3_wx(const Conv3dShape& s, bool flip, const float* src, const float* w, const float* bias, float* dst,
                    BrickMath math, cudaStream_t st, WxTile tile, const WxEval* eval) {
  run(s, flip, src, nullptr, w, bias, dst, math, st, tile, eval);
}

void brick_conv3_wx(const Conv3dShape& s, const bf16_t* src, const float* w, const float* bias, float* dst,
                    BrickMath math, cudaStream_t st, WxTile tile) {
  kernel_check(math == BrickMath::BF16, "brick_conv3_wx", "bfloat16 src needs the BF16 math");
  run(s, false, nullptr, src, w, bias, dst, math, st, tile, nullptr);
}

}  // namespace sse::cuda
