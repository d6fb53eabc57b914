// kernels/cuda/mma.cuh — warp-level tensor-core multiply-accumulate (mma.sync) for kernels that
// build their own fragments, and its exact emulation for the SIM build.
//
//   mma_tf32(d, a, b)  D(16×8) += A(16×8) · B(8×8)    TF32 inputs, fp32 accumulation (m16n8k8)
//   mma_bf16(d, a, b)  D(16×8) += A(16×16) · B(16×8)  BF16 inputs, two per 32-bit word (m16n8k16)
//
// Fragment ownership (PTX ISA, "Matrix Fragments for mma.m16n8k8 / mma.m16n8k16"), lane = 4·g + t:
//   TF32  a0 A[g][t]   a1 A[g+8][t]   a2 A[g][t+4]   a3 A[g+8][t+4]      b0 B[t][g]   b1 B[t+4][g]
//   BF16  a0 A[g][2t,2t+1]   a1 A[g+8][2t,2t+1]   a2 A[g][2t+8,2t+9]   a3 A[g+8][2t+8,2t+9]
//         b0 B[2t,2t+1][g]   b1 B[2t+8,2t+9][g]     (the lower K index in the low 16 bits)
//   C/D   d0 C[g][2t]   d1 C[g][2t+1]   d2 C[g+8][2t]   d3 C[g+8][2t+1]
// Every lane of the warp must call, with the same (uniform) control flow. Inputs must already be
// rounded to the format (round_tf32, pack_bf16x2 in kernels/low_precision.h): the emulation uses the
// bits it is given, the hardware ignores the low mantissa bits of a .tf32 operand.
//
// On sm_80+ each is one instruction. mma_*_emulated computes the same product in plain code: the
// warp publishes its fragments in shared memory (6 KB a warp, static; 1-D blocks of ≤ 32 warps), each
// lane reads the rows of A and columns of B its outputs need from the slots of the lanes that own
// them and accumulates in K order with fp32 FMAs. Products of TF32 / BF16 values are exact in fp32,
// so the two differ only in the order and rounding of the additions. The SIM build (no tensor cores)
// always takes the emulation (two warp barriers per mma, cheap there: shuffles would cost 32), so the
// kernels' fragment bookkeeping runs, and is tested, without a GPU.
#pragma once

#include <cstdint>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/low_precision.h"

namespace sse::cuda {

__device__ inline int lane_id() { return static_cast<int>(threadIdx.x) & 31; }

// The warp's fragments, published in shared memory: [warp][lane][a0..a3, b0, b1]. 1-D blocks.
__device__ inline const std::uint32_t (*publish_fragments(const std::uint32_t (&a)[4],
                                                          const std::uint32_t (&b)[2]))[6] {
  __shared__ std::uint32_t frags[32][32][6];
  std::uint32_t(*mine)[6] = frags[threadIdx.x >> 5];
  const int lane = lane_id();
  for (int i = 0; i < 4; ++i) mine[lane][i] = a[i];
  mine[lane][4] = b[0];
  mine[lane][5] = b[1];
  __syncwarp();
  return mine;
}

__device__ inline void mma_tf32_emulated(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  const std::uint32_t(*f)[6] = publish_fragments(a, b);
  const int lane = lane_id(), g = lane >> 2, t = lane & 3;
  for (int k = 0; k < 8; ++k) {
    const int row_src = (g << 2) | (k & 3), reg = k < 4 ? 0 : 2;
    const float a_lo = bits_float(f[row_src][reg]), a_hi = bits_float(f[row_src][reg + 1]);  // A[g][k], A[g+8][k]
    const float b0 = bits_float(f[((2 * t) << 2) | (k & 3)][k < 4 ? 4 : 5]);                 // B[k][2t]
    const float b1 = bits_float(f[((2 * t + 1) << 2) | (k & 3)][k < 4 ? 4 : 5]);             // B[k][2t+1]
    d[0] = fmaf(a_lo, b0, d[0]);
    d[1] = fmaf(a_lo, b1, d[1]);
    d[2] = fmaf(a_hi, b0, d[2]);
    d[3] = fmaf(a_hi, b1, d[3]);
  }
  __syncwarp();  // the fragments may be published again
}

__device__ inline void mma_bf16_emulated(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  const std::uint32_t(*f)[6] = publish_fragments(a, b);
  const int lane = lane_id(), g = lane >> 2, t = lane & 3;
  auto lo = [](std::uint32_t w) { return bits_float(w << 16); };
  auto hi = [](std::uint32_t w) { return bits_float(w & 0xffff0000u); };
  for (int j = 0; j < 8; ++j) {  // word j holds K = 2j, 2j+1 (j < 4: a0/a1, b0; else a2/a3, b1)
    const int row_src = (g << 2) | (j & 3), reg = j < 4 ? 0 : 2;
    const std::uint32_t wa_lo = f[row_src][reg], wa_hi = f[row_src][reg + 1];  // rows g, g+8
    const std::uint32_t wb0 = f[((2 * t) << 2) | (j & 3)][j < 4 ? 4 : 5];       // column 2t
    const std::uint32_t wb1 = f[((2 * t + 1) << 2) | (j & 3)][j < 4 ? 4 : 5];   // column 2t+1
    d[0] = fmaf(hi(wa_lo), hi(wb0), fmaf(lo(wa_lo), lo(wb0), d[0]));
    d[1] = fmaf(hi(wa_lo), hi(wb1), fmaf(lo(wa_lo), lo(wb1), d[1]));
    d[2] = fmaf(hi(wa_hi), hi(wb0), fmaf(lo(wa_hi), lo(wb0), d[2]));
    d[3] = fmaf(hi(wa_hi), hi(wb1), fmaf(lo(wa_hi), lo(wb1), d[3]));
  }
  __syncwarp();
}

__device__ inline void mma_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  mma_tf32_emulated(d, a, b);
#endif
}

__device__ inline void mma_bf16(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  mma_bf16_emulated(d, a, b);
#endif
}

}  // namespace sse::cuda
