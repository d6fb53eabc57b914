// kernels/cuda/device_util.cu — the per-device properties behind kernels/cuda/device_util.cuh.
#include "kernels/cuda/device_util.cuh"

#include <atomic>

namespace sse::cuda {

int sm_count() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> cache[kMaxDevices] = {};
  int dev = 0;
  SSE_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev < 0 || dev >= kMaxDevices) dev = 0;  // only a sizing hint: any positive count is correct
  int n = cache[dev].load(std::memory_order_relaxed);
  if (n > 0) return n;
  SSE_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  if (n < 1) n = 1;
  cache[dev].store(n, std::memory_order_relaxed);
  return n;
}

}  // namespace sse::cuda
