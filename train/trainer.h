// train/trainer.h — the training loop of the study: U-Net + loss + Adam with step decay, validation
// each epoch, best/last checkpoints, JSON-lines metrics, and exact resume.
//
// Determinism: the data order of epoch e is a Philox permutation of (seed, e); the augmentation and
// patch origins of step t come from (seed, t); dropout draws from the model's generator, whose offset
// is checkpointed. Hence training N steps, saving, and resuming M more reproduces an N+M run bit for
// bit on the same device.
//
// Batches: batch = 1 feeds whole samples (the paper); batch > 1 needs `patch` > 0 and feeds random
// patch³ crops (zero-padded, padding ignored by the loss).
// Files in out_dir: last.ckpt (every epoch and on stop), best.ckpt (best mean of helix and sheet
// validation F1), metrics.jsonl (one JSON object per epoch) — or, with val_every > 0, all of these
// every val_every steps instead of at epoch ends (large sets, short fine-tuning runs). With
// keep_checkpoints, every validation also leaves step_<N>.ckpt, so that a checkpoint can be chosen
// afterwards by another criterion (e.g. `sseunet calibrate` over several, on calibrated F1).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/optim.h"
#include "losses/loss.h"
#include "net/unet3d.h"
#include "train/metrics.h"
#include "train/sample.h"

namespace sse::train {

struct TrainConfig {
  net::UNetConfig model;
  losses::LossConfig loss;
  int epochs = 10;
  long long max_steps = 0;  // stop after this many steps in total (0: run all epochs)
  int batch = 1;
  int patch = 0;
  bool augment = true;
  std::uint64_t seed = 0;
  float lr = 1e-3f, weight_decay = 0.01f;
  bool decoupled_weight_decay = false;
  std::string schedule = "step";  // "step" (× decay_gamma every decay_every steps) or "cosine"
  float decay_gamma = 0.95f;
  long long decay_every = 100;
  long long val_every = 0;  // validate, checkpoint and log every this many steps (0: each epoch)
  bool keep_checkpoints = false;  // also keep step_<N>.ckpt of every validation (for choosing later)
  std::string to_json() const;
  static TrainConfig from_json(const std::string& json);
};

struct Validation {
  double loss = 0.0;
  ClassCounts helix, sheet;
  // Mean of helix and sheet F1 (a class absent everywhere counts as 1): what "best" maximizes.
  double score() const;
};

struct StepInfo {
  long long step;        // steps done so far (1-based after the step)
  long long total_steps;
  int epoch;
  double loss;
  double seconds;        // wall time of this step
};

struct EpochInfo {
  int epoch;
  long long step;
  double train_loss;     // mean over the epoch's steps
  Validation val;
  double seconds;
  bool best;
};

class Trainer {
 public:
  Trainer(const TrainConfig& cfg, std::vector<Sample> train, std::vector<Sample> val, Device dev);
  // Continues from a checkpoint written by save() (model, optimizer, step, RNG state).
  void load(const std::string& path);
  void save(const std::string& path) const;
  // Starts from the model weights of any checkpoint with this run's width, levels and classes
  // (fine-tuning); the optimizer, step count and schedule stay fresh. Throws CheckpointError.
  void init_weights(const std::string& path);

  // Trains until the epochs (or max_steps) are done or *stop becomes true; writes checkpoints and
  // metrics to out_dir when it is not empty. Callbacks may be empty.
  void run(const std::string& out_dir, const std::function<void(const StepInfo&)>& on_step = {},
           const std::function<void(const EpochInfo&)>& on_epoch = {}, const std::atomic<bool>* stop = nullptr);

  // One optimizer step on the batch of global step `step_` (exposed for tests); returns the loss.
  double step();
  Validation validate() { return evaluate(val_); }
  // Loss and voxel counts of the model in eval mode on any samples (e.g. a held-out test set).
  Validation evaluate(const std::vector<Sample>& samples);

  long long steps_done() const { return step_; }
  long long steps_per_epoch() const;
  net::UNet3d& model() { return *model_; }
  const TrainConfig& config() const { return cfg_; }

 private:
  std::vector<Sample> batch_for(long long step) const;
  std::vector<std::size_t> epoch_order(int epoch) const;

  TrainConfig cfg_;
  std::vector<Sample> train_, val_;
  Device dev_;
  std::unique_ptr<net::UNet3d> model_;
  std::unique_ptr<Optimizer> opt_;
  std::unique_ptr<LrSchedule> sched_;
  std::unique_ptr<losses::Loss> loss_;
  long long step_ = 0;
  double best_score_ = -1.0;
};

// A batch of samples as device tensors: volume (N, 1, D, H, W) float, labels (N, D, H, W) int32
// (kIgnoreLabel mapped to the loss's ignore index). All samples must share one grid.
std::pair<Tensor, Tensor> to_tensors(const std::vector<Sample>& batch, Device dev, int ignore_index);

}  // namespace sse::train
