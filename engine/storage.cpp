#include "engine/storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#include "kernels/cuda/cuda_common.cuh"
#endif

namespace sse {
#if !SSE_WITH_CUDA
namespace {

[[noreturn]] void no_cuda(const char* what) {
  throw EngineError(std::string(what) + ": this build of sseunet has no CUDA backend");
}

}  // namespace
#endif

namespace {

constexpr std::size_t kCacheMin = std::size_t{1} << 20;    // smaller blocks bypass the cache
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kCacheFloor = std::size_t{1} << 30;  // the cache may always hold this much
// ... and twice the peak of live bytes: a training step frees blocks whose sizes its later requests do
// not fit (a 192 MiB concatenation cannot serve a 64 MiB activation), so running it from the cache
// takes more distinct blocks than its peak. With room for only the peak, a 64³ width-64 step went
// back to the system for 8 blocks every step, and the first touch of fresh pages costs 0.23–0.78 ms
// per MiB on the 2-core VM measured: 8 % of that step's time (bench/RESULTS.md).

struct CpuCache {
  std::mutex mu;
  // Free blocks by size, each with the time it was freed (a count of frees). When the cache is full
  // the block freed longest ago goes, not the one being freed: once a workload changes, blocks of
  // its old sizes leave instead of filling the cache for good.
  struct Cached {
    std::uint64_t freed_at;
    void* p;
  };
  std::multimap<std::size_t, Cached> blocks;
  std::uint64_t frees = 0;
  CpuMemoryStats stats;
  bool enabled = [] {
    const char* e = std::getenv("SSEUNET_CPU_CACHE");
    return !(e && std::strcmp(e, "0") == 0);
  }();

  void evict_oldest() {  // with mu held, blocks not empty
    auto oldest = blocks.begin();
    for (auto it = blocks.begin(); it != blocks.end(); ++it)
      if (it->second.freed_at < oldest->second.freed_at) oldest = it;
    std::free(oldest->second.p);
    stats.cached_bytes -= oldest->first;
    blocks.erase(oldest);
  }

  void release_all() {  // with mu held
    for (auto& [size, b] : blocks) std::free(b.p);
    blocks.clear();
    stats.cached_bytes = 0;
  }
};

CpuCache& cache() {
  static CpuCache* c = new CpuCache;  // never destroyed: tensors may be freed during static destruction
  return *c;
}

void* system_alloc(std::size_t align, std::size_t size) {
  void* p = std::aligned_alloc(align, size);
#ifdef MADV_HUGEPAGE
  if (p && size >= kHugePage) madvise(p, size, MADV_HUGEPAGE);  // advisory: fewer faults and TLB misses
#endif
  return p;
}

}  // namespace

void* cpu_alloc(std::size_t bytes, std::size_t* block) {
  if (bytes < kCacheMin) {
    *block = (bytes + 63) / 64 * 64;
    void* p = *block ? std::aligned_alloc(64, *block) : nullptr;
    if (*block && !p) throw std::bad_alloc();
    return p;
  }
  const std::size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  CpuCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  void* p = nullptr;
  auto it = c.blocks.lower_bound(size);
  if (it != c.blocks.end() && it->first <= size + size / 8) {
    *block = it->first;
    p = it->second.p;
    c.blocks.erase(it);
    c.stats.cached_bytes -= *block;
  } else {
    *block = size;
    p = system_alloc(kHugePage, size);
    if (!p && !c.blocks.empty()) {
      c.release_all();
      p = system_alloc(kHugePage, size);
    }
    if (!p) throw std::bad_alloc();
    ++c.stats.system_allocs;
  }
  c.stats.live_bytes += *block;
  c.stats.peak_bytes = std::max(c.stats.peak_bytes, c.stats.live_bytes);
  return p;
}

void cpu_free(void* p, std::size_t block) {
  if (!p) return;
  if (block < kCacheMin) {
    std::free(p);
    return;
  }
  CpuCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.live_bytes -= block;
  const std::size_t limit = std::max(kCacheFloor, 2 * c.stats.peak_bytes);
  if (!c.enabled || block > limit) {
    std::free(p);
    return;
  }
  while (c.stats.cached_bytes + block > limit) c.evict_oldest();
  c.blocks.emplace(block, CpuCache::Cached{c.frees++, p});
  c.stats.cached_bytes += block;
}

CpuMemoryStats cpu_memory_stats() {
  CpuCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void cpu_reset_peak() {
  CpuCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_bytes = c.stats.live_bytes;
}

void cpu_empty_cache() {
  CpuCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
}

Storage::Storage(Device device, std::size_t bytes) : device_(device), bytes_(bytes) {
  if (device.is_cpu()) {
    data_ = cpu_alloc(bytes, &block_);
    return;
  }
#if SSE_WITH_CUDA
  data_ = cuda_alloc(device, bytes);
#else
  no_cuda("allocating a tensor on cuda");
#endif
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    cpu_free(data_, block_);
    return;
  }
#if SSE_WITH_CUDA
  cuda_free(device_, data_, bytes_);
#endif
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if SSE_WITH_CUDA
  // Host<->device copies go through the engine's stream of the CUDA side so they are ordered after
  // the kernels that produced the data; synchronous, as the contract says.
  const Device cuda_dev = dst_dev.is_cuda() ? dst_dev : src_dev;
  cudaStream_t s = cuda_stream(cuda_dev);
  if (dst_dev.is_cuda() && src_dev.is_cuda() && dst_dev.index != src_dev.index) {
    cuda_synchronize(src_dev);
    SSE_CUDA_CHECK(cudaMemcpyPeer(dst, dst_dev.index, src, src_dev.index, bytes));
    return;
  }
  SSE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s));
  SSE_CUDA_CHECK(cudaStreamSynchronize(s));
#else
  no_cuda("copying to or from cuda");
#endif
}

void zero_bytes(void* dst, Device dev, std::size_t bytes) {
  if (bytes == 0) return;
  if (dev.is_cpu()) {
    std::memset(dst, 0, bytes);
    return;
  }
#if SSE_WITH_CUDA
  SSE_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, cuda_stream(dev)));
#else
  no_cuda("zeroing cuda memory");
#endif
}

}  // namespace sse
