// tests/sim/sim_test_util.h — helpers shared by the emulator's tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda/cuda_common.cuh"

namespace sse::sim::test {

// A device array that frees itself; copies to and from host vectors.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : n_(n) { SSE_CUDA_CHECK(cudaMalloc(&p_, n * sizeof(T))); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return p_; }
  std::size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    SSE_CUDA_CHECK(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  void fill_zero() { SSE_CUDA_CHECK(cudaMemset(p_, 0, n_ * sizeof(T))); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    SSE_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

// The schedules a race-sensitive test runs under.
inline std::vector<Schedule> all_schedules() {
  return {Schedule::forward(), Schedule::reverse(), Schedule::shuffled(1), Schedule::shuffled(2),
          Schedule::shuffled(12345)};
}

// Sets the number of OS threads for the lifetime of the object.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(set_num_threads(n)) {}
  ~ScopedThreads() { set_num_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

}  // namespace sse::sim::test
