// Winograd F(m,3)³ convolution: the driver (see kernels/cpu/conv3d_winograd.h; buffer layouts in
// kernels/cpu/winograd_kernels.h; vector kernels in kernels/cpu/winograd_simd.h).
//
// Per call: the weights are transformed once (in double, rounded once) into U. The tiles are grouped in
// blocks (a few tile rows of one tile layer); threads take columns of blocks (dynamic schedule) and walk
// each up through the tile layers, running every block through three stages: the x-y transforms of its
// input planes (straight from the input volume; the planes two layers share are transformed once), the
// α³ GEMMs into M (the z transform done one ξ at a time into the B operand, in cache), the output
// transform into y. Memory: U plus, per thread, one block's planes, M and B — never the transformed
// volume. Each output value is computed by one block in a fixed
// order, so results do not depend on the thread count.
#include "kernels/cpu/conv3d_winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_avx2.h"
#include "kernels/cpu/gemm_avx2.h"
#include "kernels/cpu/winograd_kernels.h"

namespace sse::cpu::winograd {

bool supported() { return avx2::supported(); }
bool avx512_supported() {
  static const bool ok = avx2::supported() && __builtin_cpu_supports("avx512f");
  return ok;
}

namespace {
Isa g_isa = Isa::Auto;

// AVX-512's gain here is width alone, so it pays only where a core issues two 512-bit FMAs per cycle.
// The Xeons with AMX (Sapphire Rapids on) do: on one (2 cores, bench/RESULTS.md) the AVX-512 kernels
// ran the whole 88×92×92 inference 15 % faster. Elsewhere — CPUs that may have one 512-bit FMA port,
// or split AVX-512 into two 256-bit halves — AVX2 stays the default (not measured there yet).
Isa isa_for_cpu() {
  static const bool amx = avx512_supported() && __builtin_cpu_supports("amx-tile");
  return amx ? Isa::Avx512 : Isa::Avx2;
}

const Kernels& kernels() {
  const Isa i = g_isa == Isa::Auto ? isa_for_cpu() : g_isa;
  return i == Isa::Avx512 ? kernels_avx512() : kernels_avx2();
}

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

Geometry geometry(const Conv3dShape& s, int m) {
  Geometry g;
  g.m = m;
  g.alpha = m + 2;
  g.d = s.d;
  g.h = s.h;
  g.w = s.w;
  g.nzt = ceil_div(s.d, m);
  g.nyt = ceil_div(s.h, m);
  g.nxt = ceil_div(s.w, m);
  g.tiles = g.nzt * g.nyt * g.nxt;
  return g;
}

// Tile slots of a block: at most kMaxSlots, and V and M within kBlockBytes.
constexpr index_t kMaxSlots = 96;
constexpr std::size_t kBlockBytes = 16u << 20;

// The block shape of g's tiling: `cols` tile columns (the whole row when it fits) times `rows` tile rows:
// the most tile slots (up to max_slots; more slots share each load of U) among the shapes within 2 % of
// the least waste — slots past the volume's rows and the GEMM panels' padding.
void block_shape(const Geometry& g, index_t max_slots, index_t nr, index_t& rows, index_t& cols) {
  const index_t segments = ceil_div(g.nxt, std::max(nr, max_slots / nr * nr));
  cols = ceil_div(g.nxt, segments);
  const index_t k_max = std::min(g.nyt, std::max<index_t>(1, max_slots / cols));
  auto waste = [&](index_t k) {
    const double slots = static_cast<double>(ceil_div(g.nyt, k) * ceil_div(k * cols, nr) * nr);
    return 1.0 - static_cast<double>(g.nyt * cols) / slots;
  };
  double best = 1.0;
  for (index_t k = 1; k <= k_max; ++k) best = std::min(best, waste(k));
  rows = 1;
  for (index_t k = 1; k <= k_max; ++k)
    if (waste(k) <= best + 0.02) rows = k;
}

void run(const Conv3dShape& s, int m, index_t kin, index_t kout, const ConvChannels& x, const WeightSource& wt,
         const float* bias, const ConvEpilogue& ep, float* y) {
  const Kernels& K = kernels();
  const int a = m + 2;
  const index_t xi = index_t{a} * a * a, groups = ceil_div(kout, K.mr);
  float* u = scratch(static_cast<std::size_t>(xi * groups * K.mr * kin), 2);
#pragma omp parallel for schedule(dynamic, 1) if (kout * kin >= 256)
  for (index_t gi = 0; gi < groups; ++gi) K.weights(wt, m, kout, kin, gi * K.mr, (gi + 1) * K.mr, u);

  const Geometry g = geometry(s, m);
  const index_t fit = static_cast<index_t>(kBlockBytes / (sizeof(float) * xi * (kin + kout)));
  index_t rows = 1, cols = 1;
  block_shape(g, std::clamp<index_t>(fit, K.nr, kMaxSlots), K.nr, rows, cols);
  const index_t tb = ceil_div(rows * cols, K.nr) * K.nr;
  // Units of work: a column of blocks (rows × cols tiles) walked up through a range of tile layers; the
  // layers split into ranges (of two layers at least) only when there are too few columns for the threads.
  const index_t row_groups = ceil_div(g.nyt, rows), col_groups = ceil_div(g.nxt, cols);
  const index_t columns = s.n * row_groups * col_groups, threads = omp_get_max_threads();
  const index_t zsegs = std::clamp<index_t>(ceil_div(2 * threads, columns), 1, std::max<index_t>(1, g.nzt / 2));
  const index_t units = columns * zsegs;
  const index_t vol = s.voxels();
  std::vector<const float*> chans(static_cast<std::size_t>(s.n * kin));
  for (index_t n = 0; n < s.n; ++n)
    for (index_t c = 0; c < kin; ++c) chans[static_cast<std::size_t>(n * kin + c)] = x.image(n, kin).at(c);
  const double flops = 2.0 * xi * kin * kout * g.tiles * s.n;
#pragma omp parallel if (flops > 4e6 && units > 1)
  {
    float* planes = scratch(static_cast<std::size_t>(kin * channel_planes_floats(g, tb)), 0);
    float* mb = scratch(static_cast<std::size_t>(xi * m_stride(kout, tb)), 1);
    float* bbuf = scratch(static_cast<std::size_t>(kin * tb + input_work_floats(g, cols)), 3);
    float* work = bbuf + kin * tb;
#pragma omp for schedule(dynamic, 1)
    for (index_t it = 0; it < units; ++it) {
      const index_t col = it / zsegs, zs = it % zsegs, n = col / (row_groups * col_groups);
      const index_t rg = (col / col_groups) % row_groups, cg = col % col_groups;
      const index_t tz0 = g.nzt * zs / zsegs, tz1 = g.nzt * (zs + 1) / zsegs;
      Block b{0, rg * rows, rows, cg * cols, std::min(cols, g.nxt - cg * cols), true};
      for (b.tz = tz0; b.tz < tz1; ++b.tz, b.first = false) {
        K.input(g, chans.data() + n * kin, kin, b, tb, planes, work);
        K.gemm(g, u, kin, kout, b.tz, planes, tb, bbuf, mb);
        K.output(g, mb, kout, b, tb, bias, ep, y + n * kout * vol);
      }
    }
  }
}

// The weight gradient: dU[ξ] = Σ over tiles of Ŷ[ξ] ⊙ V[ξ] (Ŷ = A dy Aᵀ, V = Bᵀ x B), a GEMM per ξ
// over the tiles of each block (kin × tb by tb × kout, on gemm_packed), then dW = Gᵀ dU G. Each thread
// (lane) sums its own units of blocks — a fixed share, in a fixed order — into its own dU, and the
// lanes' dU are added in lane order: no synchronisation until the end, and the same bits on every run
// with the same thread count. Lanes cost 4·α³·kin·kout bytes each: at most kWeightGradBytes in all.
constexpr std::size_t kWeightGradBytes = 256u << 20;

void run_weight_grad(const Conv3dShape& s, int m, const float* x, const float* dy, float* dw) {
  const Kernels& K = kernels();
  const int a = m + 2;
  // dU rows and the GEMM's B padded to whole 24-column panels of gemm_packed (its tail path copies).
  const index_t kin = s.c_in, kout = s.c_out, kop = ceil_div(kout, 24) * 24, vol = s.voxels();
  const index_t xi_n = index_t{a} * a * a, du = xi_n * kin * kop;
  const Geometry g = geometry(s, m);
  index_t rows = 1, cols = 1;
  block_shape(g, kMaxSlots, K.nr, rows, cols);
  const index_t tb = ceil_div(rows * cols, K.nr) * K.nr, ot = adjoint_row(tb), ms = m_stride(kout, ot);
  const index_t cs = channel_planes_floats(g, tb);
  const double flops = 2.0 * xi_n * kin * kout * g.tiles * s.n;
  const index_t lanes = flops > 4e6 ? std::clamp<index_t>(static_cast<index_t>(kWeightGradBytes / (sizeof(float) * du)), 1,
                                                          omp_get_max_threads())
                                    : 1;
  // Units: a column of blocks over a range of tile layers, at least 4 per lane; unit u belongs to lane
  // u mod lanes.
  const index_t row_groups = ceil_div(g.nyt, rows), col_groups = ceil_div(g.nxt, cols);
  const index_t columns = s.n * row_groups * col_groups;
  const index_t zsegs = std::clamp<index_t>(ceil_div(4 * lanes, columns), 1, std::max<index_t>(1, g.nzt / 2));
  const index_t units = columns * zsegs;
  float* dut = scratch(static_cast<std::size_t>(lanes * du), 2);
#pragma omp parallel num_threads(static_cast<int>(lanes))
  {
    const index_t lane = omp_get_thread_num();
    float* mine = dut + lane * du;
    std::fill(mine, mine + du, 0.0f);
    const index_t apack_floats = ceil_div(kin, 4) * 4 * tb, bt_floats = tb * kop;
    float* planes = scratch(static_cast<std::size_t>(kin * cs), 0);
    float* mh = scratch(static_cast<std::size_t>(xi_n * ms), 1);
    float* apack = scratch(static_cast<std::size_t>(apack_floats + bt_floats + input_work_floats(g, cols)), 3);
    float* bt = apack + apack_floats;
    float* work = bt + bt_floats;
    std::fill(bt, bt + bt_floats, 0.0f);  // columns past kout stay zero
    std::vector<const float*> xc(static_cast<std::size_t>(kin)), dyc(static_cast<std::size_t>(kout));
    for (index_t it = lane; it < units; it += lanes) {
      const index_t col = it / zsegs, zs = it % zsegs, n = col / (row_groups * col_groups);
      const index_t rg = (col / col_groups) % row_groups, cg = col % col_groups;
      for (index_t c = 0; c < kin; ++c) xc[static_cast<std::size_t>(c)] = x + (n * kin + c) * vol;
      for (index_t o = 0; o < kout; ++o) dyc[static_cast<std::size_t>(o)] = dy + (n * kout + o) * vol;
      Block b{0, rg * rows, rows, cg * cols, std::min(cols, g.nxt - cg * cols), true};
      const index_t tz0 = g.nzt * zs / zsegs, tz1 = g.nzt * (zs + 1) / zsegs;
      for (b.tz = tz0; b.tz < tz1; ++b.tz, b.first = false) {
        K.input(g, xc.data(), kin, b, tb, planes, work);
        K.adjoint(g, dyc.data(), kout, b, tb, mh, ms, work);
        for (index_t xi = 0; xi < xi_n; ++xi) {
          K.v_packed(g, kin, b.tz, planes, tb, xi, apack);
          const float* mx = mh + xi * ms;
          for (index_t o = 0; o < kout; ++o)
            for (index_t t = 0; t < tb; ++t) bt[t * kop + o] = mx[o * ot + t];
          avx2::gemm_packed(kin, kop, tb, apack, bt, kop, mine + xi * kin * kop, kop, true);
        }
      }
    }
#pragma omp barrier
    // dU = the lanes' sum in lane order (split by ξ), then dw.
#pragma omp for schedule(static)
    for (index_t xi = 0; xi < xi_n; ++xi)
      for (index_t l = 1; l < lanes; ++l) {
        float* d0 = dut + xi * kin * kop;
        const float* dl = dut + l * du + xi * kin * kop;
        for (index_t i = 0; i < kin * kop; ++i) d0[i] += dl[i];
      }
#pragma omp for schedule(static)
    for (index_t o0 = 0; o0 < kout; o0 += 8) K.weights_grad(m, dut, kop, kin, o0, std::min(o0 + 8, kout), dw);
  }
}

void check_args(const Conv3dShape& s, int m, const char* op) {
  kernel_check(s.k == 3, op, "Winograd convolution needs k = 3");
  kernel_check(m == 2 || m == 4, op, "tile must be 2 or 4");
  kernel_check(supported(), op, "this CPU has no AVX2+FMA");
}

}  // namespace

void set_isa(Isa isa) {
  kernel_check(isa != Isa::Avx512 || avx512_supported(), "winograd::set_isa", "this CPU has no AVX-512F");
  g_isa = isa;
}
Isa isa() { return g_isa; }

void conv3_forward(const Conv3dShape& s, int m, const float* x1, index_t c_in1, const float* x2, const float* w,
                   const float* b, const ConvEpilogue& ep, float* y) {
  check_args(s, m, "winograd::conv3_forward");
  run(s, m, s.c_in, s.c_out, ConvChannels{x1, c_in1, x2, s.voxels()}, WeightSource{w, s.c_in, false}, b, ep, y);
}

void conv3_backward_data(const Conv3dShape& s, int m, const float* dy, const float* w, float* dx) {
  check_args(s, m, "winograd::conv3_backward_data");
  run(s, m, s.c_out, s.c_in, ConvChannels{dy, s.c_out, nullptr, s.voxels()}, WeightSource{w, s.c_in, true}, nullptr,
      ConvEpilogue{}, dx);
}

void conv3_backward_weight(const Conv3dShape& s, int m, const float* x, const float* dy, float* dw) {
  check_args(s, m, "winograd::conv3_backward_weight");
  run_weight_grad(s, m, x, dy, dw);
}

int choose_tile(index_t kin, index_t kout, index_t d, index_t h, index_t w, bool weight_grad) {
  // Measured per U-Net layer (bench/conv_winograd_timing, bench/RESULTS.md): the transforms cost about
  // as much per channel as α³ multiply-adds of the GEMM per channel pair, so Winograd needs enough
  // channels on both sides; F(4,3)'s 6³ input tiles waste too much on volumes under 24 voxels a side,
  // where F(2,3) wins (measured at 16 and 22–23 a side; F(4,3) at 32 and more), and tiny volumes stay
  // direct (the weight transform would dominate). The weight gradient, with its extra packing per ξ
  // and block, wins from 32 voxels a side.
  if (!supported() || kin < 8 || kout < 8 || d * h * w < 8 * 8 * 8) return 0;
  const index_t edge = std::min({d, h, w});
  if (weight_grad) return edge >= 32 ? 4 : 0;
  return edge < 24 ? 2 : 4;
}

}  // namespace sse::cpu::winograd
