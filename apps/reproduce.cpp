// sseunet reproduce — the study of Mu et al. (IEEE BIBM 2022) as one resumable command: train every
// configuration of its grid, score each on the validation and test rows, and write Table I, Table II,
// Figure 5 and a paired test per pair of losses (apps/study_report.h).
//
// Contract:
//  * The grid: --losses (default all five, in the study's order) × --gammas (default 1, 2, 5, 8; for
//    fce and fce_dl), named ce, fce_g2, fce_dl_g5 ...; --list prints the names, one per line.
//  * Each configuration trains in OUT/<name>/ through the train command's entry point
//    (apps/train.h run_training: same data loading, checkpoints, curves, exact resume) with train's
//    defaults — the study's: whole chains, batch 1, Adam lr 1e-3 with weight decay 0.01, lr × 0.95
//    every 100 steps, dropout 0.5, pooled Dice, width 64 — or the training flags given, and the same
//    --seed for every configuration (same initial weights and data order, so the losses are compared
//    on equal terms). The sample cache is shared: OUT/cache unless --cache.
//  * Scoring: OUT/<name>/best.ckpt (last.ckpt when there are no validation samples) on the manifest's
//    val rows and test rows, as `sseunet evaluate --model CKPT --split val|test --json FILE` scores
//    them (apps/evaluate.h); the two files are OUT/<name>/val.json and test.json, renamed into place
//    together. The manifest needs both splits: γ is chosen on val, the tables report test.
//  * Resuming: a configuration with test.json is finished and skipped; one with last.ckpt only
//    continues bit-exactly from it (as `train --resume`); either is first checked to hold a run of
//    this very configuration on this manifest and these --samples (else IoError naming the setting
//    that differs: use another --out, or the options the study was started with).
//  * --only NAME: that configuration alone (one task of a SLURM array), no report. --report: no
//    training; the report from the grid's finished configurations (the others are named in a
//    warning). Without either: every configuration in turn, then the report.
//  * The report: OUT/table1.*, table2.*, wilcoxon.*, report.html and OUT/figure5/*, staged and renamed
//    into place when all are written; Table I and the paired tests are printed on stdout.
//  * Under mpirun/mpiexec/srun (engine/distributed.h) every configuration trains data-parallel over
//    the ranks, as `train` does (run_training: rank 0 builds the data first and alone writes the run
//    folder); rank 0 alone scores each configuration and writes the report, while the others wait
//    for it before the next configuration. A rank that fails ends the job (apps/train.h
//    run_on_ranks). --report needs no ranks: under a launcher, rank 0 alone writes it.
//  * Ctrl-C or SIGTERM (apps/interrupt.h): a configuration in training finishes its step and saves
//    last.ckpt, one being scored writes nothing; the command says where it stopped and exits 130.
//    Running the same command again continues there, finished configurations untouched.
//  * --quick: the same pipeline on data the source tree ships: examples/quick.tsv (real chain maps
//    and maps simulated by other tools for validation and test) plus training samples simulated from
//    kQuickModels (tests/data/io/dssp) by `build --simulate`'s code into OUT/sim; width 4 and
//    kQuickSteps steps unless --width / --epochs / --max-steps say otherwise; OUT defaults to
//    reproduce_quick. Minutes on two cores: a check of the pipeline, not a trained model.
#include <filesystem>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "apps/app.h"
#include "apps/evaluate.h"
#include "apps/interrupt.h"
#include "apps/model_io.h"
#include "apps/output.h"
#include "apps/study_report.h"
#include "apps/train.h"
#include "io/error.h"
#include "io/file_util.h"
#include "io/simulate_set.h"
#include "losses/loss.h"

namespace sse::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReproduceOptions {
  std::string manifest, out, cache, only;
  std::vector<std::string> samples;
  std::vector<std::string> losses = losses::loss_names();
  std::vector<float> gammas{1, 2, 5, 8};
  TrainFlags flags;
  bool report = false, quick = false, list = false;
};

// What every configuration's run shares.
struct Study {
  std::string out, manifest, cache;
  std::vector<std::string> samples;
  TrainFlags flags;
  std::uint64_t seed = 0;
  std::vector<io::ManifestRow> val_rows, test_rows;
  const GlobalOptions* g = nullptr;  // device, threads, printing: as every command
  Device dev;                        // for scoring
  std::shared_ptr<dist::Comm> comm;  // the ranks that train each configuration together
};

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string config_dir(const std::string& out, const StudyConfig& c) { return out + "/" + c.name; }
bool finished(const std::string& dir) { return io::file_exists(dir + "/test.json"); }

// ---- --quick -----------------------------------------------------------------------------------

constexpr long long kQuickSteps = 60;
// Single-domain models of tests/data/io/dssp (mixed α, β and α/β folds) simulated for training.
const char* const kQuickModels[] = {"1BXY_A", "1CTF_A", "1FB0_A", "1GN0_A", "1OAP_A", "1PTF_A",
                                    "1TEN_A", "1U2H_A", "2EVB_A", "2O37_A", "3BR8_A", "3MQI_A"};

std::string source_file(const std::string& rel) {
  const std::string path = std::string(SSEUNET_SOURCE_DIR) + "/" + rel;
  if (!io::file_exists(path))
    throw io::file_error(path, "missing: --quick needs the source tree this binary was built from (examples/, tests/data/)");
  return path;
}

void apply_quick(ReproduceOptions& o, const CLI::App& sub) {
  if (!o.manifest.empty() || !o.samples.empty()) throw UsageError("--quick brings its own data: no --manifest or --samples");
  o.manifest = source_file("examples/quick.tsv");
  if (o.out.empty()) o.out = "reproduce_quick";
  if (!sub.count("--width")) o.flags.cfg.model.width = 4;
  if (!sub.count("--epochs") && !sub.count("--max-steps")) o.flags.cfg.max_steps = kQuickSteps;
  o.samples = {o.out + "/sim"};
}

// The quick study's simulated training samples (rebuilt only when missing or changed).
void build_quick_samples(const std::string& dir, std::uint64_t seed, const Reporter& reporter) {
  io::SimulatedSetOptions opt;
  opt.build.cache_dir = dir;
  opt.seed = seed;
  std::vector<io::SimulatedSource> sources;
  for (const char* m : kQuickModels) sources.push_back({source_file("tests/data/io/dssp/" + std::string(m) + ".pdb.gz"), ""});
  int built = 0;
  for (const io::SimulatedBuildResult& r : io::build_simulated(sources, opt)) {
    if (r.status == io::BuildStatus::failed) throw io::IoError(r.message);
    built += r.status == io::BuildStatus::built;
  }
  reporter.info("data", "quick study: " + std::to_string(sources.size()) + " simulated training samples in " + dir +
                            " (" + std::to_string(built) + " built now)");
}

// ---- one configuration ---------------------------------------------------------------------------

std::string canonical(const std::string& path) {
  return path.empty() ? "" : fs::weakly_canonical(fs::absolute(path)).string();
}

// The first setting where `have` (a stored configuration) differs from `want`, "" when none.
std::string first_difference(const json& have, const json& want, const std::string& prefix = "") {
  for (auto it = want.begin(); it != want.end(); ++it) {
    const std::string key = prefix + it.key();
    if (!have.contains(it.key())) return key + " (absent there)";
    const json& h = have[it.key()];
    if (h.is_object() && it->is_object()) {
      const std::string d = first_difference(h, *it, key + ".");
      if (!d.empty()) return d;
    } else if (h != *it) {
      return key + " (" + h.dump() + " there, " + it->dump() + " here)";
    }
  }
  return "";
}

// Refuses a folder that holds a run of another configuration or on other data.
void check_same_run(const RunFiles& run, const train::TrainConfig& cfg) {
  const StoredRun stored = read_stored_run(run.dir);
  std::string diff = first_difference(json::parse(stored.cfg.to_json()), json::parse(cfg.to_json()));
  if (diff.empty() && canonical(stored.files.manifest) != canonical(run.manifest))
    diff = "manifest (" + stored.files.manifest + " there)";
  std::vector<std::string> have, want;
  for (const std::string& s : stored.files.samples) have.push_back(canonical(s));
  for (const std::string& s : run.samples) want.push_back(canonical(s));
  if (diff.empty() && have != want) diff = "--samples (" + join(stored.files.samples) + " there)";
  if (!diff.empty())
    throw io::file_error(run.dir, "holds a run with another " + diff +
                                      "; use another --out, or the options this study was started with");
}

// The configuration's checkpoint scored on the validation and test rows: val.json and test.json.
void score_config(const Study& st, const std::string& dir, const Reporter& reporter) {
  const std::string best = dir + "/best.ckpt";
  LoadedModel model = load_model(io::file_exists(best) ? best : dir + "/last.ckpt", st.dev);
  const Decision rule = resolve_decision(DecisionFlags{}, model);
  OutputDir out(dir);
  for (const auto& [name, rows] : {std::pair{"val.json", &st.val_rows}, std::pair{"test.json", &st.test_rows}}) {
    const std::vector<RowScores> scores = evaluate_rows(*rows, EvalSettings{}, &model, rule, st.dev, reporter);
    io::write_file_atomically(out.stage(name), scores_json(scores).dump(2) + "\n");
  }
  out.commit();
}

// Trains (or continues) and scores one configuration; false when Ctrl-C stopped its training.
bool run_config(const Study& st, const StudyConfig& c, const Reporter& reporter) {
  const RunFiles run{config_dir(st.out, c), st.manifest, st.cache, st.samples, ""};
  const train::TrainConfig cfg = training_config(st.flags, c.loss, c.gamma, st.seed);
  const bool started = io::file_exists(run.checkpoint());
  if (started) check_same_run(run, cfg);
  if (finished(run.dir)) {
    reporter.info("skip", c.name + ": finished (" + run.dir + "/test.json), skipped", {{"config", c.name}});
    return true;
  }
  if (run_training(run, cfg, started, *st.g, st.comm).interrupted) return false;
  if (st.comm->rank() != 0) return true;  // rank 0 alone scores and writes
  score_config(st, run.dir, reporter);
  reporter.info("scored", c.name + ": scored on " + std::to_string(st.val_rows.size()) + " validation and " +
                              std::to_string(st.test_rows.size()) + " test rows",
                {{"config", c.name}});
  return true;
}

// ---- the report ----------------------------------------------------------------------------------

json read_json(const std::string& path) {
  try {
    return json::parse(io::read_text_file(path));
  } catch (const json::exception& e) {
    throw io::file_error(path, std::string("unreadable JSON (") + e.what() + ")");
  }
}

std::string describe_training(const train::TrainConfig& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "width %d, %d levels, dropout %g; %s; batch %d, %s; Adam lr %g, weight decay %g, %s schedule; %s Dice; "
                "augmentation %s; seed %llu",
                c.model.width, c.model.levels, c.model.dropout,
                c.max_steps > 0 ? (std::to_string(c.max_steps) + " steps").c_str()
                                : (std::to_string(c.epochs) + " epochs").c_str(),
                c.batch, c.patch > 0 ? ("patches of " + std::to_string(c.patch)).c_str() : "whole chains", c.lr,
                c.weight_decay, c.schedule.c_str(), c.loss.per_class ? "per-class" : "pooled", c.augment ? "on" : "off",
                static_cast<unsigned long long>(c.seed));
  return buf;
}

// Every configuration of a report must differ from the others by its loss alone (runs started with
// --only and other options would otherwise be compared as if they were the study's).
json training_settings(const std::string& out, const std::vector<ConfigScores>& scores) {
  json first;
  for (const ConfigScores& s : scores) {
    const std::string path = config_dir(out, s.config) + "/run.json";
    json run = read_json(path);
    run["config"]["loss"].erase("name");
    run["config"]["loss"].erase("gamma");
    for (const char* how : {"device", "ranks", "transport"}) run.erase(how);  // N ranks train one process's weights
    if (first.is_null()) {
      first = run;
      continue;
    }
    const std::string diff = first_difference(run, first);
    if (!diff.empty())
      throw io::file_error(path, "trained with another " + diff + " than " + scores.front().config.name +
                                     ": the configurations of a study differ by their loss only");
  }
  return first;
}

std::vector<std::pair<std::string, std::string>> report_settings(const std::string& out,
                                                                 const std::vector<ConfigScores>& scores) {
  const json run = training_settings(out, scores);
  const json device = read_json(config_dir(out, scores.front().config) + "/run.json").value("device", "");
  std::vector<std::string> names;
  for (const ConfigScores& s : scores) names.push_back(s.config.name);
  return {{"manifest", run.value("manifest", "")},
          {"samples", join(run.value("samples", std::vector<std::string>{}))},
          {"training", describe_training(train::TrainConfig::from_json(run.at("config").dump()))},
          {"device", device.get<std::string>()},
          {"configurations", join(names)},
          {"scored with", "the best validation checkpoint of each run, voxel-level F1 (sseunet evaluate)"},
          {"written by", "sseunet " SSEUNET_VERSION}};
}

int write_report(const std::string& out_dir, const std::vector<StudyConfig>& grid, const Reporter& reporter) {
  std::vector<ConfigScores> scores;
  std::vector<std::string> missing;
  for (const StudyConfig& c : grid) {
    const std::string dir = config_dir(out_dir, c);
    if (!finished(dir)) {
      missing.push_back(c.name);
      continue;
    }
    scores.push_back({c, read_json(dir + "/val.json"), read_json(dir + "/test.json")});
  }
  if (scores.empty()) throw io::file_error(out_dir, "no finished configuration of the study to report");
  if (!missing.empty()) reporter.warn("not finished, left out of the report: " + join(missing));
  const StudyReport report = study_report(scores, report_settings(out_dir, scores));
  OutputDir out(out_dir);
  std::optional<OutputDir> figures;  // created with its first picture (a single loss has no pairs)
  for (const auto& [path, bytes] : report.files) {
    const bool picture = path.rfind("figure5/", 0) == 0;
    if (picture && !figures) figures.emplace(out_dir + "/figure5");
    io::write_file_atomically((picture ? *figures : out).stage(fs::path(path).filename().string()), bytes);
  }
  if (figures) figures->commit();
  out.commit();
  std::cout << report.summary;
  reporter.info("report", "Tables I and II, paired tests, figure5/ and report.html in " + out_dir);
  return kOk;
}

// ---- command -------------------------------------------------------------------------------------

std::vector<StudyConfig> chosen_configs(const std::vector<StudyConfig>& grid, const std::string& only) {
  if (only.empty()) return grid;
  std::vector<std::string> names;
  for (const StudyConfig& c : grid) {
    if (c.name == only) return {c};
    names.push_back(c.name);
  }
  throw UsageError("--only " + only + " is not a configuration of the grid (" + join(names) + ")");
}

Study prepare_study(const ReproduceOptions& o, const GlobalOptions& g, const std::shared_ptr<dist::Comm>& comm,
                    const Reporter& reporter) {
  Study st{o.out, o.manifest, o.cache.empty() ? o.out + "/cache" : o.cache, o.samples, o.flags, g.seed, {}, {}, &g,
           Device(), comm};
  st.val_rows = rows_of_split(o.manifest, "val", "Table I chooses each loss's γ on the validation rows");
  st.test_rows = rows_of_split(o.manifest, "test", "the tables score the test rows");
  // Rank 0 alone builds them; the other ranks read OUT/sim only after rank 0 has loaded its data
  // (run_training's load in turn).
  if (o.quick && comm->rank() == 0) build_quick_samples(o.samples.front(), g.seed, reporter);
  st.dev = choose_device(g);
  return st;
}

// Every configuration of `todo` in turn; false, after saying where, when Ctrl-C stopped one. The
// ranks agree before and after each configuration (a signal reaches them at different moments, and
// rank 0 alone scores): they train the same configurations, decide what is finished from the same
// files, and stop together.
bool run_configs(const Study& st, const std::vector<StudyConfig>& todo, const Reporter& reporter) {
  dist::Comm& comm = *st.comm;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    reporter.info("config", "configuration " + std::to_string(i + 1) + " of " + std::to_string(todo.size()) + ": " +
                                todo[i].name, {{"config", todo[i].name}});
    bool done = false;
    try {
      done = !comm.any(interrupted()) && run_config(st, todo[i], reporter);
    } catch (const Interrupted&) {
    }
    if (comm.any(!done)) {
      if (comm.rank() == 0)
        std::cerr << "sseunet: interrupted in configuration " << todo[i].name
                  << "; its checkpoint and the finished configurations are kept: run the same command again to continue\n";
      return false;
    }
  }
  return true;
}

int run_reproduce(ReproduceOptions o, const CLI::App& sub, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  if (o.quick) apply_quick(o, sub);
  std::vector<StudyConfig> grid;
  try {
    grid = study_grid(o.losses, o.gammas);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (o.list) {
    for (const StudyConfig& c : grid) std::cout << c.name << "\n";
    return kOk;
  }
  if (o.out.empty()) throw UsageError("give --out DIR (or --quick)");
  if (o.report) return dist::launcher_rank() == 0 ? write_report(o.out, grid, reporter) : kOk;  // one writer
  const std::vector<StudyConfig> todo = chosen_configs(grid, o.only);
  if (o.manifest.empty()) throw UsageError("give --manifest M (rows of splits train, val and test) and --out DIR, or --quick");
  // Bad flags are refused by every rank alike, before MPI starts.
  check_precision(training_config(o.flags, "ce", 0, g.seed).precision, choose_device(g),
                  "--precision " + o.flags.cfg.precision);
  const std::shared_ptr<dist::Comm> comm = dist::from_environment();
  return run_on_ranks(*comm, [&] {
    const Reporter out = rank_reporter(g, *comm);
    InterruptScope signals;  // over the whole study: Ctrl-C while building or scoring is caught too
    if (!run_configs(prepare_study(o, g, comm, out), todo, out)) return kInterrupted;
    if (comm->rank() != 0) return kOk;
    if (!o.only.empty()) {
      out.info("done", o.only + " finished; gather the study with: sseunet reproduce --out " + o.out + " --report");
      return kOk;
    }
    return write_report(o.out, grid, out);
  });
}

}  // namespace

Command add_reproduce(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<ReproduceOptions>();
  CLI::App* sub = add_subcommand(
      app, g, "reproduce",
      "Train and score the study's grid of losses (Mu et al. 2022): Tables I and II, Figure 5, paired tests",
      "sseunet reproduce --manifest study.tsv --out runs/ --epochs 50\n"
      "  sseunet reproduce --quick                          # minutes on the shipped data: a check of the pipeline\n"
      "  sseunet reproduce -m study.tsv -o runs/ --only fce_dl_g5   # one task of a SLURM array (see --list)\n"
      "  sseunet reproduce -o runs/ --report                 # gather the finished configurations\n"
      "  mpirun -np 4 sseunet reproduce -m study.tsv -o runs/ --batch 4 --patch 64   # each configuration on 4 ranks");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest with train, val (chooses gamma) and test rows");
  sub->add_option("--out,-o", o->out, "study folder: a run folder per configuration, the tables and figures");
  sub->add_option("--samples", o->samples, "also train on every sample built in this folder (as train --samples)");
  sub->add_option("--cache", o->cache, "sample cache folder shared by the configurations (default OUT/cache)");
  sub->add_option("--losses", o->losses, "losses to train, comma-separated, e.g. ce,fce_dl (default: all five)")
      ->delimiter(',')
      ->check(CLI::IsMember(losses::loss_names()));
  sub->add_option("--gammas", o->gammas, "focal gammas of fce and fce_dl, comma-separated, e.g. 2,5 (default 1,2,5,8)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--only", o->only, "train and score this configuration alone, e.g. fce_dl_g5 (no report)");
  sub->add_flag("--report", o->report, "no training: gather the finished configurations into tables, figure and tests")
      ->excludes("--only");
  sub->add_flag("--list", o->list, "print the grid's configuration names, one per line (e.g. for a SLURM array)");
  sub->add_flag("--quick", o->quick, "the pipeline on the shipped data, width 4, 60 steps: minutes on two cores");
  add_training_flags(*sub, o->flags);
  return {sub, [o, sub, &g] { return run_reproduce(*o, *sub, g); }};
}

}  // namespace sse::app
