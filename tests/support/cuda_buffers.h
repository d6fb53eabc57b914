// tests/support/cuda_buffers.h — device memory for kernel-level tests that call sse::cuda:: kernels
// on raw pointers: an RAII buffer with host copies, and the skip rule for machines without a device.
//
// Only meaningful in builds with a CUDA backend (real or emulated, SSE_WITH_CUDA); elsewhere this
// header declares nothing, so test files include it unconditionally and guard their bodies.
#pragma once

#if SSE_WITH_CUDA

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/device.h"
#include "kernels/cuda/cuda_common.cuh"

namespace sse::test {

// A cudaMalloc'd array of n T. New buffers are filled with 0xFF bytes (NaN as floats, −1 as ints),
// so an output element a kernel forgot to write shows up in the comparison.
template <typename T> class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : n_(n) {
    SSE_CUDA_CHECK(cudaMalloc(&p_, bytes() ? bytes() : 1));
    poison();
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return p_; }
  const T* get() const { return p_; }
  std::size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    ASSERT_EQ(host.size(), n_);
    SSE_CUDA_CHECK(cudaMemcpy(p_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  // Waits for all device work (cudaDeviceSynchronize), then copies back.
  std::vector<T> to_host() const {
    SSE_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> h(n_);
    SSE_CUDA_CHECK(cudaMemcpy(h.data(), p_, bytes(), cudaMemcpyDeviceToHost));
    return h;
  }
  void poison() {
    SSE_CUDA_CHECK(cudaMemset(p_, 0xFF, bytes()));
  }

 private:
  std::size_t bytes() const { return n_ * sizeof(T); }
  T* p_ = nullptr;
  std::size_t n_;
};

// True when CUDA kernels can run here (a GPU, or the emulator).
inline bool cuda_usable() { return cuda_device_count() > 0; }

}  // namespace sse::test

// Skips the current test where no CUDA device (real or emulated) is usable.
#define SSE_REQUIRE_CUDA()                                                   \
  do {                                                                       \
    if (!::sse::test::cuda_usable()) GTEST_SKIP() << "no CUDA device here"; \
  } while (0)

#endif  // SSE_WITH_CUDA
