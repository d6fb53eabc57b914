// kernels/cpu/conv3d_winograd_avx512.cpp — the Winograd vector kernels for AVX-512F (16 tiles per
// vector, an 8×32 GEMM micro-kernel), from kernels/cpu/winograd_simd.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm_avx2.h"
#include "kernels/cpu/winograd_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() through and then warn about it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define SSE_WG_NS avx512_kernels
#define SSE_WG_LANES 16
#include "kernels/cpu/winograd_simd.h"
#undef SSE_WG_LANES
#undef SSE_WG_NS
#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace sse::cpu::winograd {
const Kernels& kernels_avx512() { return avx512_kernels::table(); }
}  // namespace sse::cpu::winograd
