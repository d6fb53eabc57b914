// engine/device.h — where a tensor lives.
//
// Device::cpu() always exists. Device::cuda(i) exists in builds with the CUDA backend (real or
// emulated); asking for it elsewhere throws EngineError. Device::parse understands "cpu", "cuda",
// "cuda:N" (N counts the GPUs CUDA_VISIBLE_DEVICES leaves visible).
#pragma once

#include <stdexcept>
#include <string>

namespace sse {

// Every user-facing engine failure (shape, dtype, device mismatch, bad argument).
struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DeviceType : unsigned char { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
  static Device parse(const std::string& s);
};

// True in builds that have a CUDA backend (real or emulated).
bool cuda_compiled();
// True when the emulator (SSE_CUDA_SIM) stands in for the GPU.
bool cuda_emulated();
// Number of usable CUDA devices: 0 without the backend or when the driver has none/is unusable.
int cuda_device_count();
// The default device for a run: cuda:0 when a device is usable, else cpu.
Device default_device();

}  // namespace sse
