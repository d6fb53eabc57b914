// kernels/cuda/conv3d_tc.cu — tensor-core (wmma) implicit GEMM for the convolutions (see
// conv3d_tc.cuh). Real GPUs only (sm_80+: cp.async, TF32/BF16 wmma): not part of the emulator build.
//
// Same blocking as the SIMT kernel (igemm.cuh): a block computes a BM × BN tile of C, walking K in
// BK-slices gathered through the problem's element addresses (implicit im2col). The gather is a
// software pipeline of S stages of 4-byte cp.async copies straight into shared memory (zero-filled
// where the problem gives no address: padding, tile edges), so loads of the next slices are in
// flight while the current one is multiplied and no registers hold staged data. TF32 fragments are
// rounded to nearest after loading; BF16 stages are converted into one bf16 buffer before use.
// Warps are laid out WM × WN over the tile, each owning (BM/WM) × (BN/WN) of 16 × 16 accumulator
// fragments. An operand loaded with lanes along k is stored k-contiguous (row-major A, column-major
// B), otherwise row-contiguous, so the copies are conflict-free and wmma reads either layout. The
// epilogue stages C through shared memory and calls the problem's store with float4 rows.
#include <mma.h>
#include <cuda_bf16.h>

#include <type_traits>

#include "kernels/cuda/conv3d_tc.cuh"
#include "kernels/cuda/cp_async.cuh"
#include "kernels/cuda/igemm.cuh"

namespace sse::cuda {
namespace {

using namespace nvcuda;

template <TcPrecision> struct TcTraits;
template <> struct TcTraits<TcPrecision::TF32> {
  using FragIn = wmma::precision::tf32;
  static constexpr int kK = 8;  // mma K
  __device__ static float convert(float v) { return wmma::__float_to_tf32(v); }
  // Fragments are loaded from fp32 copies: round each element to nearest TF32, as wmma requires.
  template <class Frag> __device__ static void round(Frag& f) {
#pragma unroll
    for (int e = 0; e < f.num_elements; ++e) f.x[e] = wmma::__float_to_tf32(f.x[e]);
  }
};
template <> struct TcTraits<TcPrecision::BF16> {
  using FragIn = __nv_bfloat16;
  static constexpr int kK = 16;
  __device__ static __nv_bfloat16 convert(float v) { return __float2bfloat16_rn(v); }
  template <class Frag> __device__ static void round(Frag&) {}  // rounded when converted to bf16
};

template <int BM_, int BN_, int BK_, int WM_, int WN_> struct TcCfg {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, WM = WM_, WN = WN_;
  static constexpr int kThreads = WM * WN * 32;
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;  // warp tile
  static constexpr int FM = kWarpM / 16, FN = kWarpN / 16;   // fragments per warp
  static constexpr int kALoads = BM * BK / kThreads, kBLoads = BK * BN / kThreads;
  static_assert(FM >= 1 && FN >= 1 && kWarpM % 16 == 0 && kWarpN % 16 == 0, "16 × 16 fragments");
  static_assert((BM * BK) % kThreads == 0 && (BK * BN) % kThreads == 0, "tiles split evenly over threads");
};

// Shared-memory geometry of one operand tile of `rows` × BK elements: k-contiguous ([row][k]) when the
// operand is loaded along k, else row-contiguous ([k][row]). The padding keeps every fragment's first
// element 32-byte aligned (wmma) and spreads the copies' and fragment loads' banks.
template <int Rows, int BK, int Pad, bool KContig> struct TileLayout {
  static constexpr int ld = KContig ? BK + Pad : Rows + Pad;
  static constexpr int elems = KContig ? Rows * ld : BK * ld;
  __device__ static int at(int row, int k) { return KContig ? row * ld + k : k * ld + row; }
};

// The operand tiles of one pipeline stage, as fp32 (what cp.async copies).
template <class Cfg, class P> struct StageLayout {
  using A = TileLayout<Cfg::BM, Cfg::BK, 4, P::kALanesK>;
  using B = TileLayout<Cfg::BN, Cfg::BK, 4, P::kBLanesK>;
  static constexpr int floats = A::elems + B::elems;
};

// BF16 fragments load from bf16 memory: each stage is converted into this single buffer first.
template <class Cfg, class P> struct Bf16Layout {
  using A = TileLayout<Cfg::BM, Cfg::BK, 8, P::kALanesK>;
  using B = TileLayout<Cfg::BN, Cfg::BK, 8, P::kBLanesK>;
  static constexpr int elems = A::elems + B::elems;
};

template <TcPrecision Prec> constexpr int stages() { return Prec == TcPrecision::TF32 ? 3 : 2; }

// Dynamic shared memory, in order: the S pipeline stages (fp32), the bf16 buffer (BF16 only), and
// the tables of per-row state (ARef of the tile's BM rows, BRef of its BN columns). The epilogue
// reuses the memory from the start for the C tile.
template <class Cfg, TcPrecision Prec, class P> struct SmemPlan {
  static constexpr std::size_t pipe = stages<Prec>() * StageLayout<Cfg, P>::floats * sizeof(float);
  static constexpr std::size_t bf16 =
      Prec == TcPrecision::BF16 ? Bf16Layout<Cfg, P>::elems * sizeof(__nv_bfloat16) : 0;
  static constexpr std::size_t arefs = (pipe + bf16 + 15) / 16 * 16;
  static constexpr std::size_t brefs = (arefs + Cfg::BM * sizeof(typename P::ARef) + 15) / 16 * 16;
  static constexpr std::size_t tables_end = brefs + Cfg::BN * sizeof(typename P::BRef);
  static constexpr std::size_t c_tile = static_cast<std::size_t>(Cfg::BM) * (Cfg::BN + 4) * sizeof(float);
  static constexpr std::size_t bytes = tables_end > c_tile ? tables_end : c_tile;
};

template <class Cfg, TcPrecision Prec, class P>
__global__ void __launch_bounds__(Cfg::kThreads, 2) igemm_tc_kernel(const P p) {
  using Tr = TcTraits<Prec>;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, T = Cfg::kThreads, S = stages<Prec>();
  constexpr int NA = Cfg::kALoads, NB = Cfg::kBLoads;
  using SA = detail::LoadSlot<BM, BK, T, P::kALanesK>;
  using SB = detail::LoadSlot<BN, BK, T, P::kBLanesK>;
  using L = StageLayout<Cfg, P>;
  using H = Bf16Layout<Cfg, P>;
  using ALayout = std::conditional_t<P::kALanesK, wmma::row_major, wmma::col_major>;
  using BLayout = std::conditional_t<P::kBLanesK, wmma::col_major, wmma::row_major>;

  using Plan = SmemPlan<Cfg, Prec, P>;
  SSE_DYNAMIC_SHARED(unsigned char, raw);
  float* const smem = reinterpret_cast<float*>(raw);
  __nv_bfloat16* const half = reinterpret_cast<__nv_bfloat16*>(raw + Plan::pipe);
  typename P::ARef* const arefs = reinterpret_cast<typename P::ARef*>(raw + Plan::arefs);
  typename P::BRef* const brefs = reinterpret_cast<typename P::BRef*>(raw + Plan::brefs);

  const int t = static_cast<int>(threadIdx.x), warp = t / 32;
  const int wm = warp / Cfg::WN, wn = warp % Cfg::WN;
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const typename P::Slice sl = p.slice(static_cast<int>(blockIdx.z));

  detail::fill_ref_tables(p, sl, m0, n0, BM, BN, arefs, brefs);

  // Enqueues the copies of the slice at k0 into pipeline stage `st`.
  auto issue = [&](int st, index_t k0) {
    const typename P::KTile kt = p.ktile(sl, k0);
    float* const as = smem + st * L::floats;
    float* const bs = as + L::A::elems;
#pragma unroll
    for (int i = 0; i < NA; ++i)
      cp_async4(as + L::A::at(SA::row(t, i), SA::k(t, i)),
                p.a_ptr(sl, arefs[SA::row(t, i)], p.kpos(sl, kt, SA::k(t, i))));
#pragma unroll
    for (int i = 0; i < NB; ++i)
      cp_async4(bs + L::B::at(SB::row(t, i), SB::k(t, i)),
                p.b_ptr(sl, brefs[SB::row(t, i)], p.kpos(sl, kt, SB::k(t, i))));
  };
  // BF16: this thread's share of stage st, rounded into the bf16 buffer (the slots it copied).
  auto to_bf16 = [&](int st) {
    const float* as = smem + st * L::floats;
    const float* bs = as + L::A::elems;
#pragma unroll
    for (int i = 0; i < NA; ++i)
      half[H::A::at(SA::row(t, i), SA::k(t, i))] = Tr::convert(as[L::A::at(SA::row(t, i), SA::k(t, i))]);
#pragma unroll
    for (int i = 0; i < NB; ++i)
      half[H::A::elems + H::B::at(SB::row(t, i), SB::k(t, i))] =
          Tr::convert(bs[L::B::at(SB::row(t, i), SB::k(t, i))]);
  };

  wmma::fragment<wmma::accumulator, 16, 16, Tr::kK, float> acc[Cfg::FM][Cfg::FN];
#pragma unroll
  for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  // Multiplies the BK-slice held at a_tile / b_tile, laid out as la / lb describe.
  auto multiply = [&](const auto* a_tile, const auto* b_tile, auto la, auto lb) {
    using LA = decltype(la);
    using LB = decltype(lb);
#pragma unroll
    for (int kk = 0; kk < BK; kk += Tr::kK) {
      wmma::fragment<wmma::matrix_a, 16, 16, Tr::kK, typename Tr::FragIn, ALayout> fa[Cfg::FM];
      wmma::fragment<wmma::matrix_b, 16, 16, Tr::kK, typename Tr::FragIn, BLayout> fb[Cfg::FN];
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i) {
        wmma::load_matrix_sync(fa[i], a_tile + LA::at(wm * Cfg::kWarpM + i * 16, kk), LA::ld);
        Tr::round(fa[i]);
      }
#pragma unroll
      for (int j = 0; j < Cfg::FN; ++j) {
        wmma::load_matrix_sync(fb[j], b_tile + LB::at(wn * Cfg::kWarpN + j * 16, kk), LB::ld);
        Tr::round(fb[j]);
      }
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
        for (int j = 0; j < Cfg::FN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  };

  // Software pipeline, S stages: slice `it` is multiplied while slices it+1 .. it+S−1 are in flight.
  const int slices = static_cast<int>((sl.k_end - sl.k_begin + BK - 1) / BK);
#pragma unroll
  for (int s = 0; s < S - 1; ++s) {
    if (s < slices) issue(s, sl.k_begin + static_cast<index_t>(s) * BK);
    cp_async_commit();
  }
  for (int it = 0; it < slices; ++it) {
    cp_async_wait<S - 2>();  // this thread's copies of slice `it` have landed ...
    __syncthreads();         // ... and everyone's; and the stage refilled next was consumed at it − 1
    const int next = it + S - 1;
    if (next < slices) issue(next % S, sl.k_begin + static_cast<index_t>(next) * BK);
    cp_async_commit();
    const int st = it % S;
    if constexpr (Prec == TcPrecision::BF16) {
      to_bf16(st);
      __syncthreads();
      multiply(half, half + H::A::elems, typename H::A{}, typename H::B{});
    } else {
      const float* as = smem + st * L::floats;
      multiply(as, as + L::A::elems, typename L::A{}, typename L::B{});
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // the pipeline's shared memory is reused for the epilogue below

  // Epilogue: fragments → shared memory → coalesced float4 rows through the problem's store.
  constexpr int ldc = BN + 4;
  float* const Cs = smem;
#pragma unroll
  for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::FN; ++j)
      wmma::store_matrix_sync(Cs + (wm * Cfg::kWarpM + i * 16) * ldc + wn * Cfg::kWarpN + j * 16, acc[i][j], ldc,
                              wmma::mem_row_major);
  __syncthreads();
  for (int e = t; e < BM * (BN / 4); e += T) {
    const int r = e / (BN / 4), c = (e % (BN / 4)) * 4;
    p.store(sl, m0 + r, n0 + c, *reinterpret_cast<const float4*>(Cs + r * ldc + c));
  }
}

template <class Cfg, TcPrecision Prec, class P> void launch_tc(const P& p, int slices, cudaStream_t st) {
  constexpr std::size_t smem = SmemPlan<Cfg, Prec, P>::bytes;
  auto* kernel = igemm_tc_kernel<Cfg, Prec, P>;
  static const bool configured = [&] {  // once per instantiation: allow > 48 KB of shared memory
    SSE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    return true;
  }();
  (void)configured;
  const dim3 grid(ceil_div(p.N, Cfg::BN), ceil_div(p.M, Cfg::BM), static_cast<unsigned>(slices));
  launch(kernel, grid, dim3(Cfg::kThreads), smem, st, p);
}

// Tile shapes: 8 warps each; narrower tiles for GEMMs with few rows.
using TcLarge = TcCfg<128, 128, 32, 2, 4>;
using TcMid = TcCfg<64, 128, 32, 2, 4>;
using TcNarrow = TcCfg<32, 128, 32, 2, 4>;
using TcThin = TcCfg<16, 256, 32, 1, 8>;

template <TcPrecision Prec, class P> void dispatch_tile(const P& p, int slices, cudaStream_t st) {
  const index_t tiles128 = static_cast<index_t>(ceil_div(p.M, 128)) * ceil_div(p.N, 128) * slices;
  if (p.M <= 16) return launch_tc<TcThin, Prec>(p, slices, st);
  if (p.M <= 32) return launch_tc<TcNarrow, Prec>(p, slices, st);
  if (p.M > 64 && tiles128 >= sm_count()) return launch_tc<TcLarge, Prec>(p, slices, st);
  launch_tc<TcMid, Prec>(p, slices, st);
}

}  // namespace

template <class P> void run_igemm_tc(const P& p, int slices, TcPrecision prec, cudaStream_t st) {
  if (prec == TcPrecision::TF32) {
    dispatch_tile<TcPrecision::TF32>(p, slices, st);
  } else {
    dispatch_tile<TcPrecision::BF16>(p, slices, st);
  }
}

template void run_igemm_tc(const ConvWxProblem<1>&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const ConvWxProblem<3>&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const ConvWgradProblem<1>&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const ConvWgradProblem<3>&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const UpForwardProblem&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const UpBackwardDataProblem&, int, TcPrecision, cudaStream_t);
template void run_igemm_tc(const UpWgradProblem&, int, TcPrecision, cudaStream_t);

}  // namespace sse::cuda
