// kernels/cuda/cuda_common.cuh — included first by every .cu file.
//
// One source, two compilers: under nvcc this is the real CUDA runtime; under SSE_CUDA_SIM the same
// kernel source is compiled by the host compiler against kernels/sim/sim.h, which emulates the CUDA
// programming model on the CPU. Kernels are therefore launched only through sse::launch (never with
// <<<>>>), dynamic shared memory is declared with SSE_DYNAMIC_SHARED, and every runtime call is
// wrapped in SSE_CUDA_CHECK, which throws sse::CudaError naming the call, file and line.
#pragma once

#include "kernels/common.h"

#include <sstream>
#include <tuple>
#include <utility>

#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#define SSE_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::sse::sim::dynamic_shared())
#else
#include <cuda_runtime.h>
#define SSE_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) unsigned char name##_raw_[]; \
  type* name = reinterpret_cast<type*>(name##_raw_)
#endif

namespace sse {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void cuda_check(cudaError_t e, const char* expr, const char* file, int line) {
  if (e != cudaSuccess) {
    std::ostringstream os;
    os << "CUDA error '" << cudaGetErrorString(e) << "' in " << expr << " at " << file << ":" << line;
    throw CudaError(os.str());
  }
}

#define SSE_CUDA_CHECK(expr) ::sse::cuda_check((expr), #expr, __FILE__, __LINE__)

// Launches `kernel` on grid × block threads with `smem` bytes of dynamic shared memory on `stream`.
// The single launch path of the project: nvcc's <<<>>> in the CUDA build, the fiber emulator in the
// SIM build (which runs the grid to completion before returning). The launch is checked.
template <typename... KArgs, typename... Args>
void launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
            Args&&... args) {
  static_assert(sizeof...(KArgs) == sizeof...(Args), "sse::launch: wrong number of kernel arguments");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // empty tensors: nothing to do
#if SSE_CUDA_SIM
  std::tuple<KArgs...> kargs(std::forward<Args>(args)...);
  // Passing the kernel's address lets the emulator enforce the 48 KB dynamic shared memory default
  // (raised per kernel by cudaFuncSetAttribute), as the GPU does.
  sim::launch(reinterpret_cast<const void*>(kernel), grid, block, smem, stream,
              [&kargs, kernel] { std::apply(kernel, kargs); });
#elif defined(__CUDACC__)
  kernel<<<grid, block, smem, stream>>>(static_cast<KArgs>(std::forward<Args>(args))...);
#else
  // Host-compiled files (engine/cuda_context.cpp, benchmarks) include this header for SSE_CUDA_CHECK;
  // a launch from them cannot be compiled, so say so instead of failing on <<<>>> syntax.
  static_assert(sizeof...(KArgs) != sizeof...(KArgs), "sse::launch must be called from a .cu file");
#endif
  SSE_CUDA_CHECK(cudaGetLastError());
}

inline unsigned ceil_div(index_t a, index_t b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace sse
