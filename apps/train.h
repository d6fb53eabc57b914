// apps/train.h — the one training entry point: `sseunet train` and `sseunet reproduce` (a run per
// configuration of the study) both train through run_training(), so data loading, device, exact
// resume, checkpoints, curves, Ctrl-C and data-parallel training over MPI ranks behave the same in
// both.
//
// Contract:
//  * RunFiles: a run's folder and inputs, as DIR/run.json records them (manifest, cache, --samples
//    folders, --init checkpoint).
//  * TrainFlags / add_training_flags(): the flags that set a run's configuration apart from its loss
//    (--dice, --epochs, --max-steps, --width, --levels, --dropout, --lr, --weight-decay, --batch,
//    --patch, --val-every, --keep-checkpoints, --no-augment, --schedule, --precision), with train's defaults (the
//    study's); fixed_config_flags() lists those a resumed run cannot change (all but --epochs and
//    --max-steps, which only set its length). training_config() makes the configuration of a new
//    run with a given loss and γ (γ kept for fce and fce_dl only) and seed; a --batch smaller than
//    the number of ranks the launcher started is a UsageError (check_batch_fits_ranks(), found by
//    every rank alike before MPI starts). A --precision is checked by check_precision (apps/app.h),
//    also before MPI starts.
//  * read_stored_run(dir): the configuration in DIR/last.ckpt and the inputs in DIR/run.json (what
//    a resumed run continues with); IoError naming the file when either is not a run's.
//  * run_training(): trains a new run in run.dir (resume false; the caller has checked that the
//    folder holds none) or continues run.dir/last.ckpt bit-exactly (resume true), on every rank of
//    `comm` (collective: every rank calls it with the same arguments). Rank 0 creates the folder,
//    builds the missing samples into the cache before the other ranks read them (manifest rows of
//    splits train and val, --samples folders), writes run.json, and alone writes and prints: a
//    progress bar and a log line per validation; DIR receives last.ckpt, best.ckpt, metrics.jsonl and
//    metrics.png/svg (train/trainer.h, apps/figures.h). A CUDA rank takes the GPU of its local rank
//    unless --device cuda:N pins one. Ctrl-C or SIGTERM (apps/interrupt.h) finishes the step (the
//    ranks agree on it), saves last.ckpt and returns with `interrupted` set; the caller says how to
//    continue.
//  * The ranks: the caller makes `comm` once per process with dist::from_environment() (MPI starts
//    and ends with it) and runs its work inside run_on_ranks(), which, when the process is one of
//    several ranks, turns a failure into "sseunet: rank R of N: <problem>" and MPI_Abort of the whole
//    job (its peers may be waiting in a collective it will never join). rank_reporter() prints on
//    rank 0 only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/app.h"
#include "apps/progress.h"
#include "engine/device.h"
#include "engine/distributed.h"
#include "train/trainer.h"

namespace sse::app {

struct RunFiles {
  std::string dir, manifest, cache;
  std::vector<std::string> samples;
  std::string init;  // --init checkpoint ("" = random initialization)
  std::string checkpoint() const { return dir + "/last.ckpt"; }
  std::string run_json() const { return dir + "/run.json"; }
};

struct TrainFlags {
  train::TrainConfig cfg;  // loss and seed are set by training_config()
  std::string dice = "pooled";
  bool no_augment = false;
};
void add_training_flags(CLI::App& sub, TrainFlags& flags);
const std::vector<std::string>& fixed_config_flags();
train::TrainConfig training_config(const TrainFlags& flags, const std::string& loss, float gamma,
                                   std::uint64_t seed);
void check_batch_fits_ranks(int batch, const std::string& what);

struct StoredRun {
  RunFiles files;
  train::TrainConfig cfg;
};
StoredRun read_stored_run(const std::string& dir);

struct TrainResult {
  long long steps = 0;  // steps done in total, including earlier sessions
  bool interrupted = false;
};
TrainResult run_training(const RunFiles& run, const train::TrainConfig& cfg, bool resume, const GlobalOptions& g,
                         const std::shared_ptr<dist::Comm>& comm);

int run_on_ranks(dist::Comm& comm, const std::function<int()>& body);
Reporter rank_reporter(const GlobalOptions& g, const dist::Comm& comm);

}  // namespace sse::app
