// Channel-axis ops (contract in engine/ops.h).
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/channels.h"

namespace sse::ops {
namespace {

using Grads = std::vector<Tensor>;

void check_ncs(const char* op, const Tensor& x) {
  check_dtype(op, x, DType::F32);
  if (x.rank() < 2) fail(op, "expected (N, C, ...), got " + x.str());
}

Shape with_channels(const Shape& s, index_t c) {
  Shape r = s;
  r[1] = c;
  return r;
}

// Channels [c_off, c_off + c_part) of `whole`, copied out (the backward of concat, and narrow).
Tensor gather(const Tensor& whole, index_t c_off, index_t c_part) {
  const ChannelCopy cc{whole.dim(0), c_part, whole.dim(1), c_off, whole.shape().tail(2)};
  Tensor part = Tensor::empty(with_channels(whole.shape(), c_part), DType::F32, whole.device());
  SSE_DISPATCH(whole.device(), gather_channels, cc, whole.data<float>(), part.data<float>());
  return part;
}

// Channels of `part` (n, c_part, S) into channels [c_off, c_off + c_part) of y: float → float,
// float → bf16 (rounded) or bf16 → bf16.
void copy_part(const Tensor& part, index_t c_off, Tensor& y) {
  const ChannelCopy cc{part.dim(0), part.dim(1), y.dim(1), c_off, part.shape().tail(2)};
  if (y.dtype() == DType::F32) {
    SSE_DISPATCH(y.device(), copy_channels, cc, part.data<float>(), y.data<float>());
  } else {
    with_float_storage("concat_channels", part, [&](auto* src) {
      SSE_DISPATCH(y.device(), copy_channels, cc, src, y.data<bf16_t>());
    });
  }
}

// The adjoint of gather: `part` placed at channel c_off of a zero tensor shaped like `whole_shape`.
Tensor scatter(const Tensor& part, const Shape& whole_shape, index_t c_off) {
  Tensor whole = Tensor::zeros(whole_shape, DType::F32, part.device());
  copy_part(part, c_off, whole);
  return whole;
}

}  // namespace

Tensor concat_channels(const Tensor& a, const Tensor& b) {
  for (const Tensor* t : {&a, &b})
    if (t->dtype() != DType::BF16) check_dtype("concat_channels", *t, DType::F32);
  if (a.rank() < 2 || b.rank() < 2) fail("concat_channels", "expected (N, C, ...), got " + a.str() + ", " + b.str());
  check_same_device("concat_channels", a, b);
  if (a.rank() != b.rank() || a.dim(0) != b.dim(0) || a.shape().tail(2) != b.shape().tail(2))
    fail("concat_channels", "incompatible shapes " + a.shape().str() + " and " + b.shape().str());
  for (int i = 2; i < a.rank(); ++i)
    if (a.dim(i) != b.dim(i)) fail("concat_channels", "spatial mismatch " + a.shape().str() + " vs " + b.shape().str());
  const index_t ca = a.dim(1), cb = b.dim(1);
  const bool bf16 = a.dtype() == DType::BF16 || b.dtype() == DType::BF16;
  Tensor y = Tensor::empty(with_channels(a.shape(), ca + cb), bf16 ? DType::BF16 : DType::F32, a.device());
  copy_part(a, 0, y);
  copy_part(b, ca, y);
  if (needs_grad({&a, &b})) {
    record(y, "concat_channels", {a, b}, [ca, cb](const Tensor& g) { return Grads{gather(g, 0, ca), gather(g, ca, cb)}; });
  }
  return y;
}

Tensor narrow_channels(const Tensor& x, index_t c0, index_t c1) {
  check_ncs("narrow_channels", x);
  if (c0 < 0 || c1 > x.dim(1) || c0 >= c1)
    fail("narrow_channels", "channels [" + std::to_string(c0) + ", " + std::to_string(c1) + ") of " + x.str());
  Tensor y = gather(x, c0, c1 - c0);
  if (needs_grad({&x})) {
    const Shape s = x.shape();
    record(y, "narrow_channels", {x}, [s, c0](const Tensor& g) { return Grads{scatter(g, s, c0)}; });
  }
  return y;
}

Tensor sum_channels(const Tensor& x) {
  check_ncs("sum_channels", x);
  Tensor acc = narrow_channels(x, 0, 1);
  for (index_t c = 1; c < x.dim(1); ++c) acc = add(acc, narrow_channels(x, c, c + 1));
  return acc;
}

Tensor softmax_channels(const Tensor& x) {
  check_ncs("softmax_channels", x);
  const index_t n = x.dim(0), c = x.dim(1), s = x.shape().tail(2);
  if (c > kMaxSoftmaxChannels) fail("softmax_channels", "at most 16 channels, got " + x.str());
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  SSE_DISPATCH(x.device(), softmax_channels, n, c, s, x.data<float>(), y.data<float>());
  if (needs_grad({&x})) {
    Tensor yd = y.detach();
    record(y, "softmax_channels", {x}, [yd, n, c, s](const Tensor& g) {
      Tensor gx = Tensor::empty(yd.shape(), DType::F32, yd.device());
      SSE_DISPATCH(yd.device(), softmax_channels_backward, n, c, s, yd.data<float>(), g.data<float>(), gx.data<float>());
      return Grads{gx};
    });
  }
  return y;
}

Tensor one_hot(const Tensor& labels, int c, int ignore) {
  check_dtype("one_hot", labels, DType::I32);
  if (labels.rank() < 1 || c < 1) fail("one_hot", "expected labels (N, ...) and c ≥ 1, got " + labels.str());
  Shape s;
  s.push_back(labels.dim(0));
  s.push_back(c);
  for (int i = 1; i < labels.rank(); ++i) s.push_back(labels.dim(i));
  Tensor y = Tensor::empty(s, DType::F32, labels.device());
  SSE_DISPATCH(labels.device(), one_hot, labels.dim(0), c, labels.shape().tail(1), labels.data<std::int32_t>(), ignore,
               y.data<float>());
  return y;
}

}  // namespace sse::ops
