// engine/precision.h — how the CUDA convolutions compute: the --precision of `sseunet train` and of
// the benchmarks.
//
//   fp32   the SIMT kernels, true fp32 (the default)
//   tf32   tensor cores, inputs rounded to TF32, fp32 accumulation (kernels/cuda/conv3d_tc.cu and
//          the brick weight gradients)
//   bf16   tensor cores, inputs rounded to bfloat16, fp32 accumulation. Mixed precision as far as the
//          engine goes today: weights (the master copy), activations, gradients, the loss and the
//          optimizer stay fp32 in memory; every convolution rounds its operands to bfloat16 where it
//          multiplies them. Activations are not stored as bf16 (the engine has no bf16 tensor type).
//   cudnn  cuDNN (true fp32, deterministic algorithms; the engine's own kernel where cuDNN has none)
// Process-wide (cuda::set_conv_algo); CPU convolutions always compute in fp32, so a CPU run asks for
// fp32. In the emulator tf32 and bf16 reproduce the tensor cores' input rounding on the SIMT
// kernels (kernels/cuda/README.md); cudnn is refused there and in builds without cuDNN.
#pragma once

#include <string>

namespace sse {

enum class Precision { FP32, TF32, BF16, Cudnn };

// "fp32", "tf32", "bf16", "cudnn"; anything else throws EngineError naming the choices.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Throws EngineError when this build cannot run `p` (no CUDA backend for tf32/bf16/cudnn, no cuDNN).
void set_precision(Precision p);
Precision current_precision();

}  // namespace sse
