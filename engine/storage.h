// engine/storage.h — a block of device memory shared by the tensors that view it.
//
// CPU memory is 64-byte aligned (full cache lines, AVX loads). CUDA memory comes from the caching
// allocator (engine/cuda_allocator.h). Contents are uninitialized unless a factory says otherwise.
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
  void* data_ = nullptr;
};

// Raw copies between any two devices (host<->device, device<->device). Synchronous.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes);
// Sets `bytes` bytes at `dst` to zero on its device.
void zero_bytes(void* dst, Device dev, std::size_t bytes);

}  // namespace sse
