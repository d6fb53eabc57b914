// kernels/cuda/brick_math.h — the math a brick kernel multiplies with (host-visible: the kernels'
// entry points, the dispatch in conv3d.cu and the tests name it).
//
//   Simt   fp32 FMAs, no rounding — the fp32 path, and the twin the tensor-core forms are checked by
//   TF32   mma.sync m16n8k8, operands rounded to TF32, fp32 accumulation
//   BF16   mma.sync m16n8k16, operands rounded to bfloat16, fp32 accumulation
#pragma once

namespace sse::cuda {

enum class BrickMath { Simt, TF32, BF16 };

// The math the current ConvAlgo asks of the brick kernels: Simt, TensorTF32 → TF32, TensorBF16 → BF16
// (implemented in conv3d.cu, beside the algorithm switch).
BrickMath brick_math();

}  // namespace sse::cuda
