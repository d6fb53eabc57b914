// kernels/common.h — what every kernel header needs: the host/device qualifier for math shared by
// the CPU and CUDA paths, the stream type (declared here so CPU-only builds never include CUDA), and
// the index type.
//
// Contract: nothing under kernels/ allocates memory policy-wise, owns a Tensor, or knows autograd.
// Kernels take raw pointers and a plain shape struct; tensors are NCDHW contiguous float32 unless a
// header says otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define SSE_HD __host__ __device__
#else
#define SSE_HD
#endif

// Same declaration as the CUDA runtime's driver_types.h, so this and <cuda_runtime.h> can meet.
struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;

namespace sse {

using index_t = std::int64_t;

// Thrown by kernels' host-side argument checks (bad shapes that reach the kernel layer).
struct KernelError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline void kernel_check(bool ok, const char* op, const std::string& what) {
  if (!ok) throw KernelError(std::string(op) + ": " + what);
}

}  // namespace sse
