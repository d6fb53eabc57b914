// kernels/cuda/igemm.cuh — the SIMT fp32 implicit-GEMM engine behind every convolution kernel.
//
// C[M × N] = A[M × K] · B[K × N] where A and B are never materialized: a Problem class computes each
// element on demand from the convolution's tensors (implicit im2col), so no column buffer exists.
// One CUDA block computes a BM × BN tile of C; K is walked in BK-slices staged in shared memory
// (double-buffered: the next slice's global loads are in flight while the current one is multiplied),
// each thread holding a TM × TN register micro-tile read from shared memory as float4s.
//
// Problem interface (all __device__ const members, everything inlined):
//   M, N                         rows and columns of C
//   Slice slice(int z)           what blockIdx.z selects (an image, or an image's K-range for split-K),
//                                with members k_begin, k_end
//   ARef a_ref(sl, m)            per-thread state for row m of A (fixed over the K loop)
//   BRef b_ref(sl, n)            per-thread state for column n of B
//   KTile ktile(sl, k0)          state for the BK-slice starting at k0 (decoded once per slice)
//   KPos kpos(sl, ktile, kk)     state for position k0 + kk (marked outside when ≥ k_end)
//   const float* a_ptr(sl, aref, kpos)   where A[m, k] lives, or null where it is 0 (padding, outside)
//   const float* b_ptr(sl, bref, kpos)   the same for B[k, n]
//   void store(sl, m, n, float4) writes C[m, n..n+3] (bounds-checked by the problem: m, n may lie
//                                beyond M, N in the last tiles)
//   kALanesK / kBLanesK          whether consecutive threads load consecutive k (true: the operand is
//                                contiguous along K in memory) or consecutive m / n (false)
// Choosing the load orientation per operand keeps global loads coalesced for all six GEMMs of the
// forward and backward convolutions. With lanes along k, all of a thread's slots share one k, so
// the compiler evaluates kpos once per slice for them. Results depend only on the tile shape and the K order, never
// on timing (no atomics).
#pragma once

#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/low_precision.h"

namespace sse::cuda {

// What the engine does to each operand value it loads: nothing (fp32), or round it as a tensor core's
// input (TF32, BF16). The emulator, which has no tensor cores, runs the tensor-core algorithms on the
// SIMT engine with the matching rounding, so its products are the tensor cores' (kernels/low_precision.h).
enum class OperandRound { None, TF32, BF16 };
template <OperandRound R> __device__ inline float round_operand(float v) {
  return R == OperandRound::TF32 ? round_tf32(v) : R == OperandRound::BF16 ? round_bf16(v) : v;
}

template <int BM_, int BN_, int BK_, int TM_, int TN_> struct TileCfg {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kThreadsN = BN / TN, kThreadsM = BM / TM, kThreads = kThreadsN * kThreadsM;
  static constexpr int kRM = TM / 4, kRN = TN / 4;    // float4 groups per thread and dimension
  static constexpr int kSM = BM / kRM, kSN = BN / kRN;  // distance between a thread's groups
  static constexpr int kPad = 4;                       // keeps float4 alignment, spreads banks
  static constexpr int kALoads = BM * BK / kThreads, kBLoads = BK * BN / kThreads;
  // Two resident blocks per multiprocessor (≤ 128 registers a thread at 256 threads): one block's
  // global loads then overlap the other's arithmetic.
  static constexpr int kMinBlocks = kThreads >= 256 ? 2 : 4;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "micro-tiles are read as float4");
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps");
  static_assert((BM * BK) % kThreads == 0 && (BK * BN) % kThreads == 0, "tiles split evenly over threads");
};

namespace detail {

// Tile coordinates (row-in-tile, k-in-slice) of load slot i of thread t, for an operand with `rows`
// rows (BM or BN) loaded along k (lanes_k) or along rows. The same-lane property (threads % BK == 0,
// threads % rows == 0) makes a thread's k (lanes_k) or row (otherwise) identical for all its slots.
template <int Rows, int BK, int T, bool LanesK> struct LoadSlot {
  static_assert(!LanesK || T % BK == 0, "lanes along k need threads % BK == 0");
  static_assert(LanesK || T % Rows == 0, "lanes along rows need threads % rows == 0");
  __device__ static int row(int t, int i) { return LanesK ? t / BK + i * (T / BK) : t % Rows; }
  __device__ static int k(int t, int i) { return LanesK ? t % BK : t / Rows + i * (T / Rows); }
};

__device__ inline float load_or_zero(const float* p) { return p ? *p : 0.0f; }

// Fills the tables of per-row state of a tile's BM rows (ARef) and BN columns (BRef) in shared
// memory and waits for them. The load loops read them back per slot: kept in registers (up to 16 + 16
// slots a thread) they would cost the residency that hides the loads' latency.
template <class P>
__device__ void fill_ref_tables(const P& p, const typename P::Slice& sl, int m0, int n0, int bm, int bn,
                                typename P::ARef* arefs, typename P::BRef* brefs) {
  for (int r = static_cast<int>(threadIdx.x); r < bm; r += static_cast<int>(blockDim.x)) arefs[r] = p.a_ref(sl, m0 + r);
  for (int c = static_cast<int>(threadIdx.x); c < bn; c += static_cast<int>(blockDim.x)) brefs[c] = p.b_ref(sl, n0 + c);
  __syncthreads();
}

}  // namespace detail

template <class Cfg, class P, OperandRound R>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks) igemm_simt_kernel(const P p) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN, T = Cfg::kThreads;
  constexpr int NA = Cfg::kALoads, NB = Cfg::kBLoads;
  using SA = detail::LoadSlot<BM, BK, T, P::kALanesK>;
  using SB = detail::LoadSlot<BN, BK, T, P::kBLanesK>;
  __shared__ __align__(16) float As[2][BK][BM + Cfg::kPad];
  __shared__ __align__(16) float Bs[2][BK][BN + Cfg::kPad];
  __shared__ typename P::ARef arefs[BM];
  __shared__ typename P::BRef brefs[BN];

  const int t = static_cast<int>(threadIdx.x);
  const int tx = t % Cfg::kThreadsN, ty = t / Cfg::kThreadsN;
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const typename P::Slice sl = p.slice(static_cast<int>(blockIdx.z));

  detail::fill_ref_tables(p, sl, m0, n0, BM, BN, arefs, brefs);

  float ra[NA], rb[NB];
  auto load = [&](index_t k0) {
    const typename P::KTile kt = p.ktile(sl, k0);
#pragma unroll
    for (int i = 0; i < NA; ++i)
      ra[i] = round_operand<R>(detail::load_or_zero(p.a_ptr(sl, arefs[SA::row(t, i)], p.kpos(sl, kt, SA::k(t, i)))));
#pragma unroll
    for (int i = 0; i < NB; ++i)
      rb[i] = round_operand<R>(detail::load_or_zero(p.b_ptr(sl, brefs[SB::row(t, i)], p.kpos(sl, kt, SB::k(t, i)))));
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < NA; ++i) As[buf][SA::k(t, i)][SA::row(t, i)] = ra[i];
#pragma unroll
    for (int i = 0; i < NB; ++i) Bs[buf][SB::k(t, i)][SB::row(t, i)] = rb[i];
  };

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  int buf = 0;
  load(sl.k_begin);
  stash(0);
  __syncthreads();
  for (index_t k0 = sl.k_begin; k0 < sl.k_end; k0 += BK) {
    const bool more = k0 + BK < sl.k_end;
    if (more) load(k0 + BK);  // in flight during the multiply below
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[TM], b[TN];
#pragma unroll
      for (int g = 0; g < Cfg::kRM; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&As[buf][kk][g * Cfg::kSM + ty * 4]);
        a[g * 4 + 0] = v.x; a[g * 4 + 1] = v.y; a[g * 4 + 2] = v.z; a[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int h = 0; h < Cfg::kRN; ++h) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[buf][kk][h * Cfg::kSN + tx * 4]);
        b[h * 4 + 0] = v.x; b[h * 4 + 1] = v.y; b[h * 4 + 2] = v.z; b[h * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    // The other buffer was last read before the previous barrier, so it can be overwritten now.
    if (more) stash(buf ^ 1);
    __syncthreads();
    buf ^= 1;
  }

#pragma unroll
  for (int g = 0; g < Cfg::kRM; ++g)
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int h = 0; h < Cfg::kRN; ++h)
        p.store(sl, m0 + g * Cfg::kSM + ty * 4 + i, n0 + h * Cfg::kSN + tx * 4,
                make_float4(acc[g * 4 + i][h * 4], acc[g * 4 + i][h * 4 + 1], acc[g * 4 + i][h * 4 + 2],
                            acc[g * 4 + i][h * 4 + 3]));
}

// Launches the SIMT kernel over ceil(N / BN) × ceil(M / BM) tiles and `slices` values of blockIdx.z.
template <class Cfg, OperandRound R = OperandRound::None, class P>
void run_igemm_simt(const P& p, int slices, cudaStream_t st) {
  const dim3 grid(ceil_div(p.N, Cfg::BN), ceil_div(p.M, Cfg::BM), static_cast<unsigned>(slices));
  launch(igemm_simt_kernel<Cfg, P, R>, grid, dim3(Cfg::kThreads), 0, st, p);
}

// ---- tile choice ---------------------------------------------------------------------------------

namespace detail {
inline index_t tiles(index_t m, index_t n, int bm, int bn) { return ((m + bm - 1) / bm) * ((n + bn - 1) / bn); }
}  // namespace detail

// GEMMs with a short K and many columns (weights × activations: forward, backward data): the largest
// tile whose grid still fills the device, narrow tiles when the GEMM has few rows (channels).
template <OperandRound R = OperandRound::None, class P>
void run_igemm_simt_wx(const P& p, int slices, cudaStream_t st) {
  using Large = TileCfg<128, 128, 8, 8, 8>;
  using Mid = TileCfg<64, 128, 8, 4, 8>;
  using Small = TileCfg<64, 64, 8, 4, 4>;
  using Narrow = TileCfg<32, 128, 8, 4, 4>;
  using Thin = TileCfg<16, 256, 16, 4, 4>;
  const index_t sms = sm_count();
  if (p.M <= 16) return run_igemm_simt<Thin, R>(p, slices, st);
  if (p.M <= 32) return run_igemm_simt<Narrow, R>(p, slices, st);
  if (p.M > 64 && detail::tiles(p.M, p.N, 128, 128) * slices >= sms) return run_igemm_simt<Large, R>(p, slices, st);
  if (detail::tiles(p.M, p.N, 64, 128) * slices >= sms) return run_igemm_simt<Mid, R>(p, slices, st);
  run_igemm_simt<Small, R>(p, slices, st);
}

// Split-K GEMMs (weight gradients): both operands run along K, so BK = 16 keeps loads coalesced.
// (On an H100 a 64 × 128 tile for M ≤ 64 measured slower than 64 × 64: 7.6 vs 5.6 ms for 64→64 @64.)
template <OperandRound R = OperandRound::None, class P>
void run_igemm_simt_wg(const P& p, int slices, cudaStream_t st) {
  using Large = TileCfg<128, 128, 16, 8, 8>;
  using Small = TileCfg<64, 64, 16, 4, 4>;
  using Narrow = TileCfg<32, 64, 16, 4, 4>;
  if (p.M <= 32) return run_igemm_simt<Narrow, R>(p, slices, st);
  if (p.M <= 64) return run_igemm_simt<Small, R>(p, slices, st);
  run_igemm_simt<Large, R>(p, slices, st);
}

// ---- split-K (weight gradients: K = every voxel of every image) -------------------------------------

// K in [0, k_total) is cut into `slices` chunks of `chunk` (a multiple of every engine's BK); slice z
// computes its chunk's product into partial z, and sum_splits adds the partials in slice order.
struct SplitK {
  int slices;
  index_t chunk;
};
constexpr index_t kMinSplitChunk = 1024;
constexpr int kSplitAlign = 32;
// Enough slices for about four blocks per multiprocessor given `tiles` C tiles, each chunk at least
// min_chunk long and a multiple of align, and slices × slice_bytes within kConvPartialBytes. Depends
// on the device's multiprocessor count, so results repeat bit for bit on one device model.
SplitK plan_split_k(index_t tiles, index_t k_total, std::size_t slice_bytes, index_t min_chunk = kMinSplitChunk,
                    index_t align = kSplitAlign);

// out[i] = Σ_{s < splits} partial[s·count + i], s in increasing order.
void sum_splits(const float* partial, int splits, index_t count, float* out, cudaStream_t st);

// C (m × n) = the split-K product: make(out, chunk) builds the problem writing slice z's partial at
// out + z·m·n (or C itself when one slice suffices), run(problem, slices) launches it.
template <class Make, class Run>
void run_split_k(index_t m, index_t n, index_t k_total, float* c, cudaStream_t st, Make&& make, Run&& run) {
  const std::size_t slice_bytes = static_cast<std::size_t>(m * n) * sizeof(float);
  const SplitK sk = plan_split_k(detail::tiles(m, n, 128, 128), k_total, slice_bytes);
  float* out = sk.slices == 1 ? c : static_cast<float*>(workspace(sk.slices * slice_bytes, st));
  run(make(out, sk.chunk), sk.slices);
  if (sk.slices > 1) sum_splits(out, sk.slices, m * n, c, st);
}

}  // namespace sse::cuda
