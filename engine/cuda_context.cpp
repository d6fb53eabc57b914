#include "engine/cuda_context.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/cuda_common.cuh"

namespace sse {
namespace {

constexpr int kMaxDevices = 16;

struct Block {
  void* ptr;
  cudaStream_t stream;
};

// Free blocks keyed by rounded size, per device. Guarded by one mutex: allocation is not hot enough
// (a few hundred per training step) to need finer locking.
struct Pool {
  std::multimap<std::size_t, Block> free_blocks;
  CudaMemoryStats stats;
};

std::mutex g_mu;
Pool g_pools[kMaxDevices];
cudaStream_t g_streams[kMaxDevices] = {};

std::size_t round_size(std::size_t bytes) {
  constexpr std::size_t kSmall = 512, kLarge = 2u << 20, kSplit = 1u << 20;
  if (bytes == 0) bytes = 1;
  const std::size_t g = bytes < kSplit ? kSmall : kLarge;
  return (bytes + g - 1) / g * g;
}

Pool& pool(Device dev) {
  if (dev.index < 0 || dev.index >= kMaxDevices) throw EngineError("cuda: device index out of range: " + dev.str());
  return g_pools[dev.index];
}

void release_cache_locked(int index) {
  Pool& p = g_pools[index];
  SSE_CUDA_CHECK(cudaSetDevice(index));
  for (auto& kv : p.free_blocks) SSE_CUDA_CHECK(cudaFree(kv.second.ptr));
  p.free_blocks.clear();
  p.stats.cached_bytes = 0;
}

}  // namespace

int cuda_visible_device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // "driver version is insufficient" etc. means: no GPU here
      return 0;
    }
    return n;
  }();
  return count;
}

void cuda_require(Device dev) {
  if (!dev.is_cuda()) throw EngineError("expected a CUDA device, got " + dev.str());
  const int n = cuda_visible_device_count();
  if (dev.index >= n)
    throw EngineError("device " + dev.str() + " is not available (" + std::to_string(n) +
                      " CUDA device(s) visible)");
}

cudaStream_t cuda_stream(Device dev) {
  cuda_require(dev);
  std::lock_guard<std::mutex> lock(g_mu);
  cudaStream_t& s = g_streams[dev.index];
  if (!s) {
    SSE_CUDA_CHECK(cudaSetDevice(dev.index));
    SSE_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  }
  return s;
}

void cuda_synchronize(Device dev) {
  cudaStream_t s = cuda_stream(dev);
  SSE_CUDA_CHECK(cudaStreamSynchronize(s));
}

void* cuda_alloc(Device dev, std::size_t bytes) {
  const cudaStream_t stream = cuda_stream(dev);
  const std::size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(g_mu);
  Pool& p = pool(dev);
  void* ptr = nullptr;
  for (auto it = p.free_blocks.find(size); it != p.free_blocks.end() && it->first == size; ++it) {
    if (it->second.stream == stream) {
      ptr = it->second.ptr;
      p.free_blocks.erase(it);
      p.stats.cached_bytes -= size;
      break;
    }
  }
  if (!ptr) {
    SSE_CUDA_CHECK(cudaSetDevice(dev.index));
    cudaError_t e = cudaMalloc(&ptr, size);
    if (e == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      (void)cudaGetLastError();
      release_cache_locked(dev.index);
      e = cudaMalloc(&ptr, size);
    }
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      throw EngineError("cuda: out of memory allocating " + std::to_string(size) + " bytes on " +
                        dev.str() + " (" + std::to_string(p.stats.live_bytes) + " bytes live)");
    }
    ++p.stats.device_mallocs;
  }
  p.stats.live_bytes += size;
  if (p.stats.live_bytes > p.stats.peak_bytes) p.stats.peak_bytes = p.stats.live_bytes;
  return ptr;
}

void cuda_free(Device dev, void* ptr, std::size_t bytes) {
  if (!ptr) return;
  const std::size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(g_mu);
  Pool& p = pool(dev);
  p.free_blocks.emplace(size, Block{ptr, g_streams[dev.index]});
  p.stats.live_bytes -= size;
  p.stats.cached_bytes += size;
}

CudaMemoryStats cuda_memory_stats(Device dev) {
  std::lock_guard<std::mutex> lock(g_mu);
  return pool(dev).stats;
}

void cuda_reset_peak(Device dev) {
  std::lock_guard<std::mutex> lock(g_mu);
  Pool& p = pool(dev);
  p.stats.peak_bytes = p.stats.live_bytes;
}

void cuda_empty_cache() {
  std::lock_guard<std::mutex> lock(g_mu);
  for (int i = 0; i < kMaxDevices; ++i)
    if (!g_pools[i].free_blocks.empty()) release_cache_locked(i);
}

}  // namespace sse
