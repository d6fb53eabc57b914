// bench/gpu/focal_dice_bench.cpp — the fused focal+Dice CUDA kernels (kernels/cuda/focal_dice.cu):
// first checked against the CPU reference on several shapes and for bit-for-bit repeatability, then
// timed with CUDA events on 1×3×128³, 2×3×96³ and 2×3×64³, reporting µs, GB/s over the 56 B per voxel
// the two passes move (kernels/focal_dice.h), and that rate as a fraction of a device-to-device
// cudaMemcpy of 256 MiB measured in the same run (read + write; the practical peak, as in
// gpu_kernels) and of the memory's theoretical peak. Prints a Markdown table.
// Uses only the kernels layer (no engine), so it builds wherever the CUDA kernels do.
//
//   gpu_focal_dice_bench [iterations=50]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/focal_dice.h"
#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#else
#include <cuda_runtime.h>
#endif

namespace {

using namespace sse;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
#define CK(x) check((x), #x)

struct Host {
  FocalDiceShape sh;
  std::vector<float> logits;
  std::vector<std::int32_t> labels;
};

// The study's imbalance (96.6 / 2.4 / 1 %), 5 % ignored, logits loosely agreeing with the labels.
Host make(FocalDiceShape sh, unsigned seed) {
  Host h{sh, std::vector<float>(static_cast<std::size_t>(sh.n * sh.c * sh.s)),
         std::vector<std::int32_t>(static_cast<std::size_t>(sh.n * sh.s))};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::normal_distribution<float> nrm(0.0f, 2.0f);
  for (index_t n = 0; n < sh.n; ++n)
    for (index_t v = 0; v < sh.s; ++v) {
      const float r = u(rng);
      int l = r < 0.966f ? 0 : r < 0.99f ? 1 : 2;
      if (l >= sh.c) l = sh.c - 1;
      for (int k = 0; k < sh.c; ++k)
        h.logits[static_cast<std::size_t>((n * sh.c + k) * sh.s + v)] = nrm(rng) + (k == l && u(rng) < 0.7f ? 3.0f : 0.0f);
      h.labels[static_cast<std::size_t>(n * sh.s + v)] = u(rng) < 0.05f ? 255 : l;
    }
  return h;
}

struct Dev {
  float *logits = nullptr, *partials = nullptr, *stats = nullptr, *grad = nullptr, *g = nullptr;  // grad: probs, then gradient
  std::int32_t* labels = nullptr;
  explicit Dev(const Host& h) {
    CK(cudaMalloc(reinterpret_cast<void**>(&logits), h.logits.size() * 4));
    CK(cudaMalloc(reinterpret_cast<void**>(&grad), h.logits.size() * 4));
    CK(cudaMalloc(reinterpret_cast<void**>(&labels), h.labels.size() * 4));
    CK(cudaMalloc(reinterpret_cast<void**>(&partials), static_cast<std::size_t>(focal_dice_partials_size(h.sh)) * 4));
    CK(cudaMalloc(reinterpret_cast<void**>(&stats), static_cast<std::size_t>(focal_dice_stats_size(h.sh)) * 4));
    CK(cudaMalloc(reinterpret_cast<void**>(&g), 4));
    CK(cudaMemcpy(logits, h.logits.data(), h.logits.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(labels, h.labels.data(), h.labels.size() * 4, cudaMemcpyHostToDevice));
    const float one = 1.5f;
    CK(cudaMemcpy(g, &one, 4, cudaMemcpyHostToDevice));
  }
  ~Dev() {
    for (void* p : {static_cast<void*>(logits), static_cast<void*>(grad), static_cast<void*>(labels),
                    static_cast<void*>(partials), static_cast<void*>(stats), static_cast<void*>(g)})
      cudaFree(p);
  }
};

struct Result {
  std::vector<float> stats, grad;
};

Result run_cpu(const Host& h, const FocalDiceParams& p) {
  Result r{std::vector<float>(static_cast<std::size_t>(focal_dice_stats_size(h.sh))),
           std::vector<float>(h.logits.size())};
  std::vector<float> partials(static_cast<std::size_t>(focal_dice_partials_size(h.sh)));
  const float g = 1.5f;
  cpu::focal_dice_forward(h.sh, p, h.logits.data(), h.labels.data(), partials.data(), r.stats.data(), r.grad.data());
  cpu::focal_dice_backward(h.sh, p, r.grad.data(), h.labels.data(), r.stats.data(), &g, r.grad.data());
  return r;
}

Result run_gpu(const Host& h, const Dev& d, const FocalDiceParams& p) {
  cuda::focal_dice_forward(h.sh, p, d.logits, d.labels, d.partials, d.stats, d.grad, nullptr);
  cuda::focal_dice_backward(h.sh, p, d.grad, d.labels, d.stats, d.g, d.grad, nullptr);
  CK(cudaDeviceSynchronize());
  Result r{std::vector<float>(static_cast<std::size_t>(focal_dice_stats_size(h.sh))),
           std::vector<float>(h.logits.size())};
  CK(cudaMemcpy(r.stats.data(), d.stats, r.stats.size() * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(r.grad.data(), d.grad, r.grad.size() * 4, cudaMemcpyDeviceToHost));
  return r;
}

// Worst |a − b| / max(|b|, floor): stats relative; gradient relative down to 1e-3 of its scale.
double worst(const std::vector<float>& a, const std::vector<float>& b, std::size_t from, std::size_t to, double floor) {
  double e = 0;
  for (std::size_t i = from; i < to; ++i)
    e = std::max(e, std::fabs(double(a[i]) - b[i]) / std::max(std::fabs(double(b[i])), floor));
  return e;
}

bool verify(const FocalDiceShape& sh, const FocalDiceParams& p, unsigned seed) {
  const Host h = make(sh, seed);
  const Dev d(h);
  const Result c = run_cpu(h, p), g = run_gpu(h, d, p), g2 = run_gpu(h, d, p);
  double scale = 0;
  for (float v : c.grad) scale = std::max(scale, double(std::fabs(v)));
  const double es = worst(g.stats, c.stats, 0, 3, 1e-30);
  const double ec = worst(g.stats, c.stats, kFdHeader, g.stats.size(), 1e-30);
  const double eg = worst(g.grad, c.grad, 0, g.grad.size(), 1e-3 * scale);
  const bool counts = g.stats[kFdCounted] == c.stats[kFdCounted] && g.stats[kFdBadLabels] == c.stats[kFdBadLabels];
  const bool repeat = std::memcmp(g.stats.data(), g2.stats.data(), g.stats.size() * 4) == 0 &&
                      std::memcmp(g.grad.data(), g2.grad.data(), g.grad.size() * 4) == 0;
  const bool ok = es <= 1e-6 && ec <= 1e-6 && eg <= 1e-5 && counts && repeat;
  std::printf("verify n=%lld c=%d s=%lld gamma=%g %-9s loss %.7f (cpu %.7f) | rel err: loss/terms %.1e coef %.1e "
              "grad %.1e | counts %s | repeat %s | %s\n",
              static_cast<long long>(sh.n), sh.c, static_cast<long long>(sh.s), p.gamma,
              p.per_class ? "per_class" : "pooled", g.stats[kFdLoss], c.stats[kFdLoss], es, ec, eg,
              counts ? "equal" : "DIFFER", repeat ? "bitwise" : "DIFFERS", ok ? "OK" : "FAIL");
  return ok;
}

// Median ms of `iters` runs of f after 3 warm-ups, each bracketed by CUDA events.
template <class F> double median_ms(int iters, F&& f) {
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  std::vector<float> ms;
  for (int it = 0; it < iters + 3; ++it) {
    CK(cudaEventRecord(e0, nullptr));
    f();
    CK(cudaEventRecord(e1, nullptr));
    CK(cudaEventSynchronize(e1));
    float a;
    CK(cudaEventElapsedTime(&a, e0, e1));
    if (it >= 3) ms.push_back(a);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::sort(ms.begin(), ms.end());
  return double(ms[ms.size() / 2]);
}

// GB/s of a device-to-device copy of 256 MiB (bytes read + written).
double copy_gbs(int iters) {
  const std::size_t bytes = std::size_t{256} << 20;
  void *a = nullptr, *b = nullptr;
  CK(cudaMalloc(&a, bytes));
  CK(cudaMalloc(&b, bytes));
  CK(cudaMemset(a, 0, bytes));
  const double ms = median_ms(iters, [&] { CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr)); });
  cudaFree(a);
  cudaFree(b);
  return 2.0 * double(bytes) / (ms * 1e-3) / 1e9;
}

void time_shape(const FocalDiceShape& sh, int iters, double copy, double peak) {
  FocalDiceParams p;
  p.gamma = 5.0f;
  p.ignore_index = 255;
  const Host h = make(sh, 99);
  const Dev d(h);
  auto fwd = [&] { cuda::focal_dice_forward(sh, p, d.logits, d.labels, d.partials, d.stats, d.grad, nullptr); };
  auto bwd = [&] { cuda::focal_dice_backward(sh, p, d.grad, d.labels, d.stats, d.g, d.grad, nullptr); };
  fwd();  // pass 2 reads what pass 1 stored
  const double tf = median_ms(iters, fwd), tb = median_ms(iters, bwd);
  const double tt = median_ms(iters, [&] {
    fwd();
    bwd();
  });
  const double voxels = double(sh.n) * double(sh.s);
  const double b1 = voxels * (8.0 * sh.c + 4.0), b2 = voxels * (8.0 * sh.c + 4.0);  // 28 B each (C = 3)
  auto gbs = [](double bytes, double ms) { return bytes / (ms * 1e-3) / 1e9; };
  char shape[64];
  std::snprintf(shape, sizeof shape, "%lld×%d×%lld", static_cast<long long>(sh.n), sh.c,
                static_cast<long long>(sh.s));
  std::printf("| %s | %.1f | %.0f | %.1f | %.0f | %.1f | %.0f | %.0f %% | %.0f %% |\n", shape, 1e3 * tf, gbs(b1, tf),
              1e3 * tb, gbs(b2, tb), 1e3 * tt, gbs(b1 + b2, tt), 100.0 * gbs(b1 + b2, tt) / copy,
              100.0 * gbs(b1 + b2, tt) / peak);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int iters = argc > 1 ? std::atoi(argv[1]) : 50;
    cudaDeviceProp prop{};
    CK(cudaGetDeviceProperties(&prop, 0));
    int mem_khz = 0, bus_bits = 0;
#if !SSE_CUDA_SIM
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
#endif
    const double peak = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;  // DDR: two transfers per clock
    std::printf("device %s, %d SMs, peak memory bandwidth %.0f GB/s (%d kHz × %d bit × 2)\n", prop.name,
                prop.multiProcessorCount, peak, mem_khz, bus_bits);
    bool ok = true;
    unsigned seed = 1;
    for (float g : {0.0f, 2.0f, 5.0f, 8.0f})
      for (bool pc : {false, true}) {
        FocalDiceParams p;
        p.gamma = g;
        p.per_class = pc;
        p.ignore_index = 255;
        ok = verify({2, 3, 37 * 41 * 43}, p, seed++) && ok;
      }
    FocalDiceParams p;
    p.gamma = 2.0f;
    p.lambda_a = 0.5f;
    p.lambda_b = 2.0f;
    p.ignore_index = 255;
    ok = verify({1, 4, 50000}, p, seed++) && ok;  // generic C
    ok = verify({3, 3, 777}, p, seed++) && ok;
    ok = verify({2, 3, 40 * 40 * 40}, p, seed++) && ok;  // the float4 passes (S % 4 = 0), N = 2
#if !SSE_CUDA_SIM
    ok = verify({1, 3, 128 * 128 * 128}, p, seed++) && ok;
#endif
    if (iters > 0) {
      const double copy = copy_gbs(iters);
      std::printf("\n### Fused focal+Dice loss (γ = 5, C = 3): bandwidth\n\n");
      std::printf("Median of %d CUDA-event timings after 3 warm-ups. Bytes: 28 B per voxel per pass (56 B both). "
                  "Copy: device-to-device cudaMemcpy of 256 MiB in the same run, %.0f GB/s; peak %.0f GB/s.\n\n",
                  iters, copy, peak);
      std::printf("| shape | pass 1 + combine µs | GB/s | pass 2 µs | GB/s | both µs | GB/s | of copy | of peak "
                  "|\n");
      std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
      for (const FocalDiceShape sh : {FocalDiceShape{1, 3, 128 * 128 * 128}, FocalDiceShape{2, 3, 96 * 96 * 96},
                                      FocalDiceShape{2, 3, 64 * 64 * 64}})
        time_shape(sh, iters, copy, peak > 0 ? peak : 1.0);
      std::printf("\n");
    }
    std::printf("%s\n", ok ? "ALL OK" : "SOME CHECKS FAILED");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
