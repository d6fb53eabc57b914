// train/trainer.h — the training loop of the study: U-Net + loss + Adam with step decay, validation
// each epoch, best/last checkpoints, JSON-lines metrics, and exact resume.
//
// Determinism: the data order of epoch e is a Philox permutation of (seed, e); the augmentation and
// patch origins of step t come from (seed, t); dropout draws from the model's generator, whose offset
// is checkpointed. Hence training N steps, saving, and resuming M more reproduces an N+M run bit for
// bit on the same device.
//
// Batches: without a patch, each of the `batch` samples of a step (1 in the paper) goes through the
// network alone, whole (the batch's gradient is the mean of theirs; batch-norm statistics are each
// sample's own); with `patch` > 0 the step's random patch³ crops (zero-padded, padding ignored by
// the loss) go through as one tensor.
//
// Data parallel (a dist::Comm of N ranks, engine/distributed.h): `batch` is the global batch of a
// step, the same at any N (batch ≥ N); rank r takes its samples [r·B/N, (r+1)·B/N). A sample's
// augmentation, patch and dropout mask depend on (seed, step, its index in the batch) only, not on
// the rank that holds it; the ranks' losses are their shares of the batch's (losses::LossShare) and
// their gradients are summed over the ranks in buckets while backward runs (GradBuckets), so every
// rank takes the same optimizer step. Batch norm: with patches the statistics are those of the whole
// global batch (ops::SyncBatchNorm); whole samples keep their own, and the running statistics are
// combined into what one process's sequential updates give. So N ranks train the weights one
// process trains, up to floating-point reduction order, and a checkpoint resumes on any number of
// ranks up to the batch. Validation is split over the ranks and its sums reduced; the stop request
// (run's `stop`) is agreed by all ranks at each step; only rank 0 writes files; the ranks' weights
// are compared at every checkpoint.
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
#include "engine/distributed.h"
#include "engine/grad_buckets.h"
#include "engine/optim.h"
#include "engine/precision.h"
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
  // How CUDA convolutions compute (engine/precision.h: fp32, tf32, bf16, cudnn); a CPU run needs fp32.
  // Applied at every step and evaluation (the setting is process-wide).
  std::string precision = "fp32";
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
  // Every rank of `comm` constructs its Trainer with the same configuration and samples (checked).
  Trainer(const TrainConfig& cfg, std::vector<Sample> train, std::vector<Sample> val, Device dev,
          std::shared_ptr<dist::Comm> comm = dist::single_process());
  // Continues from a checkpoint written by save() (model, optimizer, step, RNG state).
  void load(const std::string& path);
  void save(const std::string& path) const;
  // Starts from the model weights of any checkpoint with this run's width, levels and classes
  // (fine-tuning); the optimizer, step count and schedule stay fresh. Throws CheckpointError.
  void init_weights(const std::string& path);

  // Trains until the epochs (or max_steps) are done or *stop becomes true (on any rank); rank 0 writes
  // checkpoints and metrics to out_dir when it is not empty. Callbacks may be empty.
  void run(const std::string& out_dir, const std::function<void(const StepInfo&)>& on_step = {},
           const std::function<void(const EpochInfo&)>& on_epoch = {}, const std::atomic<bool>* stop = nullptr);

  // One optimizer step on this rank's part of the batch of global step `step_` (exposed for tests);
  // returns the loss of the whole batch.
  double step();
  Validation validate() { return evaluate(val_); }
  // Loss and voxel counts of the model in eval mode on any samples (e.g. a held-out test set).
  Validation evaluate(const std::vector<Sample>& samples);

  long long steps_done() const { return step_; }
  // True when run() ended on a stop request.
  bool stopped() const { return stopped_; }
  dist::Comm& comm() const { return *comm_; }
  // The gradient buckets of a data-parallel run (dist::Comm::parallel(); null otherwise).
  const GradBuckets* buckets() const { return buckets_.get(); }
  long long steps_per_epoch() const;
  net::UNet3d& model() { return *model_; }
  const TrainConfig& config() const { return cfg_; }

 private:
  // Samples [first, first + count) of the batch of `step`.
  std::vector<Sample> batch_for(long long step, int first, int count) const;
  std::vector<std::size_t> epoch_order(int epoch) const;
  // Forward and backward of this rank's part, as one tensor (patches) or sample by sample; the
  // sum of the parts' losses.
  double patch_pass(const std::vector<Sample>& part, int first);
  double sample_passes(const std::vector<Sample>& part, int first);
  double backward(const Tensor& loss, bool last);
  // Throws when the ranks' model states differ.
  void check_in_sync() const;
  void apply_precision() const;

  TrainConfig cfg_;
  std::vector<Sample> train_, val_;
  Device dev_;
  Precision precision_ = Precision::FP32;
  std::unique_ptr<net::UNet3d> model_;
  std::unique_ptr<Optimizer> opt_;
  std::unique_ptr<LrSchedule> sched_;
  std::unique_ptr<losses::Loss> loss_;
  std::shared_ptr<dist::Comm> comm_;
  std::unique_ptr<GradBuckets> buckets_;
  long long step_ = 0;
  double best_score_ = -1.0;
  bool stopped_ = false;
};

// A batch of samples as device tensors: volume (N, 1, D, H, W) float, labels (N, D, H, W) int32
// (kIgnoreLabel mapped to the loss's ignore index). All samples must share one grid.
std::pair<Tensor, Tensor> to_tensors(const std::vector<Sample>& batch, Device dev, int ignore_index);

}  // namespace sse::train
