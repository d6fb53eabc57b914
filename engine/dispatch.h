// engine/dispatch.h — calls a kernel on the device of a tensor (internal to engine/*.cpp).
//
// SSE_DISPATCH(dev, fn, args...) runs sse::cpu::fn(args...) on the CPU or
// sse::cuda::fn(args..., stream) on a CUDA device, inside a profiling/NVTX scope named after fn.
// In a build without CUDA, a CUDA tensor cannot exist, but the branch still throws to be explicit.
#pragma once

#include "engine/profiler.h"
#include "engine/tensor.h"

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
#else
#define SSE_DISPATCH(dev, fn, ...)                                                         \
  do {                                                                                     \
    const ::sse::Device dev_ = (dev);                                                      \
    ::sse::OpScope scope_(#fn, dev_);                                                      \
    if (dev_.is_cuda()) throw ::sse::EngineError(#fn ": this build has no CUDA backend"); \
    ::sse::cpu::fn(__VA_ARGS__);                                                           \
  } while (0)
#endif
