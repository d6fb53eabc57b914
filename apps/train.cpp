// sseunet train --manifest M --out DIR [options] | --resume DIR — trains the U-Net of the study.
//
// Contract:
//  * Data: the manifest's rows are built into cached samples (apps/dataset.h; --cache, default
//    DIR/cache), normalized like predict's input; split "train" rows train, "val" rows validate each
//    epoch, "test" rows are left for `sseunet evaluate`. --samples DIR (repeatable) adds every
//    sample already built in DIR (e.g. by `build --simulate`) to the split its file records; with
//    --samples the manifest is optional (e.g. simulated training samples and real chains in a
//    manifest for validation).
//  * The run (train::Trainer): loss, γ, epochs, width ... from the flags; DIR receives last.ckpt
//    (every epoch and on interruption), best.ckpt (best mean validation F1), metrics.jsonl (one JSON
//    object per epoch), metrics.png and metrics.svg (loss and validation F1 per step, redrawn after
//    each validation; apps/figures.h) and run.json (manifest, cache and configuration, for --resume). A DIR that
//    already holds a run is refused: continue it with --resume DIR.
//  * --resume DIR continues DIR/last.ckpt bit-exactly with the configuration stored in it; only
//    --epochs and --max-steps may change (to extend a run); other training flags are a usage error.
//  * --init CKPT starts a new run from CKPT's model weights (fine-tuning): same width, levels and
//    classes, fresh optimizer and schedule; recorded in run.json. Not with --resume.
//  * Ctrl-C (SIGINT) or SIGTERM (apps/interrupt.h): the current step finishes, last.ckpt is saved,
//    the command says "interrupted ..." and exits 0.
//  * A progress bar shows steps, loss, rate and ETA; each epoch logs its validation scores.
//  * Data parallel: started by mpirun/mpiexec/srun as N ranks (engine/distributed.h), the ranks train
//    one model (train/trainer.h: --batch is the global batch, N ≤ --batch; the same weights as one
//    process). Rank 0 builds missing samples into the cache before the others read them, and alone
//    writes DIR and prints; a CUDA rank takes the GPU of its local rank unless --device cuda:N pins
//    one. A configuration error is found by every rank before MPI starts (each exits 2); after that,
//    a rank that fails prints "sseunet: rank R of N: <problem>" and aborts the whole job (MPI_Abort),
//    so no rank waits forever; checkpoints are written to a temporary name and renamed, so none is
//    ever half-written.
//  * The run itself goes through run_training() (apps/train.h), the entry point `reproduce` shares.
//  * --precision (engine/precision.h) chooses how CUDA convolutions compute; not fp32 on a CPU device
//    (usage error). Part of the run's configuration: kept on --resume.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>

#include "apps/app.h"
#include "apps/dataset.h"
#include "apps/figures.h"
#include "apps/interrupt.h"
#include "apps/output.h"
#include "apps/progress.h"
#include "apps/train.h"
#include "engine/checkpoint.h"
#include "engine/device.h"
#include "engine/distributed.h"
#include "engine/precision.h"
#include "io/error.h"
#include "io/file_util.h"
#include "io/manifest.h"
#include "train/trainer.h"

namespace sse::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TrainOptions {
  std::string manifest, out, resume, cache, init;
  std::vector<std::string> samples;
  TrainFlags flags;  // with --loss and --gamma in flags.cfg.loss
};

// ---- configuration -------------------------------------------------------------------------

train::TrainConfig fresh_config(const TrainOptions& o, const CLI::App& sub, const GlobalOptions& g) {
  const std::string& loss = o.flags.cfg.loss.name;
  if (!losses::has_focal(loss) && sub.count("--gamma")) throw UsageError("--gamma applies to the focal losses fce and fce_dl only");
  return training_config(o.flags, loss, o.flags.cfg.loss.gamma, g.seed);
}

// Configuration and files of a resumed run.
train::TrainConfig resumed_config(const TrainOptions& o, const CLI::App& sub, RunFiles& files) {
  std::vector<std::string> fixed = fixed_config_flags();
  fixed.insert(fixed.end(), {"--loss", "--gamma"});
  for (const std::string& flag : fixed)
    if (sub.count(flag) > 0) throw UsageError(flag + " cannot change on --resume (the run's configuration is in its checkpoint)");
  StoredRun stored = read_stored_run(o.resume);
  files = stored.files;
  if (!o.manifest.empty()) files.manifest = o.manifest;
  if (!o.cache.empty()) files.cache = o.cache;
  if (!o.samples.empty()) files.samples = o.samples;
  train::TrainConfig c = stored.cfg;
  if (sub.count("--epochs")) c.epochs = o.flags.cfg.epochs;
  if (sub.count("--max-steps")) c.max_steps = o.flags.cfg.max_steps;
  check_batch_fits_ranks(c.batch, "the run in " + files.dir + " has a batch of " + std::to_string(c.batch));
  return c;
}

RunFiles fresh_files(const TrainOptions& o) {
  if ((o.manifest.empty() && o.samples.empty()) || o.out.empty())
    throw UsageError("give --manifest M and/or --samples DIR, and --out DIR (or --resume DIR)");
  RunFiles f{o.out, o.manifest, o.cache.empty() ? o.out + "/cache" : o.cache, o.samples,
             o.init.empty() ? "" : fs::absolute(o.init).string()};
  if (io::file_exists(f.checkpoint()))
    throw io::file_error(o.out, "already holds a training run (last.ckpt); continue it with --resume " + o.out +
                                    " or choose another --out");
  return f;
}

void write_run_json(const RunFiles& f, const train::TrainConfig& c, Device dev, const dist::Comm& comm) {
  std::vector<std::string> samples;
  for (const std::string& d : f.samples) samples.push_back(fs::absolute(d).string());
  const json run{{"manifest", f.manifest.empty() ? "" : fs::absolute(f.manifest).string()},
                 {"cache", fs::absolute(f.cache).string()},
                 {"samples", samples},
                 {"init", f.init},
                 {"device", dev.str()},
                 {"ranks", comm.size()},
                 {"transport", comm.transport()},
                 {"config", json::parse(c.to_json())},
                 {"written_by", "sseunet " SSEUNET_VERSION}};
  io::write_file_atomically(f.run_json(), run.dump(2) + "\n");
}

// ---- data and loop ---------------------------------------------------------------------------

struct Data {
  std::vector<train::Sample> train, val;
};

void append(std::vector<train::Sample>& to, std::vector<train::Sample> from) {
  for (train::Sample& s : from) to.push_back(std::move(s));
}

Data load_manifest(const RunFiles& f, const Reporter& reporter) {
  io::BuildOptions b;
  b.cache_dir = f.cache;
  std::vector<io::ManifestRow> rows;  // test rows are `evaluate`'s: not built here
  for (const io::ManifestRow& r : io::read_manifest(f.manifest))
    if (r.split != io::Split::test) rows.push_back(r);
  const std::vector<io::BuildResult> built = build_samples(rows, b, reporter);
  return {load_split(built, io::Split::train), load_split(built, io::Split::val)};
}

Data load_data(const RunFiles& f, const Reporter& reporter) {
  Data d = f.manifest.empty() ? Data{} : load_manifest(f, reporter);
  for (const std::string& dir : f.samples) {
    SplitSamples s = read_sample_dir(dir);
    append(d.train, std::move(s.train));
    append(d.val, std::move(s.val));
  }
  const std::string from = f.manifest.empty() ? "--samples" : f.manifest;
  if (d.train.empty()) throw io::file_error(from, "no usable training samples (split train)");
  if (d.val.empty()) reporter.warn(from + ": no validation samples (split val): best.ckpt will not be written");
  reporter.info("data", std::to_string(d.train.size()) + " training and " + std::to_string(d.val.size()) +
                            " validation samples");
  return d;
}

// Rank 0 builds the samples missing from the cache first; the other ranks then read them from it
// (on a shared file system) instead of all building the same rows at once.
Data load_data_in_turn(const RunFiles& f, const Reporter& reporter, dist::Comm& comm) {
  if (comm.rank() != 0) comm.barrier();
  Data d = load_data(f, reporter);
  if (comm.rank() == 0) comm.barrier();
  return d;
}

// One GPU per rank: a rank on CUDA takes the GPU of its local rank, unless --device cuda:N pins one.
Device rank_device(const GlobalOptions& g, const dist::Comm& comm) {
  const Device d = choose_device(g);
  if (!d.is_cuda() || comm.size() == 1 || g.device.find(':') != std::string::npos) return d;
  return Device::cuda(comm.local_rank() % cuda_device_count());
}

std::string f1_text(const std::optional<double>& f) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.4f", f.value_or(NAN));
  return f ? buf : "NA";
}

void log_epoch(const Reporter& reporter, const train::EpochInfo& e) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "epoch %d (step %lld): train loss %.4f, val loss %.4f", e.epoch, e.step, e.train_loss,
                e.val.loss);
  reporter.info(
      "epoch",
      std::string(buf) + ", val F1 helix " + f1_text(e.val.helix.f1()) + " sheet " + f1_text(e.val.sheet.f1()) +
          (e.best ? " (best)" : ""),
      {{"epoch", e.epoch}, {"step", e.step}, {"train_loss", e.train_loss}, {"val_loss", e.val.loss}, {"best", e.best}});
}

// metrics.png and metrics.svg: the run's curves so far, redrawn after each validation. A picture
// that cannot be written is a warning: the run itself goes on.
void plot_metrics(const RunFiles& f, const Reporter& reporter) {
  const std::string jsonl = f.dir + "/metrics.jsonl";
  try {
    const std::string text = io::read_text_file(jsonl);
    io::write_file_atomically(f.dir + "/metrics.png", fig::training_curves(text, jsonl, plot::Format::png));
    io::write_file_atomically(f.dir + "/metrics.svg", fig::training_curves(text, jsonl, plot::Format::svg));
  } catch (const std::exception& e) {
    reporter.warn(std::string("training curves not drawn: ") + e.what());
  }
}

// `draws`: this process writes the run's files (rank 0 of a data-parallel job, or the only one).
void train_loop(train::Trainer& t, const RunFiles& f, const Reporter& reporter, bool draws) {
  const train::TrainConfig& c = t.config();
  const long long total = c.max_steps > 0 ? c.max_steps : c.epochs * t.steps_per_epoch();
  Progress bar(reporter, "train", "steps", total, t.steps_done());
  const auto on_step = [&](const train::StepInfo& s) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "loss %.4f", s.loss);
    bar.update(s.step, std::string("epoch ") + std::to_string(s.epoch + 1) + "  " + loss,
               {{"loss", s.loss}, {"epoch", s.epoch + 1}});
  };
  InterruptScope signals;  // Ctrl-C: the trainer finishes the step and saves last.ckpt
  t.run(
      f.dir, on_step,
      [&](const train::EpochInfo& e) {
        log_epoch(reporter, e);
        if (draws) plot_metrics(f, reporter);
      },
      interrupt_flag());
  bar.finish();
}

// A rank of several that failed: its peers may wait for it in a collective, so it says why and ends
// the whole job.
[[noreturn]] void abort_ranks(dist::Comm& comm, const std::string& what) {
  std::cerr << "sseunet: rank " << comm.rank() << " of " << comm.size() << ": " << what << std::endl;
  comm.abort(kFailure);
  std::_Exit(kFailure);  // not reached (GCC does not carry [[noreturn]] through a virtual call)
}

int run_train(const TrainOptions& o, const CLI::App& sub, const GlobalOptions& g) {
  apply_global_options(g);
  RunFiles files;
  const bool resume = !o.resume.empty();
  if (resume && !o.out.empty() && o.out != o.resume) throw UsageError("--out and --resume name different folders");
  if (resume && !o.init.empty()) throw UsageError("--init starts a new run; a resumed run has its own weights");
  const train::TrainConfig cfg = resume ? resumed_config(o, sub, files) : fresh_config(o, sub, g);
  if (!resume) files = fresh_files(o);
  check_precision(cfg.precision, choose_device(g),
                  resume ? "the run in " + files.dir + " trains with --precision " + cfg.precision
                         : "--precision " + cfg.precision);
  const std::shared_ptr<dist::Comm> comm = dist::from_environment();
  return run_on_ranks(*comm, [&] {
    const Reporter reporter = rank_reporter(g, *comm);
    const TrainResult r = run_training(files, cfg, resume, g, comm);
    if (r.interrupted) {
      reporter.info("interrupted", "interrupted at step " + std::to_string(r.steps) + ", checkpoint saved to " +
                                       files.checkpoint() + " (continue with: sseunet train --resume " + files.dir + ")");
      return kOk;
    }
    reporter.info("done", "trained " + std::to_string(r.steps) + " steps; checkpoints in " + files.dir);
    return kOk;
  });
}

}  // namespace

// ---- the training entry point (apps/train.h) ---------------------------------------------------

const std::vector<std::string>& fixed_config_flags() {
  static const std::vector<std::string> names{"--dice",  "--width", "--levels",     "--dropout",  "--lr",
                                              "--weight-decay", "--batch", "--patch", "--no-augment", "--schedule",
                                              "--val-every", "--keep-checkpoints", "--precision"};
  return names;
}

train::TrainConfig training_config(const TrainFlags& flags, const std::string& loss, float gamma,
                                   std::uint64_t seed) {
  train::TrainConfig c = flags.cfg;
  check_batch_fits_ranks(c.batch, "--batch " + std::to_string(c.batch));
  c.loss.name = loss;
  c.loss.gamma = losses::has_focal(loss) ? gamma : 0;
  c.loss.per_class = flags.dice == "per-class";
  c.loss.ignore_index = train::kIgnoreLabel;  // patch padding is excluded from the loss
  c.augment = !flags.no_augment;
  c.seed = seed;
  return c;
}

// Every rank takes part of each batch: N ranks need a global batch of N or more. Checked from the
// launcher's environment, so every rank refuses alike before MPI starts.
void check_batch_fits_ranks(int batch, const std::string& what) {
  const int ranks = dist::launcher_size();
  if (batch < ranks)
    throw UsageError(std::to_string(ranks) + " ranks need a global batch of at least " + std::to_string(ranks) + ", but " +
                     what + " (each rank takes part of every batch: give --batch " + std::to_string(ranks) +
                     " or more, or start fewer ranks)");
}

StoredRun read_stored_run(const std::string& dir) {
  StoredRun r;
  r.files.dir = dir;
  const Checkpoint ck = load_checkpoint(r.files.checkpoint());
  if (!ck.meta.contains("train"))
    throw io::file_error(r.files.checkpoint(), "not a training checkpoint (no training configuration)");
  r.cfg = train::TrainConfig::from_json(ck.meta["train"].dump());
  try {
    const json run = json::parse(io::read_text_file(r.files.run_json()));
    r.files.manifest = run.at("manifest").get<std::string>();
    r.files.cache = run.at("cache").get<std::string>();
    r.files.samples = run.value("samples", std::vector<std::string>{});
    r.files.init = run.value("init", std::string());
  } catch (const json::exception& e) {
    throw io::file_error(r.files.run_json(), std::string("unreadable run description (") + e.what() + ")");
  }
  return r;
}

TrainResult run_training(const RunFiles& files, const train::TrainConfig& cfg, bool resume, const GlobalOptions& g,
                         const std::shared_ptr<dist::Comm>& comm) {
  const bool first = comm->rank() == 0;
  const Reporter reporter = rank_reporter(g, *comm);
  std::optional<OutputDir> out;
  if (first) out.emplace(files.dir);  // created and proved writable before the data is built
  const Device dev = rank_device(g, *comm);
  Data data = load_data_in_turn(files, reporter, *comm);
  train::Trainer trainer(cfg, std::move(data.train), std::move(data.val), dev, comm);
  if (resume) trainer.load(files.checkpoint());
  if (!resume && !files.init.empty()) trainer.init_weights(files.init);
  if (first) {
    write_run_json(files, cfg, dev, *comm);
    out->commit();
  }
  const std::string ranks =
      comm->parallel() ? "; " + std::to_string(comm->size()) + " rank(s) (" + comm->transport() + ")" : "";
  reporter.info("start",
                "device " + dev.str() + ranks + "; " +
                    (resume ? "resuming at step " + std::to_string(trainer.steps_done()) : "new run") + " in " +
                    files.dir + "; loss " + cfg.loss.name + ", width " + std::to_string(cfg.model.width) +
                    ", precision " + cfg.precision,
                {{"device", dev.str()},
                 {"ranks", comm->size()},
                 {"step", trainer.steps_done()},
                 {"config", json::parse(cfg.to_json())}});
  train_loop(trainer, files, reporter, first);
  return {trainer.steps_done(), trainer.stopped()};
}

int run_on_ranks(dist::Comm& comm, const std::function<int()>& body) {
  if (!comm.parallel()) return body();
  try {
    return body();
  } catch (const std::bad_alloc&) {
    abort_ranks(comm, "out of memory (try a smaller --patch or --width, or fewer --threads)");
  } catch (const std::exception& e) {
    abort_ranks(comm, e.what());
  }
}

Reporter rank_reporter(const GlobalOptions& g, const dist::Comm& comm) {
  return comm.rank() == 0 ? Reporter(g) : Reporter::muted();
}

void add_training_flags(CLI::App& sub, TrainFlags& f) {
  train::TrainConfig& c = f.cfg;
  sub.add_option("--dice", f.dice, "Dice over helix+sheet pooled, or the mean of per-class coefficients")
      ->capture_default_str()
      ->check(CLI::IsMember({"pooled", "per-class"}));
  sub.add_option("--epochs", c.epochs, "passes over the training rows")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--max-steps", c.max_steps, "stop after this many steps in total (0 = all epochs)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--width", c.model.width, "channels of the first level (the study: 64)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--levels", c.model.levels, "U-Net depth")->capture_default_str()->check(CLI::Range(1, 6));
  sub.add_option("--dropout", c.model.dropout, "dropout probability")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  sub.add_option("--lr", c.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--weight-decay", c.weight_decay, "Adam weight decay")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--batch", c.batch,
                 "samples per step, over all ranks: with --patch one tensor of patches, without it whole chains "
                 "one at a time (e.g. mpirun -np 4 sseunet train ... --batch 8 --patch 64)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--patch", c.patch, "random patch edge (0 = whole chains, as in the study)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--val-every", c.val_every, "validate and checkpoint every N steps (0 = at the end of each epoch)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--keep-checkpoints", c.keep_checkpoints,
               "also keep step_<N>.ckpt at every validation (choose one later, e.g. `sseunet calibrate --model "
               "DIR/step_*.ckpt`)");
  sub.add_flag("--no-augment", f.no_augment, "no random flips and 90-degree rotations");
  sub.add_option("--schedule", c.schedule, "learning-rate schedule: step (x0.95 every 100 steps) or cosine")
      ->capture_default_str()
      ->check(CLI::IsMember({"step", "cosine"}));
  sub.add_option("--precision", c.precision,
                 "CUDA convolutions: fp32, tf32 (tensor cores), bf16 (tensor cores and mixed precision: activations "
                 "stored as bfloat16; weights, gradients and loss stay fp32), cudnn; e.g. --device cuda --precision bf16")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "cudnn"}));
}

Command add_train(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<TrainOptions>();
  losses::LossConfig& loss = o->flags.cfg.loss;
  loss.gamma = 5.0f;  // FCE_DL with γ = 5: the study's best sheet F1
  CLI::App* sub =
      add_subcommand(app, g, "train", "Train the U-Net on a manifest and/or built samples; checkpoints and metrics.jsonl in DIR",
                     "sseunet train --manifest data/train.tsv --out run/ --loss fce_dl --gamma 5 --epochs 50\n"
                     "  sseunet train --samples sim/ --manifest real_val.tsv --out run/ --width 16\n"
                     "  mpirun -np 4 sseunet train --manifest data/train.tsv --out run/ --batch 8 --patch 64   # 4 ranks, one model");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest: map model chain resolution split [ss_file] [name]");
  sub->add_option("--out,-o", o->out, "run folder (checkpoints, metrics.jsonl, run.json)");
  sub->add_option("--resume", o->resume, "continue the run in this folder from its last.ckpt");
  sub->add_option("--cache", o->cache, "sample cache folder (default DIR/cache)");
  sub->add_option("--init", o->init, "start from this checkpoint's weights (fine-tuning; same --width and --levels)");
  sub->add_option("--samples", o->samples,
                  "also use every sample built in this folder (e.g. by `build --simulate`), in the split it records");
  sub->add_option("--loss", loss.name, "ce, fce, dl, ce_dl or fce_dl")
      ->capture_default_str()
      ->check(CLI::IsMember({"ce", "fce", "dl", "ce_dl", "fce_dl"}));
  sub->add_option("--gamma", loss.gamma, "focal exponent of fce / fce_dl (the study's best fce_dl: 5)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_training_flags(*sub, o->flags);
  return {sub, [o, sub, &g] { return run_train(*o, *sub, g); }};
}

}  // namespace sse::app
