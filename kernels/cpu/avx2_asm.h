// kernels/cpu/avx2_asm.h — assembly text shared by the 4×24 AVX2 micro-kernels of
// kernels/cpu/conv3d_avx2.cpp (direct convolution) and kernels/cpu/gemm_avx2.cpp (GEMM).
//
// Contract: the 12 accumulators ymm0..ymm11 hold C rows %[c0]..%[c3] × 3 vectors of 8 floats
// (row r in ymm(3r)..ymm(3r+2)); ymm12..ymm15 are the kernel's scratch.
//  * SSE_ASM_C4X24_INIT: loads C when %[acc] ≠ 0, else zeroes the accumulators; ends at the aligned
//    loop label `1`, so the kernel's loop body follows and closes with `jnz 1b`.
//  * SSE_ASM_C4X24_STORE: stores the accumulators to C and clears the upper ymm state.
//  * SSE_ASM_YMM_CLOBBERS: the clobber list of all 16 vector registers.
#pragma once

#define SSE_ASM_C4X24_INIT                                                                                    \
  "test %[acc], %[acc]\n\t"                                                                                   \
  "jz 2f\n\t"                                                                                                 \
  "vmovups (%[c0]), %%ymm0\n\t vmovups 32(%[c0]), %%ymm1\n\t vmovups 64(%[c0]), %%ymm2\n\t"                   \
  "vmovups (%[c1]), %%ymm3\n\t vmovups 32(%[c1]), %%ymm4\n\t vmovups 64(%[c1]), %%ymm5\n\t"                   \
  "vmovups (%[c2]), %%ymm6\n\t vmovups 32(%[c2]), %%ymm7\n\t vmovups 64(%[c2]), %%ymm8\n\t"                   \
  "vmovups (%[c3]), %%ymm9\n\t vmovups 32(%[c3]), %%ymm10\n\t vmovups 64(%[c3]), %%ymm11\n\t"                 \
  "jmp 1f\n\t"                                                                                                \
  "2:\n\t"                                                                                                    \
  "vxorps %%ymm0, %%ymm0, %%ymm0\n\t vxorps %%ymm1, %%ymm1, %%ymm1\n\t vxorps %%ymm2, %%ymm2, %%ymm2\n\t"     \
  "vxorps %%ymm3, %%ymm3, %%ymm3\n\t vxorps %%ymm4, %%ymm4, %%ymm4\n\t vxorps %%ymm5, %%ymm5, %%ymm5\n\t"     \
  "vxorps %%ymm6, %%ymm6, %%ymm6\n\t vxorps %%ymm7, %%ymm7, %%ymm7\n\t vxorps %%ymm8, %%ymm8, %%ymm8\n\t"     \
  "vxorps %%ymm9, %%ymm9, %%ymm9\n\t vxorps %%ymm10, %%ymm10, %%ymm10\n\t vxorps %%ymm11, %%ymm11, %%ymm11\n\t" \
  ".p2align 4\n\t"                                                                                            \
  "1:\n\t"

#define SSE_ASM_C4X24_STORE                                                                   \
  "vmovups %%ymm0, (%[c0])\n\t vmovups %%ymm1, 32(%[c0])\n\t vmovups %%ymm2, 64(%[c0])\n\t"   \
  "vmovups %%ymm3, (%[c1])\n\t vmovups %%ymm4, 32(%[c1])\n\t vmovups %%ymm5, 64(%[c1])\n\t"   \
  "vmovups %%ymm6, (%[c2])\n\t vmovups %%ymm7, 32(%[c2])\n\t vmovups %%ymm8, 64(%[c2])\n\t"   \
  "vmovups %%ymm9, (%[c3])\n\t vmovups %%ymm10, 32(%[c3])\n\t vmovups %%ymm11, 64(%[c3])\n\t" \
  "vzeroupper\n\t"

#define SSE_ASM_YMM_CLOBBERS                                                                                       \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", \
      "xmm14", "xmm15"
