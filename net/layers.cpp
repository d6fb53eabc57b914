#include "net/layers.h"

#include "engine/precision.h"
#include "engine/profiler.h"

namespace sse::net {

Conv3d::Conv3d(index_t in, index_t out, int k)
    : weight(register_parameter("weight", Tensor::zeros(Shape{out, in, k, k, k}))),
      bias(register_parameter("bias", Tensor::zeros(Shape{out}))) {}

ConvTranspose3d::ConvTranspose3d(index_t in, index_t out)
    : weight(register_parameter("weight", Tensor::zeros(Shape{in, out, 2, 2, 2}))),
      bias(register_parameter("bias", Tensor::zeros(Shape{out}))) {}

BatchNorm3d::BatchNorm3d(index_t c)
    : weight(register_parameter("weight", Tensor::full(Shape{c}, 1.0f))),
      bias(register_parameter("bias", Tensor::zeros(Shape{c}))),
      running_mean(register_buffer("running_mean", Tensor::zeros(Shape{c}))),
      running_var(register_buffer("running_var", Tensor::full(Shape{c}, 1.0f))) {}

Tensor BatchNorm3d::forward(const Tensor& x, bool fuse_relu, DType out) {
  return ops::batch_norm(x, weight, bias, running_mean, running_var, training(), params, fuse_relu, out);
}

ConvBlock::ConvBlock(index_t in, index_t mid, index_t out)
    : conv_a(register_module("0", std::make_unique<Conv3d>(in, mid, 3))),
      bn_a(register_module("1", std::make_unique<BatchNorm3d>(mid))),
      conv_b(register_module("3", std::make_unique<Conv3d>(mid, out, 3))),
      bn_b(register_module("4", std::make_unique<BatchNorm3d>(out))) {}

Tensor ConvBlock::forward(const Tensor& x) { return forward(x, Tensor()); }

Tensor ConvBlock::forward(const Tensor& a, const Tensor& b) {
  if (training()) {
    // Batch norm and ReLU as one op (two fewer passes over the activation forward, three backward).
    // Activations in the storage type of the precision (bfloat16 under bf16 on CUDA).
    const Tensor x = b.defined() ? ops::concat_channels(a, b) : a;
    const DType act = activation_dtype(x.device());
    return bn_b.forward(conv_b.forward(bn_a.forward(conv_a.forward(x), true, act)), true, act);
  }
  // Eval: conv → BN → ReLU as one op each (one pass on the CPU; BN and ReLU fused elsewhere).
  auto conv_bn_relu = [](const Conv3d& conv, const BatchNorm3d& bn, const Tensor& x1, const Tensor& x2) {
    return ops::conv3d_eval(x1, x2, conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var,
                            bn.params, true);
  };
  return conv_bn_relu(conv_b, bn_b, conv_bn_relu(conv_a, bn_a, a, b), Tensor());
}

}  // namespace sse::net
