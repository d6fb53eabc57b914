// net/module.h — a network piece with named parameters, buffers and child modules (dlib/PyTorch style).
//
// Contract:
//  - Names are stable and dotted: a child registered as "down_1" owning a child "conv" whose child
//    "0" has a parameter "weight" yields "down_1.conv.0.weight" (PyTorch's state_dict naming, so
//    weights can be compared with a PyTorch model built with the same names).
//  - Parameters are leaf float tensors with requires_grad; buffers (BatchNorm running stats) are not
//    trained. Both are listed in registration order, which is deterministic.
//  - to(device) moves every tensor in place of the registered members: create optimizers after it.
//  - train()/eval() set the mode recursively (BatchNorm statistics, Dropout).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sse::net {

using sse::NamedTensors;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  // Parameters then buffers: everything a checkpoint stores for the model.
  NamedTensors state() const;
  std::vector<Tensor> parameters() const;
  index_t parameter_count() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }
  void to(Device dev);
  Device device() const { return device_; }
  // Copies values from `tensors` (names must match this module's state exactly, shapes too);
  // the first mismatch throws EngineError naming the tensor and both shapes.
  void load_state(const NamedTensors& tensors);

 protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <typename M> M& register_module(const std::string& name, std::unique_ptr<M> m) {
    M& ref = *m;
    children_.emplace_back(name, std::move(m));
    return ref;
  }

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  // Owned tensors: unique_ptr keeps their address stable as more are registered.
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> params_, buffers_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
  Device device_ = Device::cpu();
};

}  // namespace sse::net
