#include "net/module.h"

#include <unordered_map>

namespace sse::net {

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, std::make_unique<Tensor>(std::move(t)));
  return *params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, std::make_unique<Tensor>(std::move(t)));
  return *buffers_.back().second;
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, t] : params ? params_ : buffers_) out.emplace_back(prefix + name, *t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::state() const {
  NamedTensors out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(std::move(b));
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

index_t Module::parameter_count() const {
  index_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device dev) {
  for (auto& [name, t] : params_) *t = t->to(dev).detach().set_requires_grad(true);
  for (auto& [name, t] : buffers_) *t = t->to(dev);
  for (auto& [name, child] : children_) child->to(dev);
  device_ = dev;
}

void Module::load_state(const NamedTensors& tensors) {
  const NamedTensors mine = state();
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : tensors) given[name] = &t;
  for (const auto& [name, t] : mine) {
    auto it = given.find(name);
    if (it == given.end()) throw EngineError("load_state: tensor '" + name + "' is missing");
    if (it->second->shape() != t.shape())
      throw EngineError("load_state: tensor '" + name + "' has shape " + it->second->shape().str() +
                        ", the model expects " + t.shape().str());
  }
  if (tensors.size() != mine.size())
    for (const auto& [name, t] : tensors) {
      bool found = false;
      for (const auto& m : mine) found = found || m.first == name;
      if (!found) throw EngineError("load_state: unexpected tensor '" + name + "'");
    }
  for (const auto& [name, t] : mine) {
    Tensor dst = t;
    dst.copy_(*given[name]);
  }
}

}  // namespace sse::net
