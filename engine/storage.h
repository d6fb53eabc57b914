// engine/storage.h — a block of device memory shared by the tensors that view it.
//
// CPU memory is 64-byte aligned (full cache lines, AVX loads). Blocks of 1 MiB and more come from a
// small caching allocator (cpu_alloc below): a freed activation's pages are reused by the next
// tensor of that size instead of being returned to the kernel and faulted in (and zeroed) again,
// which on a U-Net step costs as much as the elementwise ops themselves. CUDA memory comes from the
// caching allocator in engine/cuda_context.h. Contents are uninitialized unless a factory says otherwise.
#pragma once

#include <cstddef>
#include <memory>

#include "engine/device.h"

namespace sse {

class Storage {
 public:
  Storage(Device device, std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Device device_;
  std::size_t bytes_;
  std::size_t block_ = 0;  // CPU: the size of the block behind data_ (≥ bytes_)
  void* data_ = nullptr;
};

// The CPU allocator. Blocks below 1 MiB: aligned_alloc/free. From 1 MiB: sizes rounded up to 2 MiB
// (transparent huge pages are requested for them), kept after free and reused for a request of the
// same size up to 1/8 smaller; the cache holds at most max(1 GiB, twice the peak of live bytes),
// making room by freeing the blocks freed longest ago — so a repeated workload (training steps,
// inference tiles) runs from the cache after its first round — and is emptied on an allocation
// failure before retrying.
// SSEUNET_CPU_CACHE=0 in the environment turns the cache off.
struct CpuMemoryStats {
  std::size_t live_bytes = 0;    // blocks held by tensors now (cached-path blocks only, ≥ 1 MiB)
  std::size_t peak_bytes = 0;    // max of live_bytes since the last reset
  std::size_t cached_bytes = 0;  // freed by tensors, kept for reuse
  std::size_t system_allocs = 0; // blocks obtained from the system so far
};
void* cpu_alloc(std::size_t bytes, std::size_t* block);  // *block: the size to pass back to cpu_free
void cpu_free(void* p, std::size_t block);
CpuMemoryStats cpu_memory_stats();
void cpu_reset_peak();
void cpu_empty_cache();  // returns cached blocks to the system

// Raw copies between any two devices (host<->device, device<->device). Synchronous.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes);
// Sets `bytes` bytes at `dst` to zero on its device.
void zero_bytes(void* dst, Device dev, std::size_t bytes);

}  // namespace sse
