// engine/tensor.h — the n-d array of the engine, with reverse-mode autograd.
//
// Contract:
//  - Rank 0..5, contiguous row-major (NCDHW for volumes), float32 / int32 / uint8 / bfloat16, on one
//    device. A bfloat16 tensor (an activation under --precision bf16) takes float32 gradients.
//  - A Tensor is a cheap handle (shared_ptr); copies alias. Views (reshape, batch slices) share storage.
//  - Autograd: a tensor computed by a differentiable op (engine/ops.h) from inputs that require grad
//    records a Node; backward() on a scalar walks the graph in reverse topological order, accumulates
//    gradients and stores them in leaves (requires_grad) as grad(). Saved tensors are released after
//    the backward pass. NoGradGuard disables recording (inference).
//  - Errors (shape/dtype/device mismatch) throw EngineError naming the op and the shapes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace sse {

class Tensor;
struct Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  index_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;     // accumulated gradient of a leaf (same shape/device)
  std::shared_ptr<Node> grad_fn;        // the op that produced this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories ----
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device dev = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device dev = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device dev = Device::cpu());
  template <typename T>
  static Tensor from_vector(const std::vector<T>& v, const Shape& shape, Device dev = Device::cpu());

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int rank() const { return shape().rank(); }
  index_t dim(int i) const { return shape()[i]; }
  index_t numel() const { return shape().numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cuda() const { return device().is_cuda(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "float32(1, 3, 5, 7, 6)@cpu"

  // ---- data access (checked dtype; device pointer for CUDA tensors) ----
  template <typename T> T* data() const;
  void* raw() const;
  template <typename T> std::vector<T> to_vector() const;  // copies to host
  float item() const;                                     // a one-element float tensor's value

  // ---- device and views ----
  Tensor to(Device dev) const;            // copy (or self when already there); not differentiable
  Tensor clone() const;                   // deep copy on the same device; not differentiable
  Tensor reshape(const Shape& s) const;   // view; differentiable
  Tensor slice_batch(index_t begin, index_t end) const;  // view of rows [begin, end) of axis 0
  Tensor detach() const;                  // same storage, no graph
  void copy_(const Tensor& src);          // in-place copy of values (any devices), same shape/dtype
  void fill_(float v);                    // in place

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool r);
  Tensor grad() const;                    // undefined when none accumulated yet
  void zero_grad();                       // drops the accumulated gradient
  void set_grad(const Tensor& g);
  void backward() const;                  // this must be a one-element float tensor
  void backward(const Tensor& grad_output) const;
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Tensors with stable names (a module's state, an optimizer's moments, a checkpoint's contents).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// ---- autograd graph ----

// One recorded op. `backward` maps the gradient of the op's output to gradients of `inputs`
// (an undefined Tensor where an input needs none). Closures must capture detached tensors only,
// never the op's output itself with its grad_fn (that would be a reference cycle).
struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;
  std::function<std::vector<Tensor>(const Tensor& grad_out)> backward;
};

// True unless a NoGradGuard is alive on this thread.
bool grad_mode_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// While a GradReadyHook lives on this thread, backward() calls `ready(leaf)` for each leaf it reaches,
// right after adding that pass's gradient to the leaf's grad(): from then on the leaf's gradient of
// the pass is final (data-parallel gradient buckets start their transfer from here). Hooks nest; the
// innermost one is called.
class GradReadyHook {
 public:
  explicit GradReadyHook(std::function<void(const Tensor& leaf)> ready);
  ~GradReadyHook();
  GradReadyHook(const GradReadyHook&) = delete;
  GradReadyHook& operator=(const GradReadyHook&) = delete;
  void notify(const Tensor& leaf) const { ready_(leaf); }

 private:
  std::function<void(const Tensor&)> ready_;
  GradReadyHook* prev_;
};

// True when grad mode is on and any input requires grad: the op must record a Node.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
// Attaches a Node to `out` (marks it requires_grad).
void record(Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward);

// ---- argument checks shared by ops (throw EngineError naming op and shapes) ----
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_dtype(const char* op, const Tensor& t, DType dt);
void check_rank(const char* op, const Tensor& t, int rank);
void check_same_shape(const char* op, const Tensor& a, const Tensor& b);
[[noreturn]] void fail(const char* op, const std::string& what);

}  // namespace sse
