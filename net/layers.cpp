#include "net/layers.h"

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

Tensor BatchNorm3d::forward(const Tensor& x, bool fuse_relu) {
  return ops::batch_norm(x, weight, bias, running_mean, running_var, training(), params, fuse_relu && !training());
}

ConvBlock::ConvBlock(index_t in, index_t mid, index_t out)
    : conv_a(register_module("0", std::make_unique<Conv3d>(in, mid, 3))),
      bn_a(register_module("1", std::make_unique<BatchNorm3d>(mid))),
      conv_b(register_module("3", std::make_unique<Conv3d>(mid, out, 3))),
      bn_b(register_module("4", std::make_unique<BatchNorm3d>(out))) {}

Tensor ConvBlock::forward(const Tensor& x) {
  // In eval mode BN and ReLU fuse into one pass; in training ReLU stays a separate op so its
  // gradient mask is explicit.
  auto bn_relu = [this](BatchNorm3d& bn, const Tensor& t) {
    return training() ? ops::relu(bn.forward(t)) : bn.forward(t, true);
  };
  return bn_relu(bn_b, conv_b.forward(bn_relu(bn_a, conv_a.forward(x))));
}

}  // namespace sse::net
