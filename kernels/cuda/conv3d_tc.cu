// kernels/cuda/conv3d_tc.cu — tensor-core (wmma) implicit GEMM for the convolutions (see
// conv3d_tc.cuh). Real GPUs only (sm_80+): not part of the emulator build.
//
// Same blocking as the SIMT kernel (igemm.cuh): a block computes a BM × BN tile of C, walking K in
// BK-slices that are loaded through the problem's element functions (implicit im2col), rounded to
// the input precision once when stored to shared memory, and double-buffered (the next slice's
// global loads are in flight during the current slice's mma). Warps are laid out WM × WN over the
// tile, each owning (BM/WM) × (BN/WN) of 16 × 16 accumulator fragments. An operand loaded with
// lanes along k is stored k-contiguous (row-major A / column-major B), otherwise row-contiguous, so
// shared-memory stores stay conflict-free and wmma reads either layout. The epilogue stages C through
// shared memory and calls the problem's store with float4 rows (coalesced, bounds-checked there).
#include <mma.h>
#include <cuda_bf16.h>

#include <type_traits>

#include "kernels/cuda/conv3d_tc.cuh"
#include "kernels/cuda/igemm.cuh"

namespace sse::cuda {
namespace {

using namespace nvcuda;

template <TcPrecision> struct TcTraits;
template <> struct TcTraits<TcPrecision::TF32> {
  using Elem = float;                   // shared-memory element (already rounded to TF32)
  using FragIn = wmma::precision::tf32;
  static constexpr int kK = 8, kPad = 4;  // mma K; row padding (ldm must be a multiple of 16 bytes)
  // Rounding once here, at the store to shared memory, replaces the per-fragment __float_to_tf32
  // that wmma expects: the low mantissa bits are already zero when the fragment is loaded.
  __device__ static float convert(float v) { return wmma::__float_to_tf32(v); }
};
template <> struct TcTraits<TcPrecision::BF16> {
  using Elem = __nv_bfloat16;
  using FragIn = __nv_bfloat16;
  static constexpr int kK = 16, kPad = 8;
  __device__ static __nv_bfloat16 convert(float v) { return __float2bfloat16_rn(v); }
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

// Shared-memory geometry of one operand tile: `rows` × BK, k-contiguous when loaded along k.
template <int Rows, int BK, int Pad, bool KContig> struct TileLayout {
  static constexpr int ld = KContig ? BK + Pad : Rows + Pad;
  static constexpr int elems = KContig ? Rows * ld : BK * ld;
  __device__ static int at(int row, int k) { return KContig ? row * ld + k : k * ld + row; }
};

template <class Cfg, TcPrecision Prec> constexpr std::size_t tc_smem_bytes(bool a_k, bool b_k) {
  using Tr = TcTraits<Prec>;
  const std::size_t a = a_k ? Cfg::BM * (Cfg::BK + Tr::kPad) : Cfg::BK * (Cfg::BM + Tr::kPad);
  const std::size_t b = b_k ? Cfg::BN * (Cfg::BK + Tr::kPad) : Cfg::BK * (Cfg::BN + Tr::kPad);
  const std::size_t stages = 2 * (a + b) * sizeof(typename Tr::Elem);
  const std::size_t c = static_cast<std::size_t>(Cfg::BM) * (Cfg::BN + 4) * sizeof(float);
  return stages > c ? stages : c;
}

template <class Cfg, TcPrecision Prec, class P>
__global__ void __launch_bounds__(Cfg::kThreads) igemm_tc_kernel(const P p) {
  using Tr = TcTraits<Prec>;
  using E = typename Tr::Elem;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, T = Cfg::kThreads;
  constexpr int NA = Cfg::kALoads, NB = Cfg::kBLoads;
  using SA = detail::LoadSlot<BM, BK, T, P::kALanesK>;
  using SB = detail::LoadSlot<BN, BK, T, P::kBLanesK>;
  using LA = TileLayout<BM, BK, Tr::kPad, P::kALanesK>;
  using LB = TileLayout<BN, BK, Tr::kPad, P::kBLanesK>;
  using ALayout = std::conditional_t<P::kALanesK, wmma::row_major, wmma::col_major>;
  using BLayout = std::conditional_t<P::kBLanesK, wmma::col_major, wmma::row_major>;

  SSE_DYNAMIC_SHARED(unsigned char, smem);
  E* const As = reinterpret_cast<E*>(smem);
  E* const Bs = As + 2 * LA::elems;

  const int t = static_cast<int>(threadIdx.x), warp = t / 32;
  const int wm = warp / Cfg::WN, wn = warp % Cfg::WN;
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const typename P::Slice sl = p.slice(static_cast<int>(blockIdx.z));

  typename P::ARef aref[NA];
  typename P::BRef bref[NB];
#pragma unroll
  for (int i = 0; i < NA; ++i) aref[i] = p.a_ref(sl, m0 + SA::row(t, i));
#pragma unroll
  for (int i = 0; i < NB; ++i) bref[i] = p.b_ref(sl, n0 + SB::row(t, i));

  float ra[NA], rb[NB];
  auto load = [&](index_t k0) {
    const typename P::KTile kt = p.ktile(sl, k0);
#pragma unroll
    for (int i = 0; i < NA; ++i) ra[i] = p.a(sl, aref[i], p.kpos(sl, kt, SA::k(t, i)));
#pragma unroll
    for (int i = 0; i < NB; ++i) rb[i] = p.b(sl, bref[i], p.kpos(sl, kt, SB::k(t, i)));
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < NA; ++i) As[buf * LA::elems + LA::at(SA::row(t, i), SA::k(t, i))] = Tr::convert(ra[i]);
#pragma unroll
    for (int i = 0; i < NB; ++i) Bs[buf * LB::elems + LB::at(SB::row(t, i), SB::k(t, i))] = Tr::convert(rb[i]);
  };

  wmma::fragment<wmma::accumulator, 16, 16, Tr::kK, float> acc[Cfg::FM][Cfg::FN];
#pragma unroll
  for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  int buf = 0;
  load(sl.k_begin);
  stash(0);
  __syncthreads();
  for (index_t k0 = sl.k_begin; k0 < sl.k_end; k0 += BK) {
    const bool more = k0 + BK < sl.k_end;
    if (more) load(k0 + BK);  // in flight during the mma below
    const E* a_tile = As + buf * LA::elems;
    const E* b_tile = Bs + buf * LB::elems;
#pragma unroll
    for (int kk = 0; kk < BK; kk += Tr::kK) {
      wmma::fragment<wmma::matrix_a, 16, 16, Tr::kK, typename Tr::FragIn, ALayout> fa[Cfg::FM];
      wmma::fragment<wmma::matrix_b, 16, 16, Tr::kK, typename Tr::FragIn, BLayout> fb[Cfg::FN];
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i)
        wmma::load_matrix_sync(fa[i], a_tile + LA::at(wm * Cfg::kWarpM + i * 16, kk), LA::ld);
#pragma unroll
      for (int j = 0; j < Cfg::FN; ++j)
        wmma::load_matrix_sync(fb[j], b_tile + LB::at(wn * Cfg::kWarpN + j * 16, kk), LB::ld);
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
        for (int j = 0; j < Cfg::FN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    if (more) stash(buf ^ 1);
    __syncthreads();
    buf ^= 1;
  }

  // Epilogue: fragments → shared memory (the operand tiles are dead now) → coalesced float4 rows.
  constexpr int ldc = BN + 4;
  float* const Cs = reinterpret_cast<float*>(smem);
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
  constexpr std::size_t smem = tc_smem_bytes<Cfg, Prec>(P::kALanesK, P::kBLanesK);
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

}  // namespace sse::cuda
