// net/layers.h — the U-Net's layers with parameters, as Modules (PyTorch's names and layouts).
//
// Conv3d: weight (out, in, k, k, k), bias (out); stride 1, padding k/2.
// ConvTranspose3d: kernel 2, stride 2; weight (in, out, 2, 2, 2), bias (out).
// BatchNorm3d: weight (γ), bias (β), buffers running_mean, running_var; eps 1e-5, momentum 0.1.
// ConvBlock: (Conv3d → BatchNorm3d → ReLU) × 2, registered as children "0", "1", "3", "4" — the
// indices of a PyTorch nn.Sequential(conv, bn, relu, conv, bn, relu). In training its two
// activations are stored as activation_dtype (engine/precision.h): bfloat16 under --precision bf16
// on CUDA.
// Parameter-free layers (ReLU, max-pool, dropout) are the functions of engine/ops.h.
#pragma once

#include "engine/ops.h"
#include "net/module.h"

namespace sse::net {

class Conv3d : public Module {
 public:
  Conv3d(index_t in, index_t out, int k);
  Tensor forward(const Tensor& x) const { return ops::conv3d(x, weight, bias); }
  Tensor& weight;
  Tensor& bias;
};

class ConvTranspose3d : public Module {
 public:
  ConvTranspose3d(index_t in, index_t out);
  Tensor forward(const Tensor& x) const { return ops::conv_transpose3d(x, weight, bias); }
  Tensor& weight;
  Tensor& bias;
};

class BatchNorm3d : public Module {
 public:
  explicit BatchNorm3d(index_t c);
  // With fuse_relu, the following ReLU is applied in the same op (train and eval); `out` is the
  // output's storage type (ops::batch_norm).
  Tensor forward(const Tensor& x, bool fuse_relu = false, DType out = DType::F32);
  Tensor& weight;
  Tensor& bias;
  Tensor& running_mean;
  Tensor& running_var;
  BatchNormParams params;
};

class ConvBlock : public Module {
 public:
  ConvBlock(index_t in, index_t mid, index_t out);
  Tensor forward(const Tensor& x);
  // The block on concat_channels(a, b) (the U-Net decoder's input). In eval mode each conv → BN →
  // ReLU is one ops::conv3d_eval, which on the CPU reads a and b in place (no concatenated tensor)
  // and writes one tensor per convolution.
  Tensor forward(const Tensor& a, const Tensor& b);
  Conv3d& conv_a;
  BatchNorm3d& bn_a;
  Conv3d& conv_b;
  BatchNorm3d& bn_b;
};

}  // namespace sse::net
