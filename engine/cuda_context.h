// engine/cuda_context.h — the engine's side of the CUDA runtime (built only with the CUDA backend,
// real or emulated): device count, the per-device stream every op runs on, synchronization, and the
// caching allocator.
//
// Allocator contract: blocks are rounded to size classes (512 B granules below 1 MiB, 2 MiB above),
// kept per (device, stream) after free and reused for requests of the same class; cudaMalloc is
// called only on a miss (and after an out-of-memory, once more after releasing the cache). Stats
// count live bytes, their peak, and bytes held by the cache.
#pragma once

#include <cstddef>

#include "engine/device.h"
#include "kernels/common.h"

namespace sse {

int cuda_visible_device_count();           // 0 when the runtime or driver is unusable
void cuda_require(Device dev);             // throws EngineError unless dev is a usable CUDA device
cudaStream_t cuda_stream(Device dev);      // the engine's stream for that device (created once)
void cuda_synchronize(Device dev);

void* cuda_alloc(Device dev, std::size_t bytes);
void cuda_free(Device dev, void* ptr, std::size_t bytes);

struct CudaMemoryStats {
  std::size_t live_bytes = 0;     // held by tensors now
  std::size_t peak_bytes = 0;     // max of live_bytes since the last reset
  std::size_t cached_bytes = 0;   // freed by tensors, kept for reuse
  std::size_t device_mallocs = 0; // cudaMalloc calls so far
};
CudaMemoryStats cuda_memory_stats(Device dev);
void cuda_reset_peak(Device dev);
void cuda_empty_cache();                  // returns cached blocks to the driver

}  // namespace sse
