// kernels/cuda/brick.cuh — what the brick kernels share: the convolution kernels that walk a volume
// in bricks of 1 × KY × 16 voxels (one z plane, KY rows, 16 columns) and stage, per brick, the x halo
// every tap needs once (wgrad_brick.cu: weight gradients; wx_brick.cu: forward and backward data).
//
//   brick_pos(p, b, KY)    brick b's image, plane and first row and column, for a problem p with the
//                          fields d, by (bricks per column), bx (bricks per row)
//   spread(n), spread_rows(n)   shared-memory row strides whose fragment loads are free of bank conflicts
//   mma_operand<Math>(w)   a staged 32-bit word as the mma operand (TF32: rounded to nearest here)
//   mma<Math>(d, a, b)     one m16n8k8 TF32 or m16n8k16 BF16 mma.sync (mma.cuh)
//   load_fragment_rows     the SIMT twins' float4 loads of the rows a lane's accumulators cover
//   stage_begin / stage_end    a block's cooperative copy of one operand tile into shared memory:
//                          fp32 words by cp.async (zero-filled where the source gives no address),
//                          BF16 pairs loaded into registers, then packed into the tile
// Device-side helpers only; each kernel file documents its own contract.
#pragma once

#include <cstdint>

#include "kernels/cuda/brick_math.h"
#include "kernels/cuda/cp_async.cuh"
#include "kernels/cuda/mma.cuh"

namespace sse::cuda {

constexpr int kBrickX = 16;  // voxels of a brick along x

// Smallest s ≥ n with s ≡ 4 (mod 8): rows s words apart start in banks 4·(odd) apart, so 8 rows
// (a fragment's g) × 4 consecutive words (its t) touch 32 different banks.
constexpr int spread(int n) { return n + (12 - n % 8) % 8; }

// Smallest s ≥ n with s ≡ 8 (mod 16): 4 rows s words apart (a fragment's t) × 8 consecutive words
// (its g) touch 32 different banks — the transposed access of spread's.
constexpr int spread_rows(int n) { return n + (24 - n % 16) % 16; }

__device__ inline float load_or_zero(const float* p) { return p ? *p : 0.0f; }

// An operand tensor stored as float or as bfloat16 (bf16 activations): exactly one pointer is set.
// Brick kernels address its elements by offset (−1: outside, a zero) and read bfloat16 only where
// they stage BF16 pairs, whose packing then copies the stored bits (pack_bf16x2 of the widened
// values gives the same bits, but for a signalling NaN's quiet bit).
struct BrickSrc {
  const float* f = nullptr;
  const bf16_t* h = nullptr;
  __device__ const float* at(index_t o) const { return o >= 0 ? f + o : nullptr; }
  __device__ std::uint32_t bits16(index_t o) const { return o >= 0 ? h[o].bits : 0u; }
  // The BF16 pair (lo, hi) of elements o_lo, o_hi in the mma operand format.
  __device__ std::uint32_t pair(index_t o_lo, index_t o_hi) const {
    if (h) return bits16(o_lo) | (bits16(o_hi) << 16);
    return pack_bf16x2(load_or_zero(at(o_lo)), load_or_zero(at(o_hi)));
  }
};

struct BrickPos {
  index_t img;
  int z, y0, x0;
};

// Bricks are numbered image-major, then z, then brick row, then brick column.
template <class P> __device__ BrickPos brick_pos(const P& p, index_t b, int ky) {
  const index_t row = b / p.bx;  // (image, z, brick row)
  const int xb = static_cast<int>(b - row * p.bx);
  const index_t plane = row / p.by;
  const int yb = static_cast<int>(row - plane * p.by);
  const index_t img = plane / p.d;
  return BrickPos{img, static_cast<int>(plane - img * p.d), yb * ky, xb * kBrickX};
}

template <BrickMath Math> __device__ std::uint32_t mma_operand(std::uint32_t w) {
  return Math == BrickMath::TF32 ? float_bits(round_tf32(bits_float(w))) : w;
}

template <BrickMath Math> __device__ void mma(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  if constexpr (Math == BrickMath::BF16) {
    mma_bf16(d, a, b);
  } else {
    mma_tf32(d, a, b);
  }
}

// SIMT twins: the four fp32 words at column `col` of the rows a lane's accumulators cover — rows g and
// g + 8 of each of the warp's FM m-fragments, row0 + 16·fm + g + 8·rr — as float4 (rows 16-byte aligned).
template <int FM>
__device__ void load_fragment_rows(const float* tile, int ld, int row0, int col, float4 (&a)[FM][2]) {
  const int g = lane_id() >> 2;
#pragma unroll
  for (int fm = 0; fm < FM; ++fm)
#pragma unroll
    for (int rr = 0; rr < 2; ++rr)
      a[fm][rr] = *reinterpret_cast<const float4*>(tile + (row0 + fm * 16 + g + 8 * rr) * ld + col);
}

// This thread's words e = t, t + T, ... (< Words) of one operand tile (Op says, for word e, which
// tensor holds its value — Op::tensor(p), a BrickSrc — at which offset — Op::offset(p, pos, origin,
// e, second), −1 for zero — and where it goes, Op::index(e)), at `origin` (the tile's first row or
// channel): fp32 formats issue cp.async copies into `tile` (no registers held; a float tensor only);
// BF16 loads the pairs (the word's `second` value in the high half) into `regs`, packed into the
// tile by stage_end.
template <class Op, bool kPairs, int N, int T, int Words, int R, class P, class Pos>
__device__ void stage_begin(const P& p, const Pos& pos, int origin, std::uint32_t* tile, std::uint32_t (&regs)[R],
                            int t) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int e = t + i * T;
    if (e >= Words) continue;
    const BrickSrc& src = Op::tensor(p);
    if constexpr (kPairs) {
      regs[i] = src.pair(Op::offset(p, pos, origin, e, false), Op::offset(p, pos, origin, e, true));
    } else {
      cp_async4(reinterpret_cast<float*>(tile + Op::index(e)), src.at(Op::offset(p, pos, origin, e, false)));
    }
  }
}

template <class Op, int N, int T, int Words, int R>
__device__ void stage_end(std::uint32_t* tile, const std::uint32_t (&regs)[R], int t) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    if (t + i * T < Words) tile[Op::index(t + i * T)] = regs[i];
}

}  // namespace sse::cuda
