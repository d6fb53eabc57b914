// engine/precision.h — how the CUDA convolutions compute: the --precision of `sseunet train` and of
// the benchmarks.
//
//   fp32   the SIMT kernels, true fp32 (the default)
//   tf32   tensor cores, inputs rounded to TF32, fp32 accumulation (kernels/cuda/conv3d_tc.cu and
//          the brick weight gradients)
//   bf16   tensor cores, inputs rounded to bfloat16, fp32 accumulation; mixed precision: on CUDA the
//          U-Net's activations in training (its blocks' batch norm + ReLU outputs, and what
//          dropout, max-pooling and concatenation make of them) are stored as bfloat16
//          (activation_dtype), at half the bytes; the weights (the master copy), the convolutions'
//          outputs, every gradient, the loss and the optimizer stay fp32.
//   cudnn  cuDNN (true fp32, deterministic algorithms; the engine's own kernel where cuDNN has none)
// Process-wide (cuda::set_conv_algo); CPU convolutions always compute in fp32, so a CPU run asks for
// fp32. In the emulator tf32 and bf16 reproduce the tensor cores' input rounding on the SIMT
// kernels (kernels/cuda/README.md); cudnn is refused there and in builds without cuDNN.
#pragma once

#include <string>

#include "engine/device.h"
#include "engine/dtype.h"

namespace sse {

enum class Precision { FP32, TF32, BF16, Cudnn };

// "fp32", "tf32", "bf16", "cudnn"; anything else throws EngineError naming the choices.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Throws EngineError when this build cannot run `p` (no CUDA backend for tf32/bf16/cudnn, no cuDNN).
void set_precision(Precision p);
Precision current_precision();

// The storage type of the U-Net's activations in training on `dev`: BF16 on a CUDA device under
// Precision::BF16 (unless set_bf16_activations(false)), F32 otherwise (the CPU computes in fp32 only).
DType activation_dtype(Device dev);
// Whether bf16 stores activations as bfloat16 (default true; process-wide). Without dropout the
// choice changes no value — the bf16 convolutions round their operands to bfloat16 exactly as the
// storage does — only bytes, which is what tests and benchmarks turn it off to compare.
void set_bf16_activations(bool on);
bool bf16_activations();

}  // namespace sse
