// kernels/cuda/workspace.cu — the grow-only per-device scratch buffer (see workspace.cuh).
#include "kernels/cuda/workspace.cuh"

#include <mutex>

#include "kernels/cuda/cuda_common.cuh"

namespace sse::cuda {
namespace {

constexpr int kMaxDevices = 64;

struct Buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
};

std::mutex g_mu;
Buffer g_buf[kMaxDevices];

int current_device() {
  int dev = 0;
  SSE_CUDA_CHECK(cudaGetDevice(&dev));
  kernel_check(dev >= 0 && dev < kMaxDevices, "cuda::workspace", "device index out of range");
  return dev;
}

}  // namespace

void* workspace(std::size_t bytes, cudaStream_t stream) {
  kernel_check(bytes <= kWorkspaceLimitBytes, "cuda::workspace",
               "request of " + std::to_string(bytes) + " bytes exceeds the limit");
  std::lock_guard<std::mutex> lock(g_mu);
  Buffer& b = g_buf[current_device()];
  if (bytes > b.bytes) {
    // Round up so that slowly growing requests do not reallocate every call.
    std::size_t grown = b.bytes ? b.bytes * 2 : (1u << 20);
    while (grown < bytes) grown *= 2;
    if (grown > kWorkspaceLimitBytes) grown = kWorkspaceLimitBytes;
    if (b.ptr) {
      SSE_CUDA_CHECK(cudaStreamSynchronize(stream));  // kernels may still read the old buffer
      SSE_CUDA_CHECK(cudaFree(b.ptr));
      b = Buffer{};
    }
    SSE_CUDA_CHECK(cudaMalloc(&b.ptr, grown));
    b.bytes = grown;
  }
  return b.ptr;
}

std::size_t workspace_bytes() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_buf[current_device()].bytes;
}

void release_workspaces() {
  std::lock_guard<std::mutex> lock(g_mu);
  int saved = 0;
  SSE_CUDA_CHECK(cudaGetDevice(&saved));
  for (int d = 0; d < kMaxDevices; ++d) {
    if (!g_buf[d].ptr) continue;
    SSE_CUDA_CHECK(cudaSetDevice(d));
    SSE_CUDA_CHECK(cudaDeviceSynchronize());
    SSE_CUDA_CHECK(cudaFree(g_buf[d].ptr));
    g_buf[d] = Buffer{};
  }
  SSE_CUDA_CHECK(cudaSetDevice(saved));
}

}  // namespace sse::cuda
