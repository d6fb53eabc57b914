#include "engine/storage.h"

#include <cstdlib>
#include <cstring>
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

Storage::Storage(Device device, std::size_t bytes) : device_(device), bytes_(bytes) {
  if (device.is_cpu()) {
    const std::size_t padded = (bytes + 63) / 64 * 64;
    data_ = padded ? std::aligned_alloc(64, padded) : nullptr;
    if (padded && !data_) throw std::bad_alloc();
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
    std::free(data_);
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
