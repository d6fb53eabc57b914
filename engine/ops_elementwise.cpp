// Elementwise ops and reductions (contract in engine/ops.h).
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace sse::ops {
namespace {

Tensor like(const Tensor& x) { return Tensor::empty(x.shape(), DType::F32, x.device()); }

Tensor unary_raw(Unary op, const Tensor& x, float alpha = 0.0f) {
  check_dtype("unary", x, DType::F32);
  Tensor y = like(x);
  SSE_DISPATCH(x.device(), unary, op, x.data<float>(), y.data<float>(), x.numel(), alpha);
  return y;
}

Tensor binary_raw(Binary op, const Tensor& a, const Tensor& b, const char* name) {
  check_same_shape(name, a, b);
  check_dtype(name, a, DType::F32);
  check_dtype(name, b, DType::F32);
  Tensor y = like(a);
  SSE_DISPATCH(a.device(), binary, op, a.data<float>(), b.data<float>(), y.data<float>(), a.numel());
  return y;
}

using Grads = std::vector<Tensor>;

}  // namespace

void fill(Tensor& t, float v) { SSE_DISPATCH(t.device(), fill, t.data<float>(), t.numel(), v); }

void axpby_(Tensor& y, float alpha, const Tensor& x, float beta) {
  check_same_shape("axpby_", y, x);
  SSE_DISPATCH(y.device(), axpby, alpha, x.data<float>(), beta, y.data<float>(), y.numel());
}

void add_(Tensor& acc, const Tensor& x) { axpby_(acc, 1.0f, x, 1.0f); }

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(Binary::Add, a, b, "add");
  if (needs_grad({&a, &b})) record(y, "add", {a, b}, [](const Tensor& g) { return Grads{g, g}; });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(Binary::Sub, a, b, "sub");
  if (needs_grad({&a, &b})) record(y, "sub", {a, b}, [](const Tensor& g) { return Grads{g, unary_raw(Unary::Neg, g)}; });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(Binary::Mul, a, b, "mul");
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(y, "mul", {a, b}, [ad, bd, ga, gb](const Tensor& g) {
      return Grads{ga ? binary_raw(Binary::Mul, g, bd, "mul") : Tensor(), gb ? binary_raw(Binary::Mul, g, ad, "mul") : Tensor()};
    });
  }
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(Binary::Div, a, b, "div");
  if (needs_grad({&a, &b})) {
    Tensor bd = b.detach(), yd = y.detach();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(y, "div", {a, b}, [bd, yd, ga, gb](const Tensor& g) {
      Tensor g_over_b = binary_raw(Binary::Div, g, bd, "div");  // d(a/b)/da = 1/b; d/db = −y/b
      return Grads{ga ? g_over_b : Tensor(),
                   gb ? unary_raw(Unary::Neg, binary_raw(Binary::Mul, g_over_b, yd, "div")) : Tensor()};
    });
  }
  return y;
}

Tensor neg(const Tensor& x) { return scale(x, -1.0f); }

Tensor exp(const Tensor& x) {
  Tensor y = unary_raw(Unary::Exp, x);
  if (needs_grad({&x})) {
    Tensor yd = y.detach();
    record(y, "exp", {x}, [yd](const Tensor& g) { return Grads{binary_raw(Binary::Mul, g, yd, "exp")}; });
  }
  return y;
}

Tensor log(const Tensor& x) {
  Tensor y = unary_raw(Unary::Log, x);
  if (needs_grad({&x})) {
    Tensor xd = x.detach();
    record(y, "log", {x}, [xd](const Tensor& g) { return Grads{binary_raw(Binary::Div, g, xd, "log")}; });
  }
  return y;
}

Tensor scale(const Tensor& x, float alpha) {
  Tensor y = unary_raw(Unary::Scale, x, alpha);
  if (needs_grad({&x})) record(y, "scale", {x}, [alpha](const Tensor& g) { return Grads{unary_raw(Unary::Scale, g, alpha)}; });
  return y;
}

Tensor add_scalar(const Tensor& x, float alpha) {
  Tensor y = unary_raw(Unary::AddScalar, x, alpha);
  if (needs_grad({&x})) record(y, "add_scalar", {x}, [](const Tensor& g) { return Grads{g}; });
  return y;
}

Tensor pow(const Tensor& x, float alpha) {
  Tensor y = unary_raw(Unary::Pow, x, alpha);
  if (needs_grad({&x})) {
    Tensor xd = x.detach();
    record(y, "pow", {x}, [xd, alpha](const Tensor& g) {  // α·x^(α−1)·g
      Tensor d = unary_raw(Unary::Scale, unary_raw(Unary::Pow, xd, alpha - 1.0f), alpha);
      return Grads{binary_raw(Binary::Mul, g, d, "pow")};
    });
  }
  return y;
}

Tensor to_dtype(const Tensor& x, DType dt) {
  if (x.dtype() == dt) return x;
  const bool ok = (x.dtype() == DType::F32 && dt == DType::BF16) || (x.dtype() == DType::BF16 && dt == DType::F32);
  if (!ok) fail("to_dtype", std::string("converts float32 ↔ bfloat16 only, not ") + x.str() + " to " + dtype_name(dt));
  Tensor y = Tensor::empty(x.shape(), dt, x.device());
  if (dt == DType::BF16) {
    SSE_DISPATCH(x.device(), cast, x.data<float>(), y.data<bf16_t>(), x.numel());
  } else {
    SSE_DISPATCH(x.device(), cast, x.data<bf16_t>(), y.data<float>(), x.numel());
  }
  // Gradients are float32 on both sides of the conversion: it passes them through.
  if (needs_grad({&x})) record(y, "to_dtype", {x}, [](const Tensor& g) { return Grads{g}; });
  return y;
}

Tensor relu(const Tensor& x) {
  Tensor y = unary_raw(Unary::Relu, x);
  if (needs_grad({&x})) {
    Tensor yd = y.detach();
    record(y, "relu", {x}, [yd](const Tensor& g) { return Grads{binary_raw(Binary::ReluGrad, g, yd, "relu")}; });
  }
  return y;
}

// ---------------------------------------------------------------- reductions

Tensor sum(const Tensor& x) {
  check_dtype("sum", x, DType::F32);
  Tensor y = Tensor::empty(Shape{}, DType::F32, x.device());
  SSE_DISPATCH(x.device(), sum_all, x.data<float>(), x.numel(), y.data<float>());
  if (needs_grad({&x})) {
    const Shape s = x.shape();
    record(y, "sum", {x}, [s](const Tensor& g) {
      Tensor gx = Tensor::empty(s, DType::F32, g.device());
      SSE_DISPATCH(g.device(), broadcast_rows, g.data<float>(), 1, s.numel(), 1.0f, gx.data<float>());
      return Grads{gx};
    });
  }
  return y;
}

Tensor mean(const Tensor& x) { return scale(sum(x), 1.0f / static_cast<float>(x.numel())); }

Tensor sum_spatial(const Tensor& x) {
  check_dtype("sum_spatial", x, DType::F32);
  if (x.rank() < 2) fail("sum_spatial", "expected (N, C, ...), got " + x.str());
  const index_t rows = x.dim(0) * x.dim(1), cols = x.shape().tail(2);
  Tensor y = Tensor::empty(Shape{x.dim(0), x.dim(1)}, DType::F32, x.device());
  SSE_DISPATCH(x.device(), sum_rows, x.data<float>(), rows, cols, y.data<float>());
  if (needs_grad({&x})) {
    const Shape s = x.shape();
    record(y, "sum_spatial", {x}, [s, rows, cols](const Tensor& g) {
      Tensor gx = Tensor::empty(s, DType::F32, g.device());
      SSE_DISPATCH(g.device(), broadcast_rows, g.data<float>(), rows, cols, 1.0f, gx.data<float>());
      return Grads{gx};
    });
  }
  return y;
}

}  // namespace sse::ops
