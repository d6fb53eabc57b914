// engine/optim.h — optimizers over a list of parameter tensors, and learning-rate schedules.
//
// Parameters are handles to the module's own leaf tensors: step() updates them in place from their
// accumulated grad() (parameters without a gradient are skipped) on their own device.
// state() exposes every tensor and counter a checkpoint needs for an exact resume.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sse {

struct AdamOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;
  bool decoupled = false;  // false: L2 in the gradient (torch.optim.Adam); true: AdamW
};

struct SgdOptions {
  float lr = 1e-2f, momentum = 0.9f, weight_decay = 0.0f;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  void set_lr(float lr) { lr_ = lr; }
  float lr() const { return lr_; }
  long long steps() const { return t_; }
  // Named state tensors ("m.3", "v.3", ...) in a fixed order, plus the step counter.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  void set_steps(long long t) { t_ = t; }
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
  float lr_ = 0.0f;
  long long t_ = 0;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& o);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;

 private:
  AdamOptions o_;
  std::vector<Tensor> m_, v_;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Tensor> params, const SgdOptions& o);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;

 private:
  SgdOptions o_;
  std::vector<Tensor> buf_;
};

// lr as a function of the optimizer step (0-based: the lr used for step t+1).
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual float lr(long long step) const = 0;
};

// base · gamma^floor(step / every): the released DeepSSETracer schedule is (1e-3, 0.95, 100).
class StepDecay : public LrSchedule {
 public:
  StepDecay(float base, float gamma = 0.95f, long long every = 100) : base_(base), gamma_(gamma), every_(every) {}
  float lr(long long step) const override;

 private:
  float base_, gamma_;
  long long every_;
};

// Cosine annealing from base to min_lr over total steps (then min_lr).
class Cosine : public LrSchedule {
 public:
  Cosine(float base, long long total, float min_lr = 0.0f) : base_(base), min_(min_lr), total_(total) {}
  float lr(long long step) const override;

 private:
  float base_, min_;
  long long total_;
};

}  // namespace sse
