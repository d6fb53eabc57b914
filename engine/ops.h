// engine/ops.h — the differentiable operations of the engine.
//
// Each op checks its arguments (EngineError naming the op and the shapes), allocates its output on
// the inputs' device, dispatches to the kernel of that device (kernels/<op>.h), and — when grad mode
// is on and an input requires grad — records a Node whose backward calls the backward kernels.
// All inputs of one op must share a device. Float32 tensors unless stated.
//
// bfloat16 activations (--precision bf16, engine/precision.h): the ops marked "bf16" below also take
// DType::BF16 inputs; their gradients are float32 whatever the input's type.
#pragma once

#include "engine/random.h"
#include "engine/tensor.h"
#include "kernels/batchnorm.h"

namespace sse::dist {
class Comm;
}

namespace sse::ops {

// ---- in-place helpers (never recorded; for optimizers, accumulation, initialization) ----
void fill(Tensor& t, float v);
void add_(Tensor& acc, const Tensor& x);              // acc += x
void axpby_(Tensor& y, float alpha, const Tensor& x, float beta);  // y = alpha·x + beta·y

// ---- elementwise (same shapes) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor scale(const Tensor& x, float alpha);        // alpha·x
Tensor add_scalar(const Tensor& x, float alpha);   // x + alpha
Tensor pow(const Tensor& x, float alpha);          // x^alpha (x ≥ 0 where alpha is not an integer)
Tensor relu(const Tensor& x);
// x as float32 or bfloat16 (rounded to nearest even; widening is exact); x itself when it already
// is. Its gradient is the output's gradient (float32).
Tensor to_dtype(const Tensor& x, DType dt);

// ---- reductions ----
Tensor sum(const Tensor& x);                       // rank-0 result
Tensor mean(const Tensor& x);                      // rank-0 result
Tensor sum_spatial(const Tensor& x);               // (N, C, ...) → (N, C): sums over all trailing axes
Tensor sum_channels(const Tensor& x);              // (N, C, ...) → (N, 1, ...)

// ---- channel axis of (N, C, D, H, W) ----
// bf16: the result is bfloat16 when either part is (a float32 part is rounded as it is copied).
Tensor concat_channels(const Tensor& a, const Tensor& b);
Tensor narrow_channels(const Tensor& x, index_t c0, index_t c1);  // channels [c0, c1)
Tensor softmax_channels(const Tensor& x);
// labels (N, D, H, W) int32 → (N, c, D, H, W) float one-hot; voxels equal to `ignore` are all-zero.
// Not differentiable.
Tensor one_hot(const Tensor& labels, int c, int ignore = -1);

// ---- layers of the U-Net ----
// b may be undefined. bf16: x may be bfloat16 (the output is float32); the kernels read it directly
// where they can (cuda::conv3d_reads_bf16), else a widened temporary copy (the backward keeps x
// itself, so the graph holds no float copy).
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b);
Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b);   // k2 s2; bf16 as conv3d
// Train mode uses batch statistics and updates running_mean/var in place; eval uses them.
// `fuse_relu` applies ReLU in the same pass: relu(batch_norm(x)) as one op, whose train-mode backward
// recomputes the ReLU's mask from x instead of keeping the pre-ReLU tensor (kernels/batchnorm.h).
// Under a SyncBatchNorm, train mode's statistics are those of every rank's part of the batch together.
// `out` is the output's type: F32, or BF16 (train mode writes it rounded in the same pass; x and the
// statistics stay float32).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, const BatchNormParams& p = {}, bool fuse_relu = false,
                  DType out = DType::F32);
// While a SyncBatchNorm lives on this thread, train-mode batch_norm takes its statistics over every
// rank of `comm`, each rank holding its part of the batch: the parts' moments are merged in rank
// order (kernels/batchnorm.h) and the backward's two per-channel sums are added over the ranks, so
// the ranks compute together what one process computes on the whole batch (up to rounding). γ and β
// get this rank's share of their gradients, to be summed over the ranks with the other gradients.
// Every rank must make the same batch_norm calls in the same order (they are collectives).
class SyncBatchNorm {
 public:
  explicit SyncBatchNorm(dist::Comm& comm);
  ~SyncBatchNorm();
  SyncBatchNorm(const SyncBatchNorm&) = delete;
  SyncBatchNorm& operator=(const SyncBatchNorm&) = delete;
  static dist::Comm* active();  // this thread's, or null

 private:
  dist::Comm* prev_;
};

// Inference form of a U-Net block's first half: batch_norm(conv3d(concat_channels(x1, x2), w, b), gamma,
// beta, running_mean, running_var, training=false, p, relu) with x2 optional (undefined: conv3d(x1)) and
// the batch norm optional (gamma undefined: none; then `relu` applies to the convolution). Without
// gradients it is one kernel — on the CPU always (kernels/conv3d.h, conv3d_forward_fused), on CUDA
// for k = 3 where the brick kernel runs the forward (cuda::conv3d_forward_eval, cuda::use_brick_wx):
// no concatenated input, no separate batch-norm pass or tensor. Otherwise (an input needing a
// gradient, k = 1 or the implicit GEMM on CUDA) it is those ops in sequence. Same values either way
// (up to the fused kernel's own summation order).
Tensor conv3d_eval(const Tensor& x1, const Tensor& x2, const Tensor& w, const Tensor& b, const Tensor& gamma,
                   const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                   const BatchNormParams& p = {}, bool relu = false);
Tensor max_pool3d(const Tensor& x);                            // 2×2×2, stride 2; bf16 (same type out)
// Inverted dropout with one offset drawn from `gen` per call. Masks are per sample: element i of
// sample n (axis 0) is kept by Philox(seed, offset + ((first_sample + n) << 40), i) (kernels/dropout.h),
// so a sample's mask is the same whether it is one of a batch or alone — data-parallel ranks pass the
// index of their first sample in the global batch. Sample 0 keeps the offset itself. bf16 (same type
// out).
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen, index_t first_sample = 0);
// Resizes the spatial box of (N, C, D, H, W): out[z, y, x] = x[z + oz, y + oy, x + ox] or 0 outside.
// pad_to / crop_to are its two common uses (offsets 0): zero padding at the end, and cropping.
Tensor box(const Tensor& x, index_t d, index_t h, index_t w, index_t oz = 0, index_t oy = 0, index_t ox = 0);

}  // namespace sse::ops
