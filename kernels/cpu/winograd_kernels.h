// kernels/cpu/winograd_kernels.h — what the Winograd driver (kernels/cpu/conv3d_winograd.cpp) and its
// vector kernels (kernels/cpu/winograd_simd.h, compiled once for AVX2 and once for AVX-512) share: the
// transform matrices, the geometry of a slab of tiles, the buffer layouts, and the table of kernels
// one instruction set provides. Internal to kernels/cpu.
//
// Tiles: the output volume is cut into nzt × nyt × nxt tiles of m³ voxels (the last ones along an axis
// may stick out of the volume; their outside voxels are computed and dropped), numbered
// t = (tz·nyt + ty)·nxt + tx; a tile row is R = tz·nyt + ty. Work goes in chunks of tb consecutive tiles
// (tb a multiple of nr; a chunk may span rows and layers). Per chunk and thread:
//  * work (input_work_floats): per input channel in turn, the 2-D transforms Bᵀ d B (over y, x) of the
//    α input planes dz of each of the chunk's tiles, P[dz][ξy·α + ξx][i] (i = t − t0), from the rows of
//    each plane split by x phase (so the stride-m reads of a tile row become contiguous vectors);
//  * V (transformed input): Bᵀ along z of P, V[ξ][panel][c][nr], ξ = (ξz·α + ξy)·α + ξx, panel p
//    holding tiles t0 + p·nr .. + nr − 1 — the B operand of the GEMM micro-kernel as it reads it;
//  * M (products): M[ξ][o][tb].
// U (transformed weights, shared): U[ξ][group][c][mr], output channels in groups of mr (zero rows
// past kout).
#pragma once

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

// The vector kernels of one instruction set. Tiles at or past g.tiles in the last chunk are computed
// from whatever the buffers hold and never stored.
struct Kernels {
  int lanes;  // tiles per vector
  int nr;     // tiles per GEMM panel
  int mr;     // output channels per micro-tile
  // V of the chunk's tb tiles from t0, for input channels xc[0 .. kin) (each d×h×w floats of one image).
  void (*input)(const Geometry& g, const float* const* xc, index_t kin, index_t t0, index_t tb, float* v, float* work);
  // M = U · V for every ξ.
  void (*gemm)(const Geometry& g, const float* u, index_t kin, index_t kout, const float* v, index_t tb, float* mb);
  // y (one image, kout channels) = Aᵀ M A of the chunk's tiles, plus bias, then the epilogue.
  void (*output)(const Geometry& g, const float* mb, index_t kout, index_t t0, index_t tb, const float* bias,
                 const ConvEpilogue& ep, float* y);
};

// Floats of the phase-split rows of one tile row's input plane, per x phase and row (room for a vector
// of 16 tiles past the last one), and of `work` for a chunk of tb tiles.
inline index_t phase_row_floats(const Geometry& g) { return (g.nxt + 2 + 16 + 7) / 8 * 8; }
inline index_t input_work_floats(const Geometry& g, index_t tb) {
  const index_t a = g.alpha, rx = phase_row_floats(g);
  return a * a * a * (tb + 32) + a * g.m * rx + g.m * rx + 64;
}

const Kernels& kernels_avx2();
const Kernels& kernels_avx512();

}  // namespace sse::cpu::winograd
