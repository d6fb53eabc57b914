// kernels/cpu/winograd_kernels.h — what the Winograd driver (kernels/cpu/conv3d_winograd.cpp) and its
// vector kernels (kernels/cpu/winograd_simd.h, compiled once for AVX2 and once for AVX-512) share: the
// transform matrices, the geometry of a slab of tiles, the buffer layouts, and the table of kernels
// one instruction set provides. Internal to kernels/cpu.
//
// Tiles: the output volume is cut into nzt × nyt × nxt tiles of m³ voxels (the last ones along an axis
// may stick out of the volume; their outside voxels are computed and dropped). Work goes in blocks: the
// tiles of `rows` tile rows from ty0 and `cols` tile columns from tx0 in one tile layer tz, numbered
// i = r·cols + c (tb = the block's tile slots, rows·cols rounded up to a multiple of nr). A thread walks
// a column of blocks up through tz, so the input planes two consecutive layers share (z = 4tz − 1, 4tz
// for m = 4) are transformed once. Per thread:
//  * planes (planes_floats): per input channel (stride α·α²·ps), α slots of x-y transformed input
//    planes P[ξy·α + ξx][i] (ps = tb + 16 per ξ'): input plane dz of the block's tiles is in slot
//    plane_slot(m, dz, tz) — the α − m planes shared with the layer above alternate by tz parity with
//    those shared with the layer below;
//  * bbuf (kin·tb): the GEMM's B operand for one ξ, Bᵀ along z of the planes, [panel][c][nr], built
//    right before the micro-kernels use it (the transformed input V is never stored whole);
//  * M (products): M[ξ][o][tb], ξ = (ξz·α + ξy)·α + ξx (ξ stride m_stride);
//  * work (input_work_floats): input rows split by x phase (so a tile row's stride-m reads become
//    contiguous vectors).
// U (transformed weights, shared): U[ξ][group][c][mr], output channels in groups of mr (zero rows
// past kout).
#pragma once

#include <algorithm>

#include "kernels/conv3d.h"

namespace sse::cpu::winograd {

// F(m, 3) transforms (bench/winograd_points.py --emit): y = Aᵀ[(G g) ⊙ (Bᵀ d)] in one dimension.
template <int M> struct Matrices;
// F(2,3), points {0, 1, −1, ∞}.
template <> struct Matrices<2> {
  static constexpr int kAlpha = 4;
  static constexpr float kBT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, -1, 0, 1}};
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr float kAT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, 1}};
};
// F(4,3), points {0, 1, −1, 1/2, −2, ∞}: ≈ 5× less rounding error than {0, ±1, ±2, ∞} (bench/RESULTS.md).
template <> struct Matrices<4> {
  static constexpr int kAlpha = 6;
  static constexpr float kBT[6][6] = {{2, -3, -4, 3, 2, 0},  {0, -2, 1, 5, 2, 0},  {0, -2, 5, -1, -2, 0},
                                      {0, 2, 1, -2, -1, 0},  {0, 1, -2, -1, 2, 0}, {0, 2, -3, -4, 3, 2}};
  static constexpr double kG[6][3] = {{1.0 / 2, 0, 0},
                                      {1.0 / 6, 1.0 / 6, 1.0 / 6},
                                      {1.0 / 6, -1.0 / 6, 1.0 / 6},
                                      {16.0 / 15, 8.0 / 15, 4.0 / 15},
                                      {1.0 / 30, -1.0 / 15, 2.0 / 15},
                                      {0, 0, 1.0 / 2}};
  static constexpr float kAT[4][6] = {
      {1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5f, -2, 0}, {0, 1, 1, 0.25f, 4, 0}, {0, 1, -1, 0.125f, -8, 1}};
};

// The tiling of one convolution's volume.
struct Geometry {
  int m = 4, alpha = 6;
  index_t d = 0, h = 0, w = 0;            // the volume (input and output)
  index_t nzt = 0, nyt = 0, nxt = 0;      // tiles along each axis
  index_t tiles = 0;                      // nzt·nyt·nxt
};

// A = (Aᵀ)ᵀ (α × m): the adjoint of the output transform, which the weight gradient applies to dy.
template <int M> struct Adjoint {
  float a[M + 2][M]{};
  constexpr Adjoint() {
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < M + 2; ++j) a[j][i] = Matrices<M>::kAT[i][j];
  }
};
template <int M> inline constexpr Adjoint<M> kAdjoint{};

// The 3×3×3 weights of a forward-shaped convolution with kout outputs and kin inputs: g(o, c, tap) =
// w[o][c][tap], or for the data gradient (flip) w[c][o][26 − tap] of the original (c_out = kin, c_in)
// weights.
struct WeightSource {
  const float* w;
  index_t c_in;  // of the original weights
  bool flip;
  float operator()(index_t o, index_t c, int tap) const {
    return flip ? w[(c * c_in + o) * 27 + 26 - tap] : w[(o * c_in + c) * 27 + tap];
  }
};

// One block of tiles (see the layout above). first: the first block of its column, whose shared
// planes are not in `keep` yet.
struct Block {
  index_t tz, ty0, rows, tx0, cols;
  bool first;
};

// The vector kernels of one instruction set. Tile slots past the block's rows × cols (up to tb) are
// computed from whatever the buffers hold and never stored.
struct Kernels {
  int lanes;  // tiles per vector
  int nr;     // tiles per GEMM panel
  int mr;     // output channels per micro-tile
  // The planes of block b for input channels xc[0 .. kin) (each d×h×w floats of one image).
  void (*input)(const Geometry& g, const float* const* xc, index_t kin, const Block& b, index_t tb, float* planes,
                float* work);
  // M = U · V for every ξ, V built from the planes one ξ at a time in bbuf.
  void (*gemm)(const Geometry& g, const float* u, index_t kin, index_t kout, index_t tz, const float* planes,
               index_t tb, float* bbuf, float* mb);
  // y (one image, kout channels) = Aᵀ M A of the block's tiles, plus bias, then the epilogue.
  void (*output)(const Geometry& g, const float* mb, index_t kout, const Block& b, index_t tb, const float* bias,
                 const ConvEpilogue& ep, float* y);
  // U for output channels [o0, o1) (up to the groups' end; rows past kout are zero).
  void (*weights)(const WeightSource& ws, int m, index_t kout, index_t kin, index_t o0, index_t o1, float* u);

  // The weight gradient's pieces (kernels/cpu/conv3d_winograd.cpp, conv3_backward_weight):
  // Ŷ = A dy Aᵀ of block b for the n output channels dyc[0 .. n), into mh[ξ·ms + o·adjoint_row(tb) + i];
  // tile slots past the block's tiles hold zeros (they enter the sums over tiles).
  void (*adjoint)(const Geometry& g, const float* const* dyc, index_t n, const Block& b, index_t tb, float* mh,
                  index_t ms, float* work);
  // V of one ξ for the kin channels of the planes, packed as gemm_packed's A: [⌈kin/4⌉][tb][4].
  void (*v_packed)(const Geometry& g, index_t kin, index_t tz, const float* planes, index_t tb, index_t xi,
                   float* apack);
  // dw[o][c][27] = Gᵀ dU G along each axis (in double) for output channels [o0, o1), from
  // dut[ξ][c][o] (kin rows of ldo per ξ).
  void (*weights_grad)(int m, const float* dut, index_t ldo, index_t kin, index_t o0, index_t o1, float* dw);
};

// The slot of input plane dz (0 ≤ dz < α) of tile layer tz: planes dz < α − m (shared with the layer
// below, where they were planes dz + m) and dz ≥ m (shared with the layer above) alternate between two
// sets by the parity of tz; the rest (m = 4: dz = 2, 3) have their own slots.
inline int plane_slot(int m, int dz, index_t tz) {
  const int a = m + 2, s = a - m;
  const int lower = static_cast<int>(tz % 2), upper = 1 - lower;
  if (dz < s) return lower * s + dz;
  if (dz >= m) return upper * s + dz - m;
  return 2 * s + dz - s;
}

// The ξ stride of M: an odd number of 64-byte lines, so that the α³ vectors of one tile spread over the
// L1 cache sets (with a multiple of 2 KiB, e.g. 24 tiles × 64 channels, they would all fall into one or
// two sets and evict each other).
// The channel stride of Ŷ: room for a vector past the last tile, so that a channel's writes never
// reach the next channel's row (written by another thread).
inline index_t adjoint_row(index_t tb) { return tb + 16; }

inline index_t m_stride(index_t kout, index_t tb) {
  index_t s = (kout * tb + 16 + 15) / 16 * 16;  // + 16: room for a vector past the last row
  if ((s / 16) % 2 == 0) s += 16;
  return s;
}

// Floats of: one x phase of one split input row (room for a vector of 16 tiles past the block), the
// ξ' stride of a plane for tb tile slots, one channel's planes, and `work`.
inline index_t phase_row_floats(index_t cols) { return (cols + 2 + 16 + 7) / 8 * 8; }
inline index_t plane_stride(index_t tb) { return tb + 16; }
inline index_t channel_planes_floats(const Geometry& g, index_t tb) {
  return index_t{g.alpha} * g.alpha * g.alpha * plane_stride(tb);
}
inline index_t input_work_floats(const Geometry& g, index_t cols) {
  const index_t rx = phase_row_floats(cols);
  return std::max(g.alpha, g.m * g.m) * g.m * rx + g.m * rx + 64;  // input: α split rows; adjoint: m²
}

const Kernels& kernels_avx2();
const Kernels& kernels_avx512();

}  // namespace sse::cpu::winograd
