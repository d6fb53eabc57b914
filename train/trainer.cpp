#include "train/trainer.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/ops.h"

namespace sse::train {
namespace {

using nlohmann::json;

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

json loss_json(const losses::LossConfig& l) {
  return {{"name", l.name},         {"gamma", l.gamma},       {"per_class", l.per_class}, {"eps", l.eps},
          {"lambda_a", l.lambda_a}, {"lambda_b", l.lambda_b}, {"ignore_index", l.ignore_index}};
}

losses::LossConfig loss_from(const json& j) {
  losses::LossConfig l;
  l.name = j.value("name", l.name);
  l.gamma = j.value("gamma", l.gamma);
  l.per_class = j.value("per_class", l.per_class);
  l.eps = j.value("eps", l.eps);
  l.lambda_a = j.value("lambda_a", l.lambda_a);
  l.lambda_b = j.value("lambda_b", l.lambda_b);
  l.ignore_index = j.value("ignore_index", l.ignore_index);
  return l;
}

// Labels of argmax over classes of logits (N, C, S) for image n.
std::vector<std::uint8_t> argmax(const std::vector<float>& logits, index_t c, index_t s) {
  std::vector<std::uint8_t> pred(static_cast<std::size_t>(s));
  for (index_t v = 0; v < s; ++v) {
    index_t best = 0;
    for (index_t k = 1; k < c; ++k)
      if (logits[static_cast<std::size_t>(k * s + v)] > logits[static_cast<std::size_t>(best * s + v)]) best = k;
    pred[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(best);
  }
  return pred;
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
}

}  // namespace

std::string TrainConfig::to_json() const {
  return json{{"model", json::parse(model.to_json())},
              {"loss", loss_json(loss)},
              {"epochs", epochs},
              {"max_steps", max_steps},
              {"batch", batch},
              {"patch", patch},
              {"augment", augment},
              {"seed", seed},
              {"lr", lr},
              {"weight_decay", weight_decay},
              {"decoupled_weight_decay", decoupled_weight_decay},
              {"schedule", schedule},
              {"decay_gamma", decay_gamma},
              {"decay_every", decay_every},
              {"val_every", val_every},
              {"keep_checkpoints", keep_checkpoints}}
      .dump();
}

TrainConfig TrainConfig::from_json(const std::string& text) {
  const json j = json::parse(text);
  TrainConfig c;
  if (j.contains("model")) c.model = net::UNetConfig::from_json(j["model"].dump());
  if (j.contains("loss")) c.loss = loss_from(j["loss"]);
  c.epochs = j.value("epochs", c.epochs);
  c.max_steps = j.value("max_steps", c.max_steps);
  c.batch = j.value("batch", c.batch);
  c.patch = j.value("patch", c.patch);
  c.augment = j.value("augment", c.augment);
  c.seed = j.value("seed", c.seed);
  c.lr = j.value("lr", c.lr);
  c.weight_decay = j.value("weight_decay", c.weight_decay);
  c.decoupled_weight_decay = j.value("decoupled_weight_decay", c.decoupled_weight_decay);
  c.schedule = j.value("schedule", c.schedule);
  c.decay_gamma = j.value("decay_gamma", c.decay_gamma);
  c.decay_every = j.value("decay_every", c.decay_every);
  c.val_every = j.value("val_every", c.val_every);
  c.keep_checkpoints = j.value("keep_checkpoints", c.keep_checkpoints);
  return c;
}

double Validation::score() const {
  return 0.5 * (helix.f1().value_or(1.0) + sheet.f1().value_or(1.0));
}

std::pair<Tensor, Tensor> to_tensors(const std::vector<Sample>& batch, Device dev, int ignore_index) {
  const Sample& first = batch.at(0);
  std::vector<float> vol;
  std::vector<std::int32_t> lab;
  for (const Sample& s : batch) {
    s.validate();
    if (s.d != first.d || s.h != first.h || s.w != first.w)
      throw std::invalid_argument("batch: samples '" + first.name + "' and '" + s.name + "' differ in size");
    vol.insert(vol.end(), s.volume.begin(), s.volume.end());
    for (std::uint8_t l : s.labels) lab.push_back(l == kIgnoreLabel ? ignore_index : l);
  }
  const auto n = static_cast<index_t>(batch.size());
  return {Tensor::from_vector(vol, Shape{n, 1, first.d, first.h, first.w}, dev),
          Tensor::from_vector(lab, Shape{n, first.d, first.h, first.w}, dev)};
}

Trainer::Trainer(const TrainConfig& cfg, std::vector<Sample> train, std::vector<Sample> val, Device dev)
    : cfg_(cfg), train_(std::move(train)), val_(std::move(val)), dev_(dev) {
  if (train_.empty()) throw std::invalid_argument("training needs at least one sample");
  if (cfg.batch < 1 || (cfg.batch > 1 && cfg.patch < 1))
    throw std::invalid_argument("batch > 1 needs a patch size (whole samples differ in size)");
  for (const Sample& s : train_) s.validate();
  for (const Sample& s : val_) s.validate();
  model_ = std::make_unique<net::UNet3d>(cfg.model, cfg.seed);
  model_->to(dev);
  model_->train();
  AdamOptions o;
  o.lr = cfg.lr;
  o.weight_decay = cfg.weight_decay;
  o.decoupled = cfg.decoupled_weight_decay;
  opt_ = std::make_unique<Adam>(model_->parameters(), o);
  const long long total = cfg.max_steps > 0 ? cfg.max_steps : cfg.epochs * steps_per_epoch();
  if (cfg.schedule == "cosine") {
    sched_ = std::make_unique<Cosine>(cfg.lr, total);
  } else if (cfg.schedule == "step") {
    sched_ = std::make_unique<StepDecay>(cfg.lr, cfg.decay_gamma, cfg.decay_every);
  } else {
    throw std::invalid_argument("unknown lr schedule '" + cfg.schedule + "' (step or cosine)");
  }
  loss_ = losses::make_loss(cfg.loss);
}

long long Trainer::steps_per_epoch() const {
  const auto n = static_cast<long long>(train_.size());
  return (n + cfg_.batch - 1) / cfg_.batch;
}

std::vector<std::size_t> Trainer::epoch_order(int epoch) const {
  std::vector<std::size_t> order(train_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Generator g(cfg_.seed ^ 0x0dde7ULL);
  g.offset = static_cast<std::uint64_t>(epoch) << 32;
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[random_index(g, i)]);
  return order;
}

std::vector<Sample> Trainer::batch_for(long long step) const {
  const long long per = steps_per_epoch();
  const int epoch = static_cast<int>(step / per);
  const long long pos = step % per;
  const std::vector<std::size_t> order = epoch_order(epoch);
  Generator g(cfg_.seed ^ 0xa9a9ULL);
  g.offset = static_cast<std::uint64_t>(step) << 16;  // the draws of one step never overlap the next's
  std::vector<Sample> batch;
  for (int b = 0; b < cfg_.batch; ++b) {
    const Sample& src = train_[order[static_cast<std::size_t>((pos * cfg_.batch + b) % static_cast<long long>(order.size()))]];
    Sample s = cfg_.augment ? augment(src, g) : src;
    if (cfg_.patch > 0) {
      const int p = cfg_.patch;
      auto origin = [&](int size) {  // anywhere the patch overlaps the sample, centred if the sample is small
        return size > p ? static_cast<int>(random_index(g, static_cast<std::uint64_t>(size - p + 1))) : (size - p) / 2;
      };
      const int z0 = origin(s.d), y0 = origin(s.h), x0 = origin(s.w);
      s = crop(s, p, p, p, z0, y0, x0);
    }
    batch.push_back(std::move(s));
  }
  return batch;
}

double Trainer::step() {
  const auto [x, y] = to_tensors(batch_for(step_), dev_, cfg_.loss.ignore_index);
  opt_->set_lr(sched_->lr(step_));
  opt_->zero_grad();
  Tensor loss = loss_->forward(model_->forward(x), y);
  const double value = loss.item();
  loss.backward();
  opt_->step();
  ++step_;
  return value;
}

Validation Trainer::evaluate(const std::vector<Sample>& samples) {
  Validation v;
  model_->eval();
  NoGradGuard no_grad;
  for (const Sample& s : samples) {
    const auto [x, y] = to_tensors({s}, dev_, cfg_.loss.ignore_index);
    Tensor logits = model_->forward(x);
    v.loss += loss_->forward(logits, y).item() / static_cast<double>(samples.size());
    const std::vector<std::uint8_t> pred = argmax(logits.to_vector<float>(), logits.dim(1), logits.shape().tail(2));
    v.helix.add(count_class(pred, s.labels, 1));
    v.sheet.add(count_class(pred, s.labels, 2));
  }
  model_->train();
  return v;
}

void Trainer::save(const std::string& path) const {
  Checkpoint ck;
  ck.meta["kind"] = "sseunet-train";
  ck.meta["model"] = json::parse(cfg_.model.to_json());
  ck.meta["train"] = json::parse(cfg_.to_json());
  ck.meta["step"] = step_;
  ck.meta["epoch"] = step_ / steps_per_epoch();
  ck.meta["best_score"] = best_score_;
  ck.meta["rng"] = {{"dropout_seed", model_->dropout_rng().seed}, {"dropout_offset", model_->dropout_rng().offset}};
  ck.meta["optimizer"] = {{"type", "adam"}, {"t", opt_->steps()}};
  for (const auto& [name, t] : model_->state()) ck.tensors.emplace_back("model." + name, t);
  for (const auto& [name, t] : opt_->state()) ck.tensors.emplace_back("optim." + name, t);
  save_checkpoint(path, ck);
}

namespace {
NamedTensors model_tensors(const Checkpoint& ck) {
  NamedTensors out;
  for (const auto& [name, t] : ck.tensors)
    if (name.rfind("model.", 0) == 0) out.emplace_back(name.substr(6), t);
  return out;
}
}  // namespace

void Trainer::init_weights(const std::string& path) {
  const Checkpoint ck = load_checkpoint(path);
  if (!ck.meta.contains("model")) throw CheckpointError(path + ": no model configuration in the checkpoint");
  net::UNetConfig mc = net::UNetConfig::from_json(ck.meta.at("model").dump());
  mc.dropout = cfg_.model.dropout;  // not a weight: the new run's choice
  mc.init_std = cfg_.model.init_std;
  if (!(mc == cfg_.model))
    throw CheckpointError(path + ": checkpoint model " + mc.to_json() + " differs from " + cfg_.model.to_json());
  model_->load_state(model_tensors(ck));
}

void Trainer::load(const std::string& path) {
  const Checkpoint ck = load_checkpoint(path);
  const net::UNetConfig mc = net::UNetConfig::from_json(ck.meta.at("model").dump());
  if (!(mc == cfg_.model))
    throw CheckpointError(path + ": checkpoint model " + mc.to_json() + " differs from " + cfg_.model.to_json());
  NamedTensors optim_state;
  for (const auto& [name, t] : ck.tensors)
    if (name.rfind("optim.", 0) == 0) optim_state.emplace_back(name.substr(6), t);
  model_->load_state(model_tensors(ck));
  const NamedTensors mine = opt_->state();
  if (optim_state.size() != mine.size()) throw CheckpointError(path + ": optimizer state does not match the model");
  for (std::size_t i = 0; i < mine.size(); ++i) {
    Tensor dst = mine[i].second;
    dst.copy_(optim_state[i].second);
  }
  opt_->set_steps(ck.meta.at("optimizer").at("t").get<long long>());
  step_ = ck.meta.at("step").get<long long>();
  best_score_ = ck.meta.value("best_score", -1.0);
  model_->dropout_rng().offset = ck.meta.at("rng").at("dropout_offset").get<std::uint64_t>();
}

void Trainer::run(const std::string& out_dir, const std::function<void(const StepInfo&)>& on_step,
                  const std::function<void(const EpochInfo&)>& on_epoch, const std::atomic<bool>* stop) {
  const long long per = steps_per_epoch();
  const long long total = cfg_.max_steps > 0 ? cfg_.max_steps : cfg_.epochs * per;
  const long long period = cfg_.val_every > 0 ? cfg_.val_every : per;
  double epoch_loss = 0.0, epoch_t0 = now_s();
  long long epoch_steps = 0;
  while (step_ < total) {
    if (stop && stop->load()) break;
    const double t0 = now_s();
    const double loss = step();
    epoch_loss += loss;
    ++epoch_steps;
    const int epoch = static_cast<int>((step_ - 1) / per);
    if (on_step) on_step({step_, total, epoch, loss, now_s() - t0});
    if (step_ % period != 0 && step_ != total) continue;
    EpochInfo info{epoch + 1, step_, epoch_loss / static_cast<double>(epoch_steps), validate(), now_s() - epoch_t0, false};
    info.best = val_.empty() ? false : info.val.score() > best_score_;
    if (info.best) best_score_ = info.val.score();
    if (!out_dir.empty()) {
      save(out_dir + "/last.ckpt");
      if (info.best) save(out_dir + "/best.ckpt");
      if (cfg_.keep_checkpoints) save(out_dir + "/step_" + std::to_string(step_) + ".ckpt");
      const json line{{"epoch", info.epoch},
                      {"step", info.step},
                      {"train_loss", info.train_loss},
                      {"val_loss", info.val.loss},
                      {"helix_f1", info.val.helix.f1() ? json(*info.val.helix.f1()) : json()},
                      {"sheet_f1", info.val.sheet.f1() ? json(*info.val.sheet.f1()) : json()},
                      {"helix_precision", info.val.helix.precision()},
                      {"helix_recall", info.val.helix.recall()},
                      {"sheet_precision", info.val.sheet.precision()},
                      {"sheet_recall", info.val.sheet.recall()},
                      {"lr", opt_->lr()},
                      {"seconds", info.seconds},
                      {"best", info.best}};
      append_line(out_dir + "/metrics.jsonl", line.dump());
    }
    if (on_epoch) on_epoch(info);
    epoch_loss = 0.0;
    epoch_steps = 0;
    epoch_t0 = now_s();
  }
  if (!out_dir.empty() && stop && stop->load()) save(out_dir + "/last.ckpt");
}

}  // namespace sse::train
