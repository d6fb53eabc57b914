#include "engine/tensor.h"

#include <sstream>

#include "engine/ops.h"

namespace sse {

// ---------------------------------------------------------------- checks

void fail(const char* op, const std::string& what) { throw EngineError(std::string(op) + ": " + what); }

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail(op, "tensors on different devices: " + a.str() + " and " + b.str());
}
void check_dtype(const char* op, const Tensor& t, DType dt) {
  if (t.dtype() != dt) fail(op, std::string("expected ") + dtype_name(dt) + ", got " + t.str());
}
void check_rank(const char* op, const Tensor& t, int rank) {
  if (t.rank() != rank) fail(op, "expected a rank-" + std::to_string(rank) + " tensor, got " + t.str());
}
void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) fail(op, "shape mismatch: " + a.shape().str() + " vs " + b.shape().str());
  check_same_device(op, a, b);
}

// ---------------------------------------------------------------- factories

Tensor Tensor::empty(const Shape& shape, DType dtype, Device dev) {
  auto impl = std::make_shared<TensorImpl>();
  const std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  impl->storage = std::make_shared<Storage>(dev, bytes);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device dev) {
  Tensor t = empty(shape, dtype, dev);
  zero_bytes(t.raw(), dev, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device dev) {
  Tensor t = empty(shape, DType::F32, dev);
  t.fill_(value);
  return t;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& v, const Shape& shape, Device dev) {
  if (static_cast<index_t>(v.size()) != shape.numel())
    fail("from_vector", std::to_string(v.size()) + " values for shape " + shape.str());
  Tensor t = empty(shape, dtype_of<T>::value, dev);
  copy_bytes(t.raw(), dev, v.data(), Device::cpu(), t.nbytes());
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<std::int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<std::uint8_t>&, const Shape&, Device);

// ---------------------------------------------------------------- access

TensorImpl& Tensor::impl() const {
  if (!impl_) throw EngineError("use of an undefined tensor");
  return *impl_;
}

std::string Tensor::str() const {
  if (!impl_) return "undefined";
  return std::string(dtype_name(dtype())) + shape().str() + "@" + device().str();
}

void* Tensor::raw() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<index_t>(dtype_size(dtype()));
}

template <typename T> T* Tensor::data() const {
  check_dtype("Tensor::data", *this, dtype_of<T>::value);
  return static_cast<T*>(raw());
}
template float* Tensor::data<float>() const;
template std::int32_t* Tensor::data<std::int32_t>() const;
template std::uint8_t* Tensor::data<std::uint8_t>() const;
template bf16_t* Tensor::data<bf16_t>() const;

template <typename T> std::vector<T> Tensor::to_vector() const {
  check_dtype("Tensor::to_vector", *this, dtype_of<T>::value);
  std::vector<T> v(static_cast<std::size_t>(numel()));
  copy_bytes(v.data(), Device::cpu(), raw(), device(), nbytes());
  return v;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<std::int32_t> Tensor::to_vector() const;
template std::vector<std::uint8_t> Tensor::to_vector() const;

float Tensor::item() const {
  if (numel() != 1) fail("item", "expected a one-element tensor, got " + str());
  return to_vector<float>()[0];
}

// ---------------------------------------------------------------- views and copies

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor t = empty(shape(), dtype(), dev);
  copy_bytes(t.raw(), dev, raw(), device(), nbytes());
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  copy_bytes(t.raw(), device(), raw(), device(), nbytes());
  return t;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->offset = this->impl().offset;
  impl->shape = shape();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

Tensor Tensor::reshape(const Shape& s) const {
  if (s.numel() != numel()) fail("reshape", "cannot view " + shape().str() + " as " + s.str());
  Tensor v = detach();
  v.impl().shape = s;
  if (needs_grad({this})) {
    const Shape orig = shape();
    record(v, "reshape", {*this}, [orig](const Tensor& g) { return std::vector<Tensor>{g.reshape(orig)}; });
  }
  return v;
}

Tensor Tensor::slice_batch(index_t begin, index_t end) const {
  if (rank() < 1 || begin < 0 || end > dim(0) || begin >= end)
    fail("slice_batch", "rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + str());
  Tensor v = detach();
  const index_t row = shape().tail(1);
  v.impl().offset += begin * row;
  v.impl().shape[0] = end - begin;
  if (needs_grad({this})) {
    const Shape full = shape();
    record(v, "slice_batch", {*this}, [full, begin, end](const Tensor& g) {
      Tensor gx = zeros(full, DType::F32, g.device());
      gx.slice_batch(begin, end).copy_(g);
      return std::vector<Tensor>{gx};
    });
  }
  return v;
}

void Tensor::copy_(const Tensor& src) {
  if (src.shape() != shape() || src.dtype() != dtype())
    fail("copy_", "from " + src.str() + " into " + str());
  copy_bytes(raw(), device(), src.raw(), src.device(), nbytes());
}

void Tensor::fill_(float v) {
  check_dtype("fill_", *this, DType::F32);
  ops::fill(*this, v);
}

// ---------------------------------------------------------------- autograd accessors

Tensor& Tensor::set_requires_grad(bool r) {
  if (r && dtype() != DType::F32) fail("set_requires_grad", "only float tensors take gradients: " + str());
  impl().requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
void Tensor::zero_grad() { impl().grad.reset(); }
void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) check_same_shape("set_grad", *this, g);
  impl().grad = g.defined() ? g.impl_ptr() : nullptr;
}

}  // namespace sse
