// kernels/sim/runtime.cpp — the CUDA runtime subset of sim_runtime.h on host memory.
//
// Device allocations are tracked (base -> size) so that copies and memsets that run past the end
// of an allocation, frees of unknown pointers and double frees fail as errors instead of
// corrupting the heap; the engine's bugs surface in CI rather than on the GPU.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "kernels/sim/internal.h"

struct CUstream_st {
  unsigned int flags;
};

struct CUevent_st {
  unsigned int flags;
  bool recorded;
  std::chrono::steady_clock::time_point time;
};

namespace sse::sim {
namespace {

thread_local cudaError_t last_error = cudaSuccess;  // per host thread, as in CUDA

constexpr std::size_t kAlignment = 256;  // cudaMalloc's guarantee
constexpr int kMultiProcessors = 132;    // an H100 SXM; fixed so that results don't depend on the host

std::size_t capacity_from_env() {
  if (const char* env = std::getenv("SSE_SIM_DEVICE_MEMORY_MB")) {
    const unsigned long long mb = std::strtoull(env, nullptr, 10);
    if (mb > 0) return static_cast<std::size_t>(mb) << 20;
  }
  return std::size_t{16} << 30;
}

class DeviceMemory {
 public:
  cudaError_t allocate(void** ptr, std::size_t size);
  cudaError_t release(void* ptr);
  // Whether [p, p + count) lies inside one live allocation.
  bool contains(const void* p, std::size_t count);
  std::size_t set_capacity(std::size_t bytes);
  std::size_t capacity();
  std::size_t in_use();

 private:
  std::mutex mutex_;
  std::map<std::uintptr_t, std::size_t> blocks_;  // base -> size
  std::size_t capacity_ = capacity_from_env();
  std::size_t in_use_ = 0;
};

cudaError_t DeviceMemory::allocate(void** ptr, std::size_t size) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (size > capacity_ - in_use_) return cudaErrorMemoryAllocation;
    in_use_ += size;
  }
  void* p = std::aligned_alloc(kAlignment, (size + kAlignment - 1) / kAlignment * kAlignment);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!p) {
    in_use_ -= size;
    return cudaErrorMemoryAllocation;
  }
  blocks_[reinterpret_cast<std::uintptr_t>(p)] = size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t DeviceMemory::release(void* ptr) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = blocks_.find(reinterpret_cast<std::uintptr_t>(ptr));
    if (it == blocks_.end()) return cudaErrorInvalidValue;  // not from cudaMalloc, or freed already
    in_use_ -= it->second;
    blocks_.erase(it);
  }
  std::free(ptr);
  return cudaSuccess;
}

bool DeviceMemory::contains(const void* p, std::size_t count) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = blocks_.upper_bound(a);
  if (it == blocks_.begin()) return false;
  --it;
  return a - it->first <= it->second && count <= it->second - (a - it->first);
}

std::size_t DeviceMemory::set_capacity(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t previous = capacity_;
  capacity_ = bytes;
  return previous;
}

std::size_t DeviceMemory::capacity() {
  std::lock_guard<std::mutex> lock(mutex_);
  return capacity_;
}

std::size_t DeviceMemory::in_use() {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

DeviceMemory& device_memory() {
  static DeviceMemory m;
  return m;
}

// Dynamic shared memory raised per kernel with cudaFuncSetAttribute.
struct KernelAttributes {
  std::mutex mutex;
  std::unordered_map<const void*, std::size_t> max_dynamic_shared;
};

KernelAttributes& kernel_attributes() {
  static KernelAttributes a;
  return a;
}

cudaError_t fail(cudaError_t e) { return detail::record_error(e); }

bool device_range(const void* p, std::size_t count) { return device_memory().contains(p, count); }

// Checks the device side(s) of a copy against the live allocations.
cudaError_t check_copy(void* dst, const void* src, std::size_t count, cudaMemcpyKind kind) {
  if (count == 0) return cudaSuccess;
  if (!dst || !src) return cudaErrorInvalidValue;
  switch (kind) {
    case cudaMemcpyHostToHost:
    case cudaMemcpyDefault: return cudaSuccess;
    case cudaMemcpyHostToDevice: return device_range(dst, count) ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToHost: return device_range(src, count) ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToDevice:
      return device_range(dst, count) && device_range(src, count) ? cudaSuccess : cudaErrorInvalidValue;
  }
  return cudaErrorInvalidMemcpyDirection;
}

}  // namespace

std::size_t set_device_memory_capacity(std::size_t bytes) { return device_memory().set_capacity(bytes); }
std::size_t device_memory_in_use() { return device_memory().in_use(); }

namespace detail {

cudaError_t record_error(cudaError_t error) {
  if (error != cudaSuccess) last_error = error;
  return error;
}

std::size_t max_dynamic_shared(const void* kernel) {
  KernelAttributes& a = kernel_attributes();
  std::lock_guard<std::mutex> lock(a.mutex);
  const auto it = a.max_dynamic_shared.find(kernel);
  return it == a.max_dynamic_shared.end() ? kDefaultSharedMemory : it->second;
}

}  // namespace detail
}  // namespace sse::sim

using sse::sim::detail::record_error;
using sse::sim::fail;

// ---- errors --------------------------------------------------------------------------------------------
const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidSymbol: return "invalid device symbol";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unrecognized error code";
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidSymbol: return "cudaErrorInvalidSymbol";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnknown";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = sse::sim::last_error;
  sse::sim::last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return sse::sim::last_error; }

// ---- device ------------------------------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::strncpy(prop->name, "sseunet CUDA emulator", sizeof prop->name - 1);
  prop->totalGlobalMem = sse::sim::device_memory().capacity();
  prop->sharedMemPerBlock = sse::sim::kDefaultSharedMemory;
  prop->sharedMemPerBlockOptin = sse::sim::kMaxSharedMemory;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->totalConstMem = 64 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024, prop->maxThreadsDim[1] = 1024, prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647, prop->maxGridSize[1] = 65535, prop->maxGridSize[2] = 65535;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->multiProcessorCount = sse::sim::kMultiProcessors;
  prop->l2CacheSize = 50 * 1024 * 1024;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(sse::sim::kDefaultSharedMemory); return cudaSuccess;
    case cudaDevAttrWarpSize: *value = 32; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = sse::sim::kMultiProcessors; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(sse::sim::kMaxSharedMemory); return cudaSuccess;
  }
  return fail(cudaErrorInvalidValue);
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaDeviceReset() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total) {
  if (!free || !total) return fail(cudaErrorInvalidValue);
  sse::sim::DeviceMemory& m = sse::sim::device_memory();
  *total = m.capacity();
  const std::size_t used = m.in_use();
  *free = used < *total ? *total - used : 0;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return fail(cudaErrorInvalidValue);
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;  // a hint
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return fail(cudaErrorInvalidValue);
  if (value < 0 || static_cast<std::size_t>(value) > sse::sim::kMaxSharedMemory) return fail(cudaErrorInvalidValue);
  sse::sim::KernelAttributes& a = sse::sim::kernel_attributes();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.max_dynamic_shared[func] = std::max(static_cast<std::size_t>(value), sse::sim::kDefaultSharedMemory);
  return cudaSuccess;
}

// ---- memory --------------------------------------------------------------------------------------------------
cudaError_t cudaMalloc(void** ptr, std::size_t size) {
  if (!ptr) return fail(cudaErrorInvalidValue);
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  if (const cudaError_t e = sse::sim::device_memory().allocate(ptr, size); e != cudaSuccess) return fail(e);
  std::memset(*ptr, 0xFF, size);  // NaN: reads of memory nobody wrote show up in results
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  return record_error(sse::sim::device_memory().release(ptr));
}

cudaError_t cudaMallocHost(void** ptr, std::size_t size) {
  if (!ptr) return fail(cudaErrorInvalidValue);
  *ptr = size ? std::aligned_alloc(sse::sim::kAlignment, (size + sse::sim::kAlignment - 1) / sse::sim::kAlignment *
                                                              sse::sim::kAlignment)
              : nullptr;
  return (*ptr || !size) ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t count, cudaMemcpyKind kind) {
  if (const cudaError_t e = sse::sim::check_copy(dst, src, count, kind); e != cudaSuccess) return fail(e);
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t count, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}

// One emulated device: a peer copy is a device-to-device copy between device 0 and itself.
cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, std::size_t count) {
  if (dst_device != 0 || src_device != 0) return fail(cudaErrorInvalidDevice);
  return cudaMemcpy(dst, src, count, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, std::size_t count,
                                cudaStream_t) {
  return cudaMemcpyPeer(dst, dst_device, src, src_device, count);
}

cudaError_t cudaMemset(void* ptr, int value, std::size_t count) {
  if (count == 0) return cudaSuccess;
  if (!sse::sim::device_range(ptr, count)) return fail(cudaErrorInvalidValue);
  std::memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t count, cudaStream_t) {
  return cudaMemset(ptr, value, count);
}

// ---- streams ---------------------------------------------------------------------------------------------------
cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (!stream || flags > cudaStreamNonBlocking) return fail(cudaErrorInvalidValue);
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle);
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned int) {
  return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}

// ---- events ------------------------------------------------------------------------------------------------------
cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (!event || flags > (cudaEventBlockingSync | cudaEventDisableTiming)) return fail(cudaErrorInvalidValue);
  *event = new CUevent_st{flags, false, {}};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  delete event;
  return cudaSuccess;
}

// Work before the record has already finished, so the event completes now.
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  event->recorded = true;
  event->time = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return fail(cudaErrorInvalidValue);
  if (!start || !end || !start->recorded || !end->recorded) return fail(cudaErrorInvalidResourceHandle);
  if ((start->flags | end->flags) & cudaEventDisableTiming) return fail(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}
