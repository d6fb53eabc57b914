// bench/loss_bench.cpp — the fused focal+Dice loss against the unfused composition of engine ops
// (softmax → log → focal → Dice), forward + backward, on 1×3×128³ logits with the study's class
// balance (96.6 / 2.4 / 1 %), on the CPU with 1 and 2 OpenMP threads.
//
// Reported per benchmark: time, and bytes_per_second over the 56 B per voxel that the fused passes
// move (logits read once, softmax stored in the gradient buffer, labels read twice, gradient written
// over the softmax: kernels/focal_dice.h; 16 B for a forward alone) — for the unfused runs the same
// byte count, i.e. an effective bandwidth. After the table the fused/unfused
// speed-up of each pair measured in this run is printed ("ratio"). Results: bench/RESULTS.md.
//
//   ./bench/loss_bench [--benchmark_repetitions=5]   (ratios then use the medians)
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "engine/tensor.h"
#include "losses/loss.h"

namespace {

using namespace sse;

constexpr index_t kSide = 128;
constexpr double kBytesPerVoxel = 56.0;  // 16C + 8 for C = 3 (forward alone: 4C + 4 = 16)

struct Inputs {
  Tensor logits, labels;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    const index_t s = kSide * kSide * kSide;
    std::vector<float> x(static_cast<std::size_t>(3 * s));
    std::vector<std::int32_t> l(static_cast<std::size_t>(s));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::normal_distribution<float> nrm(0.0f, 2.0f);
    for (index_t v = 0; v < s; ++v) {
      const float r = u(rng);
      const int k = r < 0.966f ? 0 : r < 0.99f ? 1 : 2;
      l[static_cast<std::size_t>(v)] = k;
      for (int c = 0; c < 3; ++c) x[static_cast<std::size_t>(c * s + v)] = nrm(rng) + (c == k ? 2.0f : 0.0f);
    }
    return Inputs{Tensor::from_vector(x, Shape{1, 3, kSide, kSide, kSide}),
                  Tensor::from_vector(l, Shape{1, kSide, kSide, kSide})};
  }();
  return in;
}

losses::LossConfig config(const std::string& name, float gamma, bool fused) {
  losses::LossConfig c;
  c.name = name;
  c.gamma = gamma;
  c.fused = fused;
  c.ignore_index = 255;
  return c;
}

// state.range(0): OpenMP threads; range(1): 1 = forward + backward, 0 = forward only.
void run_loss(benchmark::State& state, const losses::LossConfig& cfg) {
  const Inputs& in = inputs();
  const int saved = omp_get_max_threads();
  omp_set_num_threads(static_cast<int>(state.range(0)));
  const bool backward = state.range(1) != 0;
  auto loss = losses::make_loss(cfg);
  Tensor x = in.logits.detach().set_requires_grad(backward);
  for (auto _ : state) {
    x.zero_grad();
    Tensor l = loss->forward(x, in.labels);
    if (backward) l.backward();
    benchmark::DoNotOptimize(l.raw());
  }
  omp_set_num_threads(saved);
  const double voxels = static_cast<double>(in.labels.numel());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * voxels * (backward ? kBytesPerVoxel : 16.0)));
  state.counters["voxels"] = voxels;
}

#define LOSS_BENCH(label, name, gamma)                                                                         \
  BENCHMARK_CAPTURE(run_loss, fused_##label, config(name, gamma, true))                                       \
      ->ArgsProduct({{1, 2}, {1, 0}})->ArgNames({"threads", "bwd"})->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(run_loss, unfused_##label, config(name, gamma, false))                                    \
      ->ArgsProduct({{1, 2}, {1, 0}})->ArgNames({"threads", "bwd"})->Unit(benchmark::kMillisecond)->UseRealTime()

LOSS_BENCH(fce_dl_g5, "fce_dl", 5.0f);
LOSS_BENCH(ce, "ce", 0.0f);
LOSS_BENCH(dl, "dl", 0.0f);

// The console table, then the fused/unfused ratio of every pair measured in this run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      // One entry per benchmark: the median when --benchmark_repetitions gives one, else the run.
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      const std::string key = r.run_name.str();
      if (r.error_occurred || !(median || (r.run_type == Run::RT_Iteration && !medians_.count(key)))) continue;
      if (median) medians_[key] = true;
      times_[key] = r.GetAdjustedRealTime();
      cpu_[key] = r.GetAdjustedCPUTime();
      const auto bps = r.counters.find("bytes_per_second");
      if (bps != r.counters.end()) gbs_[key] = bps->second.value / 1e9;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nfused vs unfused (same run), 1x3x128^3, forward+backward unless bwd:0; GB/s over the fused\n"
                "path's bytes (56 B/voxel with backward, 16 without); ratios of wall time and of CPU time (the\n"
                "latter is less sensitive to a shared machine for threads:1):\n");
    for (const auto& [name, t] : times_) {
      const std::string::size_type at = name.find("/unfused_");
      if (at == std::string::npos) continue;
      std::string fused = name;
      fused.replace(at, 9, "/fused_");
      const auto f = times_.find(fused);
      if (f == times_.end()) continue;
      std::printf("  %-44s fused %8.2f ms (%5.2f GB/s)  unfused %8.2f ms  ratio %4.1fx  cpu-time ratio %4.1fx\n",
                  fused.c_str(), f->second, gbs_[fused], t, t / f->second, cpu_[name] / cpu_[fused]);
    }
  }

 private:
  std::map<std::string, double> times_, cpu_, gbs_;
  std::map<std::string, bool> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
