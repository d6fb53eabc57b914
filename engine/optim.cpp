#include "engine/optim.h"

#include <cmath>

#include "engine/dispatch.h"
#include "kernels/optim.h"

namespace sse {
namespace {

std::vector<Tensor> zeros_like_all(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
  return out;
}

std::vector<std::pair<std::string, Tensor>> named(const char* prefix, const std::vector<Tensor>& ts,
                                                  std::vector<std::pair<std::string, Tensor>> into = {}) {
  for (std::size_t i = 0; i < ts.size(); ++i) into.emplace_back(std::string(prefix) + "." + std::to_string(i), ts[i]);
  return into;
}

}  // namespace

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& o)
    : Optimizer(std::move(params)), o_(o), m_(zeros_like_all(params_)), v_(zeros_like_all(params_)) {
  lr_ = o.lr;
}

void Adam::step() {
  ++t_;
  const AdamStep a{lr_, o_.beta1, o_.beta2, o_.eps, o_.weight_decay, o_.decoupled, t_};
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    SSE_DISPATCH(params_[i].device(), adam_step, a, params_[i].data<float>(), g.data<float>(), m_[i].data<float>(),
                 v_[i].data<float>(), params_[i].numel());
  }
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const { return named("v", v_, named("m", m_)); }

Sgd::Sgd(std::vector<Tensor> params, const SgdOptions& o)
    : Optimizer(std::move(params)), o_(o), buf_(zeros_like_all(params_)) {
  lr_ = o.lr;
}

void Sgd::step() {
  ++t_;
  const SgdStep s{lr_, o_.momentum, o_.weight_decay};
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    SSE_DISPATCH(params_[i].device(), sgd_step, s, params_[i].data<float>(), g.data<float>(), buf_[i].data<float>(),
                 params_[i].numel());
  }
}

std::vector<std::pair<std::string, Tensor>> Sgd::state() const { return named("momentum", buf_); }

float StepDecay::lr(long long step) const {
  return base_ * static_cast<float>(std::pow(static_cast<double>(gamma_), static_cast<double>(step / every_)));
}

float Cosine::lr(long long step) const {
  if (step >= total_) return min_;
  const double c = 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total_)));
  return min_ + (base_ - min_) * static_cast<float>(c);
}

}  // namespace sse
