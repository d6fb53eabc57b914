// kernels/cuda/cp_async.cuh — asynchronous 4- and 16-byte global → shared copies (cp.async, sm_80+)
// with zero-fill, for kernels that stage gathered operands without holding them in registers.
//
//   cp_async4(dst, src)   copies *src to the shared address dst, or writes 0 when src is null
//   cp_async16(dst, src)  copies 16 bytes (both addresses 16-byte aligned), or 16 zero bytes when src
//                         is null; bypasses L1 (.cg), for operands every block reads from L2 anyway
//   cp_async_commit()     closes the group of copies issued since the last commit
//   cp_async_wait<N>()    waits until at most N of this thread's groups are still in flight
// Copies become visible to other threads only after the wait and a __syncthreads. The emulator
// (and any target without cp.async) copies synchronously at issue, a valid execution of the same
// program: a missing barrier still shows under its thread schedules, a missing wait does not.
#pragma once

#include "kernels/cuda/cuda_common.cuh"

namespace sse::cuda {

#if !SSE_CUDA_SIM
// A valid global address for zero-filling copies (cp.async reads no bytes when src-size is 0); one
// per translation unit.
static __device__ float g_cp_async_zero = 0.0f;
static __device__ __align__(16) float g_cp_async_zero16[4] = {};
#endif

__device__ inline void cp_async4(float* dst, const float* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(src ? src : &g_cp_async_zero),
               "r"(src ? 4 : 0)
               : "memory");
#else
  *dst = src ? *src : 0.0f;
#endif
}

__device__ inline void cp_async16(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s),
               "l"(src ? src : static_cast<const void*>(g_cp_async_zero16)), "r"(src ? 16 : 0)
               : "memory");
#else
  float* d = static_cast<float*>(dst);
  const float* f = static_cast<const float*>(src);
  for (int i = 0; i < 4; ++i) d[i] = f ? f[i] : 0.0f;
#endif
}

__device__ inline void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

template <int N> __device__ inline void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

}  // namespace sse::cuda
