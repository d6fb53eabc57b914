// kernels/cuda/workspace.cuh — scratch device memory for kernels that need it (split-K partial sums
// of the weight gradients, two-level reduction partials, cuDNN's workspace).
//
// Contract: one grow-only buffer per device, cudaMalloc'd on first use and enlarged (never shrunk)
// when a caller asks for more. The pointer stays valid until the next workspace() call on the same
// device that needs a larger buffer; work already enqueued on `stream` that reads the old buffer is
// waited for before it is freed. All users enqueue on one stream per device (the engine's), so
// consecutive kernels that reuse the buffer are ordered by the stream. Requests above
// kWorkspaceLimitBytes throw KernelError: callers size their split counts to stay within it.
#pragma once

#include <cstddef>

#include "kernels/common.h"

namespace sse::cuda {

constexpr std::size_t kWorkspaceLimitBytes = 256u << 20;
// What the convolution kernels plan their split-K partials for (a quarter of the limit).
constexpr std::size_t kConvPartialBytes = 64u << 20;

void* workspace(std::size_t bytes, cudaStream_t stream);
// Bytes held by the current device's workspace (0 before first use).
std::size_t workspace_bytes();
// Frees every device's workspace (tests, and tools that hand memory back).
void release_workspaces();

}  // namespace sse::cuda
