// engine/dispatch.h — calls a kernel on the device of a tensor (internal to engine/*.cpp).
//
// SSE_DISPATCH(dev, fn, args...) runs sse::cpu::fn(args...) on the CPU or
// sse::cuda::fn(args..., stream) on a CUDA device, inside a profiling/NVTX scope named after fn.
// In a build without CUDA, a CUDA tensor cannot exist, but the branch still throws to be explicit.
// SSE_CUDA_CALL(dev, fn, args...) is the same for kernels with a CUDA form only (the convolutions'
// bfloat16-reading forms): on the CPU it throws.
#pragma once

#include "engine/profiler.h"
#include "engine/tensor.h"

namespace sse {
// Calls f(p) with p = t.data<float>() or t.data<bf16_t>(), as t's dtype says (ops whose kernels
// take either storage of floating-point values); other dtypes throw EngineError naming `op`.
template <class F> void with_float_storage(const char* op, const Tensor& t, F&& f) {
  if (t.dtype() == DType::BF16) return f(t.data<bf16_t>());
  check_dtype(op, t, DType::F32);
  f(t.data<float>());
}
}  // namespace sse

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#define SSE_DISPATCH(dev, fn, ...)                                        \
  do {                                                                    \
    const ::sse::Device dev_ = (dev);                                     \
    ::sse::OpScope scope_(#fn, dev_);                                     \
    if (dev_.is_cuda()) {                                                 \
      ::sse::cuda::fn(__VA_ARGS__, ::sse::cuda_stream(dev_));             \
    } else {                                                              \
      ::sse::cpu::fn(__VA_ARGS__);                                        \
    }                                                                     \
  } while (0)
#define SSE_CUDA_CALL(dev, fn, ...)                                                   \
  do {                                                                                \
    const ::sse::Device dev_ = (dev);                                                 \
    ::sse::OpScope scope_(#fn, dev_);                                                 \
    if (!dev_.is_cuda()) throw ::sse::EngineError(#fn ": has no CPU form");           \
    ::sse::cuda::fn(__VA_ARGS__, ::sse::cuda_stream(dev_));                           \
  } while (0)
#else
#define SSE_DISPATCH(dev, fn, ...)                                                         \
  do {                                                                                     \
    const ::sse::Device dev_ = (dev);                                                      \
    ::sse::OpScope scope_(#fn, dev_);                                                      \
    if (dev_.is_cuda()) throw ::sse::EngineError(#fn ": this build has no CUDA backend"); \
    ::sse::cpu::fn(__VA_ARGS__);                                                           \
  } while (0)
#define SSE_CUDA_CALL(dev, fn, ...) throw ::sse::EngineError(#fn ": this build has no CUDA backend")
#endif
