// Reverse-mode differentiation over the graph of Nodes recorded by ops (contract in tensor.h).
#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"
#include "engine/tensor.h"

namespace sse {
namespace {

thread_local bool t_grad_enabled = true;
thread_local GradReadyHook* t_ready_hook = nullptr;

// Post-order DFS from the root over grad_fn edges: a node's inputs come before it. Iterative, so a
// deep graph (hundreds of ops in a U-Net step) cannot overflow the stack. The order holds owning
// pointers: clearing a processed node's inputs must not free a tensor that is still to be visited.
std::vector<std::shared_ptr<TensorImpl>> topo_order(const std::shared_ptr<TensorImpl>& root) {
  std::vector<std::shared_ptr<TensorImpl>> order;
  std::unordered_set<TensorImpl*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<TensorImpl>, std::size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    const std::shared_ptr<TensorImpl> t = stack.back().first;
    const std::size_t next = stack.back().second;
    if (t->grad_fn && next < t->grad_fn->inputs.size()) {
      ++stack.back().second;
      const std::shared_ptr<TensorImpl>& in = t->grad_fn->inputs[next].impl_ptr();
      if (in && in->requires_grad && seen.insert(in.get()).second) stack.emplace_back(in, 0);
      continue;
    }
    order.push_back(t);
    stack.pop_back();
  }
  return order;
}

// Out of place on purpose: a gradient may alias another's storage (reshape and slice backward
// return views), so adding into it in place could corrupt a sibling gradient.
void accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& g) {
  slot = slot ? ops::add(Tensor(slot), g).impl_ptr() : g.detach().impl_ptr();
}

}  // namespace

bool grad_mode_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }

GradReadyHook::GradReadyHook(std::function<void(const Tensor&)> ready) : ready_(std::move(ready)), prev_(t_ready_hook) {
  t_ready_hook = this;
}
GradReadyHook::~GradReadyHook() { t_ready_hook = prev_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward) {
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
}

void Tensor::backward() const {
  if (numel() != 1 || dtype() != DType::F32) fail("backward", "needs a one-element float tensor, got " + str());
  backward(Tensor::full(shape(), 1.0f, device()));
}

void Tensor::backward(const Tensor& grad_output) const {
  if (!requires_grad()) fail("backward", "tensor does not require grad: " + str());
  check_same_shape("backward", *this, grad_output);
  NoGradGuard no_grad;  // gradients are not themselves differentiated
  std::unordered_map<TensorImpl*, std::shared_ptr<TensorImpl>> grads;
  grads[impl_.get()] = grad_output.detach().impl_ptr();
  std::vector<std::shared_ptr<TensorImpl>> order = topo_order(impl_);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::shared_ptr<TensorImpl> t_owner = std::move(*it);  // released when this step ends
    TensorImpl* t = t_owner.get();
    auto found = grads.find(t);
    if (found == grads.end()) continue;  // no path carried a gradient here
    std::shared_ptr<TensorImpl> g = std::move(found->second);
    grads.erase(found);
    if (!t->grad_fn) {  // a leaf: every path into it has been walked, so its gradient is final
      accumulate(t->grad, Tensor(g));
      if (t_ready_hook) t_ready_hook->notify(Tensor(t_owner));
      continue;
    }
    std::shared_ptr<Node> node = t->grad_fn;
    if (!node->backward) fail("backward", std::string("graph of '") + node->name + "' was already freed");
    std::vector<Tensor> in_grads = node->backward(Tensor(g));
    for (std::size_t i = 0; i < node->inputs.size() && i < in_grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in_grads[i].defined() || !in.defined() || !in.requires_grad()) continue;
      if (in_grads[i].shape() != in.shape())
        fail(node->name, "backward produced " + in_grads[i].shape().str() + " for input " + in.shape().str());
      accumulate(grads[in.impl_ptr().get()], in_grads[i]);
    }
    node->backward = nullptr;  // release saved tensors (no retain_graph)
    node->inputs.clear();
  }
}

}  // namespace sse
