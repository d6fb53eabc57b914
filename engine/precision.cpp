// engine/precision.cpp — the --precision switch over the CUDA convolution algorithm (see precision.h).
#include "engine/precision.h"

#include <atomic>

#include "engine/device.h"
#include "kernels/conv3d.h"

namespace sse {
namespace {

std::atomic<Precision> g_precision{Precision::FP32};
std::atomic<bool> g_bf16_activations{true};

}  // namespace

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::FP32, Precision::TF32, Precision::BF16, Precision::Cudnn})
    if (name == precision_name(p)) return p;
  throw EngineError("unknown precision '" + name + "' (choose fp32, tf32, bf16 or cudnn)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::FP32: return "fp32";
    case Precision::TF32: return "tf32";
    case Precision::BF16: return "bf16";
    case Precision::Cudnn: return "cudnn";
  }
  return "?";
}

void set_precision(Precision p) {
#if SSE_WITH_CUDA
  const ConvAlgo algo = p == Precision::TF32   ? ConvAlgo::TensorTF32
                        : p == Precision::BF16 ? ConvAlgo::TensorBF16
                        : p == Precision::Cudnn ? ConvAlgo::Cudnn
                                                : ConvAlgo::Simt;
  try {
    cuda::set_conv_algo(algo);
  } catch (const KernelError& e) {
    throw EngineError(std::string("precision ") + precision_name(p) + ": " + e.what());
  }
#else
  if (p != Precision::FP32)
    throw EngineError(std::string("precision ") + precision_name(p) + " needs a build with the CUDA backend");
#endif
  g_precision.store(p);
}

Precision current_precision() { return g_precision.load(); }

DType activation_dtype(Device dev) {
  const bool bf16 = dev.is_cuda() && current_precision() == Precision::BF16 && g_bf16_activations.load();
  return bf16 ? DType::BF16 : DType::F32;
}

void set_bf16_activations(bool on) { g_bf16_activations.store(on); }
bool bf16_activations() { return g_bf16_activations.load(); }

}  // namespace sse
