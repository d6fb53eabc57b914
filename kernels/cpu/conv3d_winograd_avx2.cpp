// kernels/cpu/conv3d_winograd_avx2.cpp — the Winograd vector kernels for AVX2+FMA (8 tiles per vector,
// the 4×24 GEMM micro-kernel of kernels/cpu/gemm_avx2.cpp), from kernels/cpu/winograd_simd.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm_avx2.h"
#include "kernels/cpu/winograd_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SSE_WG_NS avx2_kernels
#define SSE_WG_LANES 8
#include "kernels/cpu/winograd_simd.h"
#undef SSE_WG_LANES
#undef SSE_WG_NS
#pragma GCC pop_options

namespace sse::cpu::winograd {
const Kernels& kernels_avx2() { return avx2_kernels::table(); }
}  // namespace sse::cpu::winograd
