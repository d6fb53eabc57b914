// kernels/cuda/segments.cuh — how the two-level deterministic reductions cut their input.
//
// x is viewed as (outer, mid, inner); segment m holds the outer·inner elements (o, i). Each segment
// is cut into pieces of at most kPieceElems elements — a piece of one long row, or several whole
// short rows — with boundaries that depend only on the sizes. The first stage gives one block to
// each piece (block b = m·blocks_per_seg + q), the second combines a segment's pieces in order q.
// Used by reduce.cu (sums) and batchnorm.cu (Welford statistics, gradient sums).
#pragma once

#include "kernels/cuda/device_util.cuh"

namespace sse::cuda {

constexpr index_t kPieceElems = 8192;

struct SegPlan {
  index_t outer, mid, inner;
  index_t rows_per_block;   // > 1 when several short rows share a piece
  index_t pieces_per_row;   // > 1 when a row is longer than kPieceElems
  index_t blocks_per_seg;   // pieces per segment
  index_t blocks() const { return mid * blocks_per_seg; }
};

inline SegPlan make_seg_plan(index_t outer, index_t mid, index_t inner) {
  SegPlan p{outer, mid, inner, 1, 1, 0};
  if (inner >= kPieceElems) {
    p.pieces_per_row = (inner + kPieceElems - 1) / kPieceElems;
    p.blocks_per_seg = outer * p.pieces_per_row;
  } else {
    p.rows_per_block = kPieceElems / inner;
    p.blocks_per_seg = (outer + p.rows_per_block - 1) / p.rows_per_block;
  }
  return p;
}

// Calls f(flat index into x) for this thread's share (strided by blockDim.x) of piece q of segment m.
template <class F> __device__ inline void for_piece_elements(const SegPlan& p, index_t m, index_t q, F&& f) {
  if (p.rows_per_block == 1) {
    const index_t o = q / p.pieces_per_row, i0 = (q % p.pieces_per_row) * kPieceElems;
    const index_t len = p.inner - i0 < kPieceElems ? p.inner - i0 : kPieceElems;
    const index_t base = (o * p.mid + m) * p.inner + i0;
    for (index_t t = threadIdx.x; t < len; t += blockDim.x) f(base + t);
  } else {
    const index_t o0 = q * p.rows_per_block;
    const index_t rows = p.outer - o0 < p.rows_per_block ? p.outer - o0 : p.rows_per_block;
    for (index_t e = threadIdx.x; e < rows * p.inner; e += blockDim.x) {
      const index_t r = e / p.inner, i = e - r * p.inner;
      f(((o0 + r) * p.mid + m) * p.inner + i);
    }
  }
}

}  // namespace sse::cuda
