// The loss factory, configuration checks and input checks (contract in losses/loss.h).
#include "losses/loss.h"

#include <cmath>
#include <sstream>

#include "losses/internal.h"

namespace sse::losses {

bool has_focal(const std::string& n) { return n == "fce" || n == "fce_dl"; }

namespace {

bool has_first(const std::string& n) { return n != "dl"; }
bool has_dice(const std::string& n) { return n == "dl" || n == "ce_dl" || n == "fce_dl"; }
bool combined(const std::string& n) { return n == "ce_dl" || n == "fce_dl"; }

std::string valid_names() {
  std::string s;
  for (const std::string& n : loss_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void validate(const LossConfig& cfg) {
  bool known = false;
  for (const std::string& n : loss_names()) known = known || n == cfg.name;
  if (!known) throw LossError("make_loss: unknown loss '" + cfg.name + "' (valid: " + valid_names() + ")");
  const std::string who = "make_loss(" + cfg.name + "): ";
  if (!std::isfinite(cfg.gamma) || cfg.gamma < 0.0f)
    throw LossError(who + "gamma must be finite and >= 0, got " + std::to_string(cfg.gamma));
  if (!has_focal(cfg.name) && cfg.gamma != 0.0f)
    throw LossError(who + "gamma = " + std::to_string(cfg.gamma) + " has no effect on this loss; use " +
                    (cfg.name == "ce_dl" ? "fce_dl" : "fce") + " for a focal term, or gamma = 0");
  if (!std::isfinite(cfg.eps) || cfg.eps <= 0.0f)
    throw LossError(who + "eps must be finite and > 0, got " + std::to_string(cfg.eps));
  for (float l : {cfg.lambda_a, cfg.lambda_b})
    if (!std::isfinite(l) || l < 0.0f) throw LossError(who + "lambda_a and lambda_b must be finite and >= 0");
}

}  // namespace

Loss::~Loss() = default;

const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names{"ce", "fce", "dl", "ce_dl", "fce_dl"};
  return names;
}

float Loss::gamma() const { return has_focal(cfg_.name) ? cfg_.gamma : 0.0f; }
float Loss::weight_first() const { return has_first(cfg_.name) ? (combined(cfg_.name) ? cfg_.lambda_a : 1.0f) : 0.0f; }
float Loss::weight_dice() const { return has_dice(cfg_.name) ? (combined(cfg_.name) ? cfg_.lambda_b : 1.0f) : 0.0f; }

std::string Loss::describe() const {
  std::ostringstream os;
  os << cfg_.name << "(";
  if (has_focal(cfg_.name)) os << "gamma=" << cfg_.gamma << ", ";
  if (has_dice(cfg_.name)) os << "dice=" << (cfg_.per_class ? "per_class" : "pooled") << ", eps=" << cfg_.eps << ", ";
  if (combined(cfg_.name)) os << "lambda_a=" << cfg_.lambda_a << ", lambda_b=" << cfg_.lambda_b << ", ";
  os << "ignore=" << cfg_.ignore_index << ", " << (cfg_.fused ? "fused" : "unfused") << ")";
  return os.str();
}

std::unique_ptr<Loss> make_loss(const LossConfig& cfg) {
  validate(cfg);
  return cfg.fused ? detail::make_fused(cfg) : detail::make_unfused(cfg);
}

std::unique_ptr<Loss> make_reference_loss(LossConfig cfg) {
  cfg.fused = false;
  return make_loss(cfg);
}

namespace detail {

FocalDiceShape check_inputs(const char* who, const Tensor& logits, const Tensor& labels, const LossConfig& cfg) {
  const std::string w = std::string(who) + ": ";
  if (!logits.defined() || !labels.defined()) throw LossError(w + "undefined input tensor");
  if (logits.dtype() != DType::F32) throw LossError(w + "logits must be float32, got " + logits.str());
  if (labels.dtype() != DType::I32) throw LossError(w + "labels must be int32, got " + labels.str());
  if (logits.rank() < 2 || labels.rank() != logits.rank() - 1)
    throw LossError(w + "expected logits (N, C, ...) and labels (N, ...), got " + logits.str() + " and " + labels.str());
  bool match = labels.dim(0) == logits.dim(0);
  for (int i = 1; i < labels.rank(); ++i) match = match && labels.dim(i) == logits.dim(i + 1);
  if (!match) throw LossError(w + "labels " + labels.shape().str() + " do not match logits " + logits.shape().str());
  if (logits.device() != labels.device())
    throw LossError(w + "logits and labels on different devices: " + logits.str() + " and " + labels.str());
  if (logits.numel() == 0) throw LossError(w + "empty input " + logits.str());
  const index_t c = logits.dim(1);
  if (c < 2 || c > kMaxSoftmaxChannels)
    throw LossError(w + "2.." + std::to_string(kMaxSoftmaxChannels) + " classes supported, got " + logits.str());
  if (cfg.ignore_index >= 0 && cfg.ignore_index < c)
    throw LossError(w + "ignore_index " + std::to_string(cfg.ignore_index) + " is one of the " + std::to_string(c) +
                    " class labels");
  return FocalDiceShape{logits.dim(0), static_cast<int>(c), logits.shape().tail(2)};
}

FocalDiceParams params_of(const Loss& loss, const LossShare& share) {
  const LossConfig& cfg = loss.config();
  FocalDiceParams p;
  p.gamma = loss.gamma();
  p.eps = cfg.eps;
  p.lambda_a = loss.weight_first();
  p.lambda_b = loss.weight_dice();
  p.per_class = cfg.per_class;
  p.ignore_index = cfg.ignore_index;
  p.counted_total = share.counted;
  p.images_total = share.images;
  return p;
}

LabelScan scan_labels(const Tensor& labels, int c, int ignore_index) {
  const std::vector<std::int32_t> v = labels.to_vector<std::int32_t>();
  LabelScan r;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] >= 0 && v[i] < c) {
      r.counted += 1.0;
    } else if (v[i] != ignore_index) {
      if (r.bad++ == 0) {
        r.first_bad = static_cast<index_t>(i);
        r.first_bad_value = v[i];
      }
    }
  }
  return r;
}

void throw_bad_labels(const char* who, const Tensor& labels, int c, int ignore_index) {
  const LabelScan s = scan_labels(labels, c, ignore_index);
  std::ostringstream os;
  os << who << ": " << s.bad << " label(s) outside 0.." << c - 1 << " (ignore_index " << ignore_index << ")";
  if (s.first_bad >= 0) {
    // first offender as (n, z, y, x) — the coordinates of labels (N, ...)
    index_t rest = s.first_bad;
    std::vector<index_t> at(static_cast<std::size_t>(labels.rank()));
    for (int i = labels.rank() - 1; i >= 0; --i) {
      at[static_cast<std::size_t>(i)] = rest % labels.dim(i);
      rest /= labels.dim(i);
    }
    os << "; first: value " << s.first_bad_value << " at (";
    for (std::size_t i = 0; i < at.size(); ++i) os << (i ? ", " : "") << at[i];
    os << ") of labels " << labels.shape().str();
  }
  throw LossError(os.str());
}

}  // namespace detail
}  // namespace sse::losses
