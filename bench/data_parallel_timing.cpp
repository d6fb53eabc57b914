// bench/data_parallel_timing.cpp — the training step of train::Trainer on one or several ranks, and
// the part of it spent in communication (bench/data_parallel.sh runs it at 1 and 2 ranks).
//
//   data_parallel_timing --width 16 --patch 64 --batch 2 [--steps 4] [--warmup 1] [--threads N]
//   mpirun -np 2 data_parallel_timing ...     (ranks from the launcher, engine/distributed.h)
//
// Synthetic samples (train/synthetic.h) of edge patch + 8, so every patch is a real crop. Every rank
// times each step (after a barrier, so a step starts together everywhere) and its time in the Comm's
// collectives, through a Comm that wraps the run's and times each call: `small` = the blocking
// allgathers (synchronized batch-norm statistics, the loss and voxel-count sums), `grad` = starting
// and waiting for the gradient buckets' sums (what backward did not hide). Rank 0 prints one JSON
// line: medians over the timed steps, in ms, and its process CPU time per step.
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/distributed.h"
#include "kernels/cpu/blas.h"
#include "train/synthetic.h"
#include "train/trainer.h"

namespace {

using namespace sse;

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// This process's CPU time (all its threads): on a machine shared with other work, the work done,
// where the wall time also counts the time slices other processes took.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Forwards to `inner`, adding the time of each collective to `small` or `grad`.
class TimedComm final : public dist::Comm {
 public:
  explicit TimedComm(std::shared_ptr<dist::Comm> inner) : inner_(std::move(inner)) {}
  double small = 0.0, grad = 0.0;

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  int local_rank() const override { return inner_->local_rank(); }
  std::string transport() const override { return inner_->transport(); }
  void bind_device(Device d) override { inner_->bind_device(d); }
  void allgather(const double* mine, std::size_t n, double* all) override {
    const double t0 = now_ms();
    inner_->allgather(mine, n, all);
    small += now_ms() - t0;
  }
  std::unique_ptr<dist::Pending> allreduce_sum_async(const Tensor& t) override {
    struct Timed final : dist::Pending {
      Timed(std::unique_ptr<dist::Pending> p, double* acc) : p(std::move(p)), acc(acc) {}
      void wait() override {
        const double t0 = now_ms();
        p->wait();
        *acc += now_ms() - t0;
      }
      std::unique_ptr<dist::Pending> p;
      double* acc;
    };
    const double t0 = now_ms();
    auto p = inner_->allreduce_sum_async(t);
    grad += now_ms() - t0;
    return std::make_unique<Timed>(std::move(p), &grad);
  }
  void progress() override { inner_->progress(); }
  void barrier() override { inner_->barrier(); }
  [[noreturn]] void abort(int code) override {
    inner_->abort(code);
    std::exit(code);
  }

 private:
  std::shared_ptr<dist::Comm> inner_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"data-parallel training step timing"};
  int width = 16, patch = 64, batch = 2, steps = 4, warmup = 1, threads = 0;
  app.add_option("--width", width);
  app.add_option("--patch", patch);
  app.add_option("--batch", batch);
  app.add_option("--steps", steps);
  app.add_option("--warmup", warmup);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) cpu::set_num_threads(threads);
  auto comm = std::make_shared<TimedComm>(dist::from_environment());

  train::TrainConfig c;
  c.model.width = width;
  c.batch = batch;
  c.patch = patch;
  c.epochs = 1000;
  train::SyntheticOptions so;
  so.size = patch + 8;
  std::vector<train::Sample> data;
  for (int i = 0; i < 4; ++i) data.push_back(train::synthetic_sample(static_cast<std::uint64_t>(i), so));
  train::Trainer t(c, data, {}, Device::cpu(), comm);

  std::vector<double> step_ms, small_ms, grad_ms, step_cpu_ms;
  for (int i = 0; i < warmup + steps; ++i) {
    comm->barrier();
    const double s0 = comm->small, g0 = comm->grad, t0 = now_ms(), c0 = cpu_ms();
    t.step();
    const double ms = now_ms() - t0;
    if (i < warmup) continue;
    step_ms.push_back(ms);
    step_cpu_ms.push_back(cpu_ms() - c0);
    small_ms.push_back(comm->small - s0);
    grad_ms.push_back(comm->grad - g0);
  }
  if (comm->rank() != 0) return 0;
  const double step = median(step_ms), small = median(small_ms), grad = median(grad_ms);
  nlohmann::json j{{"ranks", comm->size()},
                   {"transport", comm->transport()},
                   {"threads_per_rank", omp_get_max_threads()},
                   {"width", width},
                   {"patch", patch},
                   {"batch", batch},
                   {"buckets", t.buckets() ? static_cast<int>(t.buckets()->buckets()) : 0},
                   {"step_ms", step},
                   {"rank0_cpu_ms", median(step_cpu_ms)},
                   {"steps_ms", step_ms},
                   {"small_collectives_ms", small},
                   {"grad_allreduce_ms", grad},
                   {"comm_share", step > 0 ? (small + grad) / step : 0.0}};
  std::cout << j.dump() << std::endl;
  return 0;
}
