// kernels/cuda/device_array.cuh — a host-side RAII owner of one cudaMalloc'd array, for the programs
// that drive kernels on raw pointers outside the engine's allocator: kernel tests and GPU benchmarks.
//
// New arrays are filled with 0xFF bytes (NaN as floats, −1 as ints): "poisoned", so an output element
// a kernel forgot to write shows up when results are compared. to_host() waits for the device first.
#pragma once

#include <vector>

#include "kernels/cuda/cuda_common.cuh"

namespace sse::cuda {

template <typename T> class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : n_(n) {
    SSE_CUDA_CHECK(cudaMalloc(&p_, bytes() ? bytes() : 1));
    poison();
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() { return p_; }
  const T* get() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

  void upload(const std::vector<T>& host) {
    kernel_check(host.size() == n_, "DeviceArray::upload", "size mismatch");
    SSE_CUDA_CHECK(cudaMemcpy(p_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  std::vector<T> to_host() const {
    SSE_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> h(n_);
    SSE_CUDA_CHECK(cudaMemcpy(h.data(), p_, bytes(), cudaMemcpyDeviceToHost));
    return h;
  }
  void poison() { SSE_CUDA_CHECK(cudaMemset(p_, 0xFF, bytes())); }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

}  // namespace sse::cuda
