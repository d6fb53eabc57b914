// The U-Net's layer ops (contract in engine/ops.h).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/batchnorm.h"
#include "kernels/box.h"
#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/dropout.h"
#include "kernels/maxpool.h"

namespace sse::ops {

// Train-mode batch norm over the ranks of `comm` (engine/ops_sync_batchnorm.cpp); arguments checked.
Tensor sync_batch_norm(dist::Comm& comm, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       Tensor& running_mean, Tensor& running_var, const BatchNormParams& p, bool relu, DType out);

namespace {

using Grads = std::vector<Tensor>;

float* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

void check_volume(const char* op, const Tensor& x) {
  check_dtype(op, x, DType::F32);
  check_rank(op, x, 5);
}

// An activation: float32 or bfloat16 (engine/ops.h, "bf16").
void check_activation(const char* op, const Tensor& x) {
  if (x.dtype() != DType::BF16) check_dtype(op, x, DType::F32);
  check_rank(op, x, 5);
}

void check_bias(const char* op, const Tensor& b, const Tensor& x, index_t c_out) {
  if (!b.defined()) return;
  check_same_device(op, x, b);
  if (b.rank() != 1 || b.dim(0) != c_out)
    fail(op, "bias " + b.shape().str() + " does not match " + std::to_string(c_out) + " output channels");
}

// Whether the CUDA kernels read this layer's bfloat16 x as it is stored (else the op widens it first):
// conv3d's forward and weight gradient, or the transposed convolution's weight gradient.
bool reads_bf16(const Tensor& x, const Conv3dShape& s) {
#if SSE_WITH_CUDA
  return x.dtype() == DType::BF16 && x.is_cuda() && cuda::conv3d_reads_bf16(s);
#else
  return (void)x, (void)s, false;
#endif
}
bool reads_bf16(const Tensor& x, const ConvT3dShape& s) {
#if SSE_WITH_CUDA
  return x.dtype() == DType::BF16 && x.is_cuda() && cuda::conv_transpose3d_wgrad_reads_bf16(s);
#else
  return (void)x, (void)s, false;
#endif
}

// x as float32: itself, or a bfloat16 x widened into a temporary (never recorded: the backward keeps
// the bfloat16 x and widens it again where it needs float, so no float copy outlives the kernel).
Tensor widened(const Tensor& x) {
  if (x.dtype() != DType::BF16) return x;
  NoGradGuard no_grad;
  return to_dtype(x.detach(), DType::F32);
}

Tensor empty5(index_t n, index_t c, index_t d, index_t h, index_t w, Device dev) {
  return Tensor::empty(Shape{n, c, d, h, w}, DType::F32, dev);
}

// Records the backward of a weighted layer y = f(x, w) + b (conv3d, conv_transpose3d):
// data(g, dx) writes dL/dx; weight(x, g, dw, db) writes dL/dw and, when db is not null, dL/db.
template <typename DataFn, typename WeightFn>
void record_weighted(Tensor& y, const char* name, const Tensor& x, const Tensor& w, const Tensor& b, index_t c_out,
                     DataFn data, WeightFn weight) {
  if (!needs_grad({&x, &w, &b})) return;
  Tensor xd = x.detach(), wd = w.detach();
  const bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad();
  record(y, name, {x, w, b.defined() ? b : Tensor()}, [=](const Tensor& g) {
    Grads r(3);
    if (gx) {
      r[0] = Tensor::empty(xd.shape(), DType::F32, g.device());
      data(g, wd, r[0]);
    }
    if (gw || gb) {
      Tensor dw = Tensor::empty(wd.shape(), DType::F32, g.device());
      Tensor db = gb ? Tensor::empty(Shape{c_out}, DType::F32, g.device()) : Tensor();
      weight(xd, g, dw, db);
      if (gw) r[1] = dw;
      r[2] = db;
    }
    return r;
  });
}

}  // namespace

Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_activation("conv3d", x);
  check_volume("conv3d", w);
  check_same_device("conv3d", x, w);
  const index_t k = w.dim(2);
  if (w.dim(1) != x.dim(1) || w.dim(3) != k || w.dim(4) != k || k % 2 == 0)
    fail("conv3d", "weight " + w.shape().str() + " does not fit input " + x.shape().str() +
                       " (expected (c_out, " + std::to_string(x.dim(1)) + ", k, k, k) with odd k)");
  check_bias("conv3d", b, x, w.dim(0));
  const Conv3dShape s{x.dim(0), x.dim(1), w.dim(0), x.dim(2), x.dim(3), x.dim(4), static_cast<int>(k)};
  Tensor y = empty5(s.n, s.c_out, s.d, s.h, s.w, x.device());
  if (reads_bf16(x, s)) {
    SSE_CUDA_CALL(x.device(), conv3d_forward, s, x.data<bf16_t>(), w.data<float>(), ptr_or_null(b), y.data<float>());
  } else {
    const Tensor xf = widened(x);
    SSE_DISPATCH(x.device(), conv3d_forward, s, xf.data<float>(), w.data<float>(), ptr_or_null(b), y.data<float>());
  }
  record_weighted(
      y, "conv3d", x, w, b, s.c_out,
      [s](const Tensor& g, const Tensor& wd, Tensor& dx) {
        SSE_DISPATCH(g.device(), conv3d_backward_data, s, g.data<float>(), wd.data<float>(), dx.data<float>());
      },
      [s](const Tensor& xd, const Tensor& g, Tensor& dw, Tensor& db) {
        if (reads_bf16(xd, s)) {
          SSE_CUDA_CALL(g.device(), conv3d_backward_weight, s, xd.data<bf16_t>(), g.data<float>(), dw.data<float>(),
                        ptr_or_null(db));
        } else {
          const Tensor xf = widened(xd);
          SSE_DISPATCH(g.device(), conv3d_backward_weight, s, xf.data<float>(), g.data<float>(), dw.data<float>(),
                       ptr_or_null(db));
        }
      });
  return y;
}

Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_activation("conv_transpose3d", x);
  check_volume("conv_transpose3d", w);
  check_same_device("conv_transpose3d", x, w);
  if (w.dim(0) != x.dim(1) || w.dim(2) != 2 || w.dim(3) != 2 || w.dim(4) != 2)
    fail("conv_transpose3d", "weight " + w.shape().str() + " does not fit input " + x.shape().str() +
                                 " (expected (" + std::to_string(x.dim(1)) + ", c_out, 2, 2, 2))");
  check_bias("conv_transpose3d", b, x, w.dim(1));
  const ConvT3dShape s{x.dim(0), x.dim(1), w.dim(1), x.dim(2), x.dim(3), x.dim(4)};
  const Tensor xf = widened(x);  // the forward reads float only
  Tensor y = empty5(s.n, s.c_out, 2 * s.d, 2 * s.h, 2 * s.w, x.device());
  SSE_DISPATCH(x.device(), conv_transpose3d_forward, s, xf.data<float>(), w.data<float>(), ptr_or_null(b),
               y.data<float>());
  record_weighted(
      y, "conv_transpose3d", x, w, b, s.c_out,
      [s](const Tensor& g, const Tensor& wd, Tensor& dx) {
        SSE_DISPATCH(g.device(), conv_transpose3d_backward_data, s, g.data<float>(), wd.data<float>(),
                     dx.data<float>());
      },
      [s](const Tensor& xd, const Tensor& g, Tensor& dw, Tensor& db) {
        if (reads_bf16(xd, s)) {
          SSE_CUDA_CALL(g.device(), conv_transpose3d_backward_weight, s, xd.data<bf16_t>(), g.data<float>(),
                        dw.data<float>(), ptr_or_null(db));
        } else {
          const Tensor xf = widened(xd);
          SSE_DISPATCH(g.device(), conv_transpose3d_backward_weight, s, xf.data<float>(), g.data<float>(),
                       dw.data<float>(), ptr_or_null(db));
        }
      });
  return y;
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, const BatchNormParams& p, bool fuse_relu, DType out) {
  check_dtype("batch_norm", x, DType::F32);
  if (out != DType::F32 && out != DType::BF16) fail("batch_norm", std::string("no ") + dtype_name(out) + " output");
  if (x.rank() < 2) fail("batch_norm", "expected (N, C, ...), got " + x.str());
  const index_t c = x.dim(1);
  for (const Tensor* t : {&gamma, &beta, static_cast<const Tensor*>(&running_mean), static_cast<const Tensor*>(&running_var)}) {
    check_same_device("batch_norm", x, *t);
    if (t->rank() != 1 || t->dim(0) != c) fail("batch_norm", "parameter " + t->shape().str() + " for input " + x.shape().str());
  }
  const BatchNormShape sh{x.dim(0), c, x.shape().tail(2)};
  if (!training) {
    if (needs_grad({&x, &gamma, &beta})) {
      // Eval-mode BN is a per-channel affine map; differentiate it through the elementwise ops.
      fail("batch_norm", "gradients through eval-mode batch norm are not supported");
    }
    Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
    SSE_DISPATCH(x.device(), batchnorm_forward_eval, sh, p, x.data<float>(), gamma.data<float>(), beta.data<float>(),
                 running_mean.data<float>(), running_var.data<float>(), fuse_relu, y.data<float>());
    return to_dtype(y, out);
  }
  if (dist::Comm* comm = SyncBatchNorm::active())
    return sync_batch_norm(*comm, x, gamma, beta, running_mean, running_var, p, fuse_relu, out);
  Tensor save_mean = Tensor::empty(Shape{c}, DType::F32, x.device());
  Tensor save_invstd = Tensor::empty(Shape{c}, DType::F32, x.device());
  Tensor y = Tensor::empty(x.shape(), out, x.device());
  with_float_storage("batch_norm", y, [&](auto* yp) {
    SSE_DISPATCH(x.device(), batchnorm_forward_train, sh, p, x.data<float>(), gamma.data<float>(), beta.data<float>(),
                 running_mean.data<float>(), running_var.data<float>(), fuse_relu, yp, save_mean.data<float>(),
                 save_invstd.data<float>());
  });
  if (needs_grad({&x, &gamma, &beta})) {
    // With the fused ReLU, backward recomputes its mask from x, γ, β and the statistics.
    Tensor xd = x.detach(), gd = gamma.detach(), bd = beta.detach();
    record(y, "batch_norm", {x, gamma, beta}, [=](const Tensor& g) {
      Tensor dx = Tensor::empty(xd.shape(), DType::F32, g.device());
      Tensor dgamma = Tensor::empty(Shape{sh.c}, DType::F32, g.device());
      Tensor dbeta = Tensor::empty(Shape{sh.c}, DType::F32, g.device());
      SSE_DISPATCH(g.device(), batchnorm_backward_train, sh, xd.data<float>(), g.data<float>(), gd.data<float>(),
                   bd.data<float>(), save_mean.data<float>(), save_invstd.data<float>(), fuse_relu, dx.data<float>(),
                   dgamma.data<float>(), dbeta.data<float>());
      return Grads{dx, dgamma, dbeta};
    });
  }
  return y;
}

namespace {

// The fused form's arguments, checked: the convolution's shape (c_in = both parts).
Conv3dShape eval_shape(const Tensor& x1, const Tensor& x2, const Tensor& w, const Tensor& b, const Tensor& gamma,
                       const Tensor& beta, const Tensor& running_mean, const Tensor& running_var) {
  check_volume("conv3d_eval", x1);
  check_volume("conv3d_eval", w);
  check_same_device("conv3d_eval", x1, w);
  index_t c_in = x1.dim(1);
  if (x2.defined()) {
    check_volume("conv3d_eval", x2);
    check_same_device("conv3d_eval", x1, x2);
    if (x2.dim(0) != x1.dim(0) || x2.dim(2) != x1.dim(2) || x2.dim(3) != x1.dim(3) || x2.dim(4) != x1.dim(4))
      fail("conv3d_eval", "incompatible shapes " + x1.shape().str() + " and " + x2.shape().str());
    c_in += x2.dim(1);
  }
  const index_t k = w.dim(2);
  if (w.dim(1) != c_in || w.dim(3) != k || w.dim(4) != k || k % 2 == 0)
    fail("conv3d_eval", "weight " + w.shape().str() + " does not fit " + std::to_string(c_in) + " input channels");
  const index_t c_out = w.dim(0);
  check_bias("conv3d_eval", b, x1, c_out);
  if (gamma.defined())
    for (const Tensor* t : {&gamma, &beta, &running_mean, &running_var}) {
      check_same_device("conv3d_eval", x1, *t);
      if (t->rank() != 1 || t->dim(0) != c_out) fail("conv3d_eval", "batch-norm parameter " + t->shape().str());
    }
  return Conv3dShape{x1.dim(0), c_in, c_out, x1.dim(2), x1.dim(3), x1.dim(4), static_cast<int>(k)};
}

// CPU: the epilogue as per-channel scale and shift (kernels/batchnorm.h, bn_eval_affine).
Tensor conv3d_eval_cpu(const Conv3dShape& s, const Tensor& x1, const Tensor& x2, const Tensor& w, const Tensor& b,
                       const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const BatchNormParams& p, bool relu) {
  std::vector<float> scale, shift;
  ConvEpilogue ep;
  ep.relu = relu;
  if (gamma.defined()) {
    const float *g = gamma.data<float>(), *be = beta.data<float>(), *rm = running_mean.data<float>(),
                *rv = running_var.data<float>();
    for (index_t o = 0; o < s.c_out; ++o) {
      const BnAffine a = bn_eval_affine(g[o], be[o], rm[o], rv[o], p.eps);
      scale.push_back(a.scale);
      shift.push_back(a.shift);
    }
  } else if (relu) {  // ReLU alone: the identity map, then ReLU
    scale.assign(static_cast<std::size_t>(s.c_out), 1.0f);
    shift.assign(static_cast<std::size_t>(s.c_out), 0.0f);
  }
  ep.scale = scale.empty() ? nullptr : scale.data();
  ep.shift = shift.empty() ? nullptr : shift.data();
  Tensor y = empty5(s.n, s.c_out, s.d, s.h, s.w, x1.device());
  OpScope scope("conv3d_forward_fused", x1.device());
  cpu::conv3d_forward_fused(s, x1.data<float>(), x1.dim(1), x2.defined() ? x2.data<float>() : nullptr, w.data<float>(),
                            ptr_or_null(b), ep, y.data<float>());
  return y;
}

#if SSE_WITH_CUDA
// CUDA: one brick kernel (kernels/cuda/wx_brick.cuh) reads both parts and applies the batch norm from
// its parameters; taken where the brick kernel runs this forward anyway (cuda::use_brick_wx).
bool fused_on_gpu(const Conv3dShape& s) { return s.k == 3 && cuda::use_brick_wx(s.c_in, s.c_out); }

Tensor conv3d_eval_gpu(const Conv3dShape& s, const Tensor& x1, const Tensor& x2, const Tensor& w, const Tensor& b,
                       const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const BatchNormParams& p, bool relu) {
  cuda::ConvBnEval bn;
  if (gamma.defined()) {
    bn.gamma = gamma.data<float>();
    bn.beta = beta.data<float>();
    bn.running_mean = running_mean.data<float>();
    bn.running_var = running_var.data<float>();
  }
  bn.eps = p.eps;
  bn.relu = relu;
  Tensor y = empty5(s.n, s.c_out, s.d, s.h, s.w, x1.device());
  OpScope scope("conv3d_forward_eval", x1.device());
  cuda::conv3d_forward_eval(s, x1.data<float>(), x1.dim(1), x2.defined() ? x2.data<float>() : nullptr,
                            w.data<float>(), ptr_or_null(b), bn, y.data<float>(), cuda_stream(x1.device()));
  return y;
}
#endif

}  // namespace

Tensor conv3d_eval(const Tensor& x1, const Tensor& x2, const Tensor& w, const Tensor& b, const Tensor& gamma,
                   const Tensor& beta, const Tensor& running_mean, const Tensor& running_var, const BatchNormParams& p,
                   bool relu) {
  const bool no_grad = !needs_grad({&x1, &x2, &w, &b, &gamma, &beta});
  if (no_grad && x1.device().is_cpu()) {
    const Conv3dShape s = eval_shape(x1, x2, w, b, gamma, beta, running_mean, running_var);
    return conv3d_eval_cpu(s, x1, x2, w, b, gamma, beta, running_mean, running_var, p, relu);
  }
#if SSE_WITH_CUDA
  if (no_grad && x1.device().is_cuda() && w.rank() == 5 && w.dim(2) == 3) {
    const Conv3dShape s = eval_shape(x1, x2, w, b, gamma, beta, running_mean, running_var);
    if (fused_on_gpu(s)) return conv3d_eval_gpu(s, x1, x2, w, b, gamma, beta, running_mean, running_var, p, relu);
  }
#endif
  // The ops in sequence (autograd, and CUDA where the brick kernel does not run).
  Tensor y = conv3d(x2.defined() ? concat_channels(x1, x2) : x1, w, b);
  if (!gamma.defined()) return relu ? ops::relu(y) : y;
  Tensor rm = running_mean, rv = running_var;
  return batch_norm(y, gamma, beta, rm, rv, false, p, relu);
}

Tensor max_pool3d(const Tensor& x) {
  check_activation("max_pool3d", x);
  if (x.dim(2) % 2 || x.dim(3) % 2 || x.dim(4) % 2)
    fail("max_pool3d", "D, H, W must be even for 2×2×2 pooling, got " + x.shape().str());
  const Pool3dShape s{x.dim(0), x.dim(1), x.dim(2), x.dim(3), x.dim(4)};
  Tensor y = Tensor::empty(Shape{s.n, s.c, s.d / 2, s.h / 2, s.w / 2}, x.dtype(), x.device());
  Tensor idx = Tensor::empty(y.shape(), DType::I32, x.device());
  with_float_storage("max_pool3d", x, [&](auto* xp) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
    SSE_DISPATCH(x.device(), maxpool3d_forward, s, xp, y.data<T>(), idx.data<std::int32_t>());
  });
  if (needs_grad({&x})) {
    const Shape xs = x.shape();
    record(y, "max_pool3d", {x}, [s, idx, xs](const Tensor& g) {
      Tensor dx = Tensor::empty(xs, DType::F32, g.device());
      SSE_DISPATCH(g.device(), maxpool3d_backward, s, g.data<float>(), idx.data<std::int32_t>(), dx.data<float>());
      return Grads{dx};
    });
  }
  return y;
}

namespace {

// The offset of sample n's mask (ops.h): 2^40 calls of one generator apart, never reached by a run.
DropoutParams sample_dropout(const DropoutParams& d, index_t n) {
  return DropoutParams{d.p, d.seed, d.offset + (static_cast<std::uint64_t>(n) << 40)};
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen, index_t first_sample) {
  if (x.dtype() != DType::BF16) check_dtype("dropout", x, DType::F32);
  if (p < 0.0f || p >= 1.0f) fail("dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (x.rank() < 1 || first_sample < 0) fail("dropout", "expected (N, ...) and a sample index >= 0, got " + x.str());
  if (!training || p == 0.0f) return x;
  const DropoutParams d{p, gen.seed, gen.next_offset()};
  const index_t n = x.dim(0), per = x.numel() / std::max<index_t>(n, 1);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  with_float_storage("dropout", x, [&](auto* xp) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
    for (index_t i = 0; i < n; ++i)
      SSE_DISPATCH(x.device(), dropout_forward, sample_dropout(d, first_sample + i), xp + i * per,
                   y.data<T>() + i * per, per);
  });
  if (needs_grad({&x})) {
    record(y, "dropout", {x}, [d, n, per, first_sample](const Tensor& g) {
      Tensor dx = Tensor::empty(g.shape(), DType::F32, g.device());
      for (index_t i = 0; i < n; ++i)
        SSE_DISPATCH(g.device(), dropout_backward, sample_dropout(d, first_sample + i), g.data<float>() + i * per,
                     dx.data<float>() + i * per, per);
      return Grads{dx};
    });
  }
  return y;
}

Tensor box(const Tensor& x, index_t d, index_t h, index_t w, index_t oz, index_t oy, index_t ox) {
  check_volume("box", x);
  if (d < 1 || h < 1 || w < 1) fail("box", "empty target box for " + x.str());
  const BoxCopy fwd{x.dim(0) * x.dim(1), x.dim(2), x.dim(3), x.dim(4), d, h, w, oz, oy, ox};
  Tensor y = empty5(x.dim(0), x.dim(1), d, h, w, x.device());
  SSE_DISPATCH(x.device(), box_copy, fwd, x.data<float>(), y.data<float>());
  if (needs_grad({&x})) {
    const Shape xs = x.shape();
    // The adjoint of a box copy is the box copy back with negated offsets.
    const BoxCopy bwd{fwd.planes, d, h, w, xs[2], xs[3], xs[4], -oz, -oy, -ox};
    record(y, "box", {x}, [bwd, xs](const Tensor& g) {
      Tensor dx = Tensor::empty(xs, DType::F32, g.device());
      SSE_DISPATCH(g.device(), box_copy, bwd, g.data<float>(), dx.data<float>());
      return Grads{dx};
    });
  }
  return y;
}

}  // namespace sse::ops
