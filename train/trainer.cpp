#include "train/trainer.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/ops.h"
#include "engine/precision.h"

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

// Voxels the loss counts (labels other than kIgnoreLabel; invalid ones make the loss throw).
double counted_voxels(const std::vector<Sample>& samples) {
  double n = 0.0;
  for (const Sample& s : samples)
    for (std::uint8_t l : s.labels) n += l != kIgnoreLabel;
  return n;
}

// One process applies the B whole samples' running-statistics updates r ← (1 − m)·r + m·x_b in
// order: r_B = (1 − m)^B·r_0 + Σ_b m(1 − m)^(B−1−b)·x_b. A rank holding samples [first, first + k)
// runs its updates from zero, which gives its terms times (1 − m)^(first + k − B); the ranks' terms
// are scaled back, summed, and added to (1 − m)^B·r_0. The momentum is every BatchNorm3d's default
// (net/layers.h).
class SequentialRunningStats {
 public:
  explicit SequentialRunningStats(NamedTensors buffers) : buffers_(std::move(buffers)) {
    for (auto& [name, t] : buffers_) {
      start_.push_back(t.to_vector<float>());
      t.fill_(0.0f);
    }
  }
  void combine(dist::Comm& comm, int batch, int first, int count) {
    const double keep = 1.0 - static_cast<double>(BatchNormParams{}.momentum);
    const double scale = std::pow(keep, batch - first - count), decay = std::pow(keep, batch);
    std::vector<double> terms;
    for (const auto& [name, t] : buffers_)
      for (float v : t.to_vector<float>()) terms.push_back(v * scale);
    comm.sum(terms.data(), terms.size());
    std::size_t i = 0;
    for (std::size_t b = 0; b < buffers_.size(); ++b) {
      std::vector<float> r(start_[b].size());
      for (std::size_t j = 0; j < r.size(); ++j, ++i) r[j] = static_cast<float>(decay * start_[b][j] + terms[i]);
      Tensor& t = buffers_[b].second;
      t.copy_(Tensor::from_vector(r, t.shape(), t.device()));
    }
  }

 private:
  NamedTensors buffers_;
  std::vector<std::vector<float>> start_;
};

// FNV-1a over the 32-bit words of every tensor: equal states, equal hashes.
std::uint64_t state_hash(const NamedTensors& state) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const auto& [name, t] : state)
    for (float v : t.to_vector<float>()) {
      std::uint32_t w;
      std::memcpy(&w, &v, sizeof w);
      h = (h ^ w) * 1099511628211ULL;
    }
  return h;
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
              {"keep_checkpoints", keep_checkpoints},
              {"precision", precision}}
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
  c.precision = j.value("precision", c.precision);
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

Trainer::Trainer(const TrainConfig& cfg, std::vector<Sample> train, std::vector<Sample> val, Device dev,
                 std::shared_ptr<dist::Comm> comm)
    : cfg_(cfg), train_(std::move(train)), val_(std::move(val)), dev_(dev), comm_(std::move(comm)) {
  if (train_.empty()) throw std::invalid_argument("training needs at least one sample");
  if (cfg.batch < 1) throw std::invalid_argument("batch must be at least 1");
  if (comm_->size() > cfg.batch)
    throw std::invalid_argument(std::to_string(comm_->size()) + " ranks need a batch of at least " +
                                std::to_string(comm_->size()) + " (each rank takes part of every batch), got " +
                                std::to_string(cfg.batch));
  comm_->check_same(static_cast<double>(train_.size()), "the number of training samples");
  comm_->check_same(static_cast<double>(val_.size()), "the number of validation samples");
  for (const Sample& s : train_) s.validate();
  for (const Sample& s : val_) s.validate();
  precision_ = parse_precision(cfg.precision);
  if (dev.is_cpu() && precision_ != Precision::FP32)
    throw std::invalid_argument(std::string("precision ") + cfg.precision +
                                " applies to CUDA devices (the CPU computes in fp32)");
  apply_precision();  // refuses what this build cannot run, before any work
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
  if (comm_->parallel()) {
    comm_->bind_device(dev);
    buckets_ = std::make_unique<GradBuckets>(comm_, model_->parameters());
  }
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

// Every sample of the batch makes its draws (cheap), so that a sample's augmentation and patch do
// not depend on which of them this rank materializes (transforms and crops: the costly part).
std::vector<Sample> Trainer::batch_for(long long step, int first, int count) const {
  const long long per = steps_per_epoch();
  const int epoch = static_cast<int>(step / per);
  const long long pos = step % per;
  const std::vector<std::size_t> order = epoch_order(epoch);
  Generator g(cfg_.seed ^ 0xa9a9ULL);
  g.offset = static_cast<std::uint64_t>(step) << 16;  // the draws of one step never overlap the next's
  std::vector<Sample> batch;
  for (int b = 0; b < cfg_.batch; ++b) {
    const Sample& src = train_[order[static_cast<std::size_t>((pos * cfg_.batch + b) % static_cast<long long>(order.size()))]];
    const Augmentation t = cfg_.augment ? draw_augmentation(g) : Augmentation{};
    std::array<int, 3> origin{};
    if (cfg_.patch > 0) {
      const int p = cfg_.patch;
      const std::array<int, 3> size = t.shape(src.d, src.h, src.w);
      for (std::size_t a = 0; a < 3; ++a)  // anywhere the patch overlaps the sample, centred if the sample is small
        origin[a] = size[a] > p ? static_cast<int>(random_index(g, static_cast<std::uint64_t>(size[a] - p + 1)))
                                : (size[a] - p) / 2;
    }
    if (b < first || b >= first + count) continue;
    Sample s = cfg_.augment ? apply_augmentation(src, t) : src;
    if (cfg_.patch > 0) s = crop(s, cfg_.patch, cfg_.patch, cfg_.patch, origin[0], origin[1], origin[2]);
    batch.push_back(std::move(s));
  }
  return batch;
}

void Trainer::apply_precision() const {
  if (dev_.is_cuda()) set_precision(precision_);
}

double Trainer::step() {
  apply_precision();
  const long long n = comm_->size(), r = comm_->rank();
  const int first = static_cast<int>(cfg_.batch * r / n), end = static_cast<int>(cfg_.batch * (r + 1) / n);
  const std::vector<Sample> part = batch_for(step_, first, end - first);
  opt_->set_lr(sched_->lr(step_));
  opt_->zero_grad();
  double loss = 0.0;
  try {
    loss = cfg_.patch > 0 ? patch_pass(part, first) : sample_passes(part, first);
  } catch (const EngineError& e) {  // e.g. a label no class has: say which samples were in play
    std::string names;
    for (const Sample& s : part) names += (names.empty() ? "" : ", ") + s.name;
    throw EngineError("step " + std::to_string(step_ + 1) + " (samples " + names + "): " + e.what());
  }
  if (buckets_) buckets_->finish();
  opt_->step();
  ++step_;
  return comm_->sum(loss);
}

double Trainer::patch_pass(const std::vector<Sample>& part, int first) {
  const double counted = comm_->sum(counted_voxels(part));
  const auto [x, y] = to_tensors(part, dev_, cfg_.loss.ignore_index);
  std::optional<ops::SyncBatchNorm> sync;
  if (comm_->parallel()) sync.emplace(*comm_);
  model_->set_first_sample(first);
  return backward(loss_->forward(model_->forward(x), y, {counted, static_cast<double>(cfg_.batch)}), true);
}

double Trainer::sample_passes(const std::vector<Sample>& part, int first) {
  Generator& rng = model_->dropout_rng();
  const std::uint64_t offset = rng.offset;
  std::optional<SequentialRunningStats> running;
  if (comm_->parallel()) running.emplace(model_->named_buffers());
  const double batch = cfg_.batch;
  double total = 0.0;
  for (std::size_t i = 0; i < part.size(); ++i) {
    rng.offset = offset;  // each sample draws the step's dropout offsets, its masks told apart by its index
    model_->set_first_sample(first + static_cast<index_t>(i));
    const auto [x, y] = to_tensors({part[i]}, dev_, cfg_.loss.ignore_index);
    const losses::LossShare share{counted_voxels({part[i]}) * batch, batch};  // its mean's 1/B of the step
    total += backward(loss_->forward(model_->forward(x), y, share), i + 1 == part.size());
  }
  if (running) running->combine(*comm_, cfg_.batch, first, static_cast<int>(part.size()));
  return total;
}

double Trainer::backward(const Tensor& loss, bool last) {
  const double value = loss.item();
  const std::unique_ptr<GradReadyHook> hook = buckets_ && last ? buckets_->watch() : nullptr;
  loss.backward();
  return value;
}

void Trainer::check_in_sync() const {
  if (!comm_->parallel()) return;
  const std::uint64_t h = state_hash(model_->state());
  const std::string what = "the model state after step " + std::to_string(step_) +
                           " (the ranks' gradient sums differed; report this with the MPI/NCCL versions)";
  comm_->check_same(static_cast<double>(h >> 32), what);
  comm_->check_same(static_cast<double>(h & 0xffffffffULL), what);
}

Validation Trainer::evaluate(const std::vector<Sample>& samples) {
  apply_precision();
  Validation v;
  model_->eval();
  NoGradGuard no_grad;
  const std::size_t n = samples.size(), ranks = static_cast<std::size_t>(comm_->size()),
                    r = static_cast<std::size_t>(comm_->rank());
  for (std::size_t i = n * r / ranks; i < n * (r + 1) / ranks; ++i) {  // this rank's share
    const Sample& s = samples[i];
    const auto [x, y] = to_tensors({s}, dev_, cfg_.loss.ignore_index);
    Tensor logits = model_->forward(x);
    v.loss += loss_->forward(logits, y).item() / static_cast<double>(samples.size());
    const std::vector<std::uint8_t> pred = argmax(logits.to_vector<float>(), logits.dim(1), logits.shape().tail(2));
    v.helix.add(count_class(pred, s.labels, 1));
    v.sheet.add(count_class(pred, s.labels, 2));
  }
  model_->train();
  if (comm_->parallel()) {
    double t[7] = {v.loss,
                   double(v.helix.tp), double(v.helix.fp), double(v.helix.fn),
                   double(v.sheet.tp), double(v.sheet.fp), double(v.sheet.fn)};
    comm_->sum(t, 7);
    v.loss = t[0];
    v.helix = {std::int64_t(t[1]), std::int64_t(t[2]), std::int64_t(t[3])};
    v.sheet = {std::int64_t(t[4]), std::int64_t(t[5]), std::int64_t(t[6])};
  }
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
  const bool writes = !out_dir.empty() && comm_->rank() == 0;
  while (step_ < total) {
    stopped_ = comm_->any(stop && stop->load());  // a signal may reach the ranks at different steps
    if (stopped_) break;
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
    check_in_sync();
    if (writes) {
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
  if (writes && stopped_) save(out_dir + "/last.ckpt");
}

}  // namespace sse::train
