// tests/support/cuda_buffers.h — device memory for kernel-level tests that call sse::cuda:: kernels
// on raw pointers (an RAII buffer with host copies), and the skip rule for machines without a device.
//
// Only meaningful in builds with a CUDA backend (real or emulated, SSE_WITH_CUDA); elsewhere this
// header declares nothing, so test files include it unconditionally and guard their bodies.
#pragma once

#if SSE_WITH_CUDA

#include <gtest/gtest.h>

#include "engine/device.h"
#include "kernels/cuda/device_array.cuh"

namespace sse::test {

// Device arrays (poisoned when made; to_host waits for the device): see kernels/cuda/device_array.cuh.
template <typename T> using DeviceBuffer = cuda::DeviceArray<T>;

// True when CUDA kernels can run here (a GPU, or the emulator).
inline bool cuda_usable() { return cuda_device_count() > 0; }

}  // namespace sse::test

// Skips the current test where no CUDA device (real or emulated) is usable.
#define SSE_REQUIRE_CUDA()                                                   \
  do {                                                                       \
    if (!::sse::test::cuda_usable()) GTEST_SKIP() << "no CUDA device here"; \
  } while (0)

#endif  // SSE_WITH_CUDA
