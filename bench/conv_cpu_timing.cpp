// bench/conv_cpu_timing.cpp — CPU convolution GFLOP/s per U-Net layer shape against the machine's
// measured FP32 peak (bench/peak_flops.h), for the AVX2 kernels and the im2col+sgemm path.
//
//   conv_cpu_timing [--size 64] [--threads N] [--repeat 3] [--impl auto|avx2|blas|both] [--pass all|fwd|bwd-data|bwd-weight]
//                   [--layer SUBSTRING]
//
// Layers (batch 1, the default U-Net at width 64 on an S³ patch): conv3 1→32, 32→64 @S; 64→64,
// 64→128 @S/2; 128→128, 128→256 @S/4; convT 256→256 @S/4→S/2; 384→128, 128→128 @S/2; convT 128→128
// @S/2→S; 192→64, 64→64 @S; conv1 64→3 @S. Each (layer, pass, impl) runs once to warm up, then
// `repeat` times; the table gives the median wall time, GFLOP/s (2 FLOPs per multiply-add) and the
// percentage of the peak, taken as threads × the best single-core FMA-loop rate, by wall time or per
// second of the thread's CPU time, whichever is higher (the ideal machine; an all-core run of the
// FMA loop on a shared machine would understate it). "cpu %" divides by the
// process CPU time instead of wall time × threads: what the threads achieved while they ran (spinning
// OpenMP threads count as running). With --impl both, the AVX2 result is checked against the im2col+sgemm (Blas) path.
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/peak_flops.h"
#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/cpu/blas.h"

namespace {

using sse::index_t;
using sse::bench::cpu_seconds;
using sse::bench::max_rel_diff;
using sse::bench::random_vector;

struct Layer {
  std::string name;
  bool transposed;
  index_t c_in, c_out, s;  // s: input edge
  int k;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace sse;
  CLI::App app{"CPU convolution GFLOP/s per U-Net layer against the measured FP32 peak"};
  index_t size = 64;
  int threads = 0, repeat = 3;
  std::string impl = "auto", pass = "all", filter;
  app.add_option("--size", size, "patch edge S");
  app.add_option("--threads", threads);
  app.add_option("--repeat", repeat);
  app.add_option("--impl", impl)->check(CLI::IsMember({"auto", "avx2", "blas", "both"}));
  app.add_option("--pass", pass)->check(CLI::IsMember({"all", "fwd", "bwd-data", "bwd-weight"}));
  app.add_option("--layer", filter, "only layers whose name contains this");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) cpu::set_num_threads(threads);
  threads = omp_get_max_threads();
  const double core_peak = bench_peak::best_gflops(1);
  const double core_peak_cpu = bench_peak::best_gflops_per_cpu_second();
  const double peak = std::max(core_peak, core_peak_cpu) * threads;
  const index_t S = size;
  const std::vector<Layer> layers{
      {"conv3 1→32 @" + std::to_string(S), false, 1, 32, S, 3},
      {"conv3 32→64 @" + std::to_string(S), false, 32, 64, S, 3},
      {"conv3 64→64 @" + std::to_string(S / 2), false, 64, 64, S / 2, 3},
      {"conv3 64→128 @" + std::to_string(S / 2), false, 64, 128, S / 2, 3},
      {"conv3 128→128 @" + std::to_string(S / 4), false, 128, 128, S / 4, 3},
      {"conv3 128→256 @" + std::to_string(S / 4), false, 128, 256, S / 4, 3},
      {"convT 256→256 @" + std::to_string(S / 4) + "→" + std::to_string(S / 2), true, 256, 256, S / 4, 2},
      {"conv3 384→128 @" + std::to_string(S / 2), false, 384, 128, S / 2, 3},
      {"conv3 128→128 @" + std::to_string(S / 2), false, 128, 128, S / 2, 3},
      {"convT 128→128 @" + std::to_string(S / 2) + "→" + std::to_string(S), true, 128, 128, S / 2, 2},
      {"conv3 192→64 @" + std::to_string(S), false, 192, 64, S, 3},
      {"conv3 64→64 @" + std::to_string(S), false, 64, 64, S, 3},
      {"conv1 64→3 @" + std::to_string(S), false, 64, 3, S, 1},
  };
  std::vector<std::string> impls;
  if (impl == "both") impls = {"avx2", "blas"};
  else impls = {impl};
  std::printf("CPU convolution layers, batch 1, %d threads; peak = %d × %.1f GFLOP/s (best single-core FMA loop;"
              " %.1f by wall time, %.1f per CPU second) = %.1f GFLOP/s\n\n",
              threads, threads, peak / threads, core_peak, core_peak_cpu, peak);
  std::printf("| layer | pass | GFLOP | impl | ms | GFLOP/s | %% of peak | cpu %% | check |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  double total_ms[2] = {0, 0};
  for (const Layer& L : layers) {
    if (!filter.empty() && L.name.find(filter) == std::string::npos) continue;
    const index_t vin = L.s * L.s * L.s, vout = L.transposed ? 8 * vin : vin;
    const std::size_t nx = static_cast<std::size_t>(L.c_in * vin), ny = static_cast<std::size_t>(L.c_out * vout);
    const std::size_t nw = static_cast<std::size_t>(L.c_in * L.c_out * L.k * L.k * L.k);
    const auto x = random_vector(nx, 1), w = random_vector(nw, 2), b = random_vector(static_cast<std::size_t>(L.c_out), 3),
               dy = random_vector(ny, 4);
    const Conv3dShape cs{1, L.c_in, L.c_out, L.s, L.s, L.s, L.k};
    const ConvT3dShape ts{1, L.c_in, L.c_out, L.s, L.s, L.s};
    const double gflop = (L.transposed ? ts.flops() : cs.flops()) / 1e9;
    for (const char* p : {"fwd", "bwd-data", "bwd-weight"}) {
      if (pass != "all" && pass != p) continue;
      const std::string ps = p;
      std::vector<float> ref;
      for (std::size_t ii = 0; ii < impls.size(); ++ii) {
        const std::string& im = impls[ii];
        if (im == "avx2" && !cpu::conv_avx2_supported()) continue;
        cpu::set_conv_impl(im == "avx2" ? cpu::ConvImpl::Avx2 : im == "blas" ? cpu::ConvImpl::Blas : cpu::ConvImpl::Auto);
        std::vector<float> out(ps == "fwd" ? ny : ps == "bwd-data" ? nx : nw), db(static_cast<std::size_t>(L.c_out));
        std::function<void()> run;
        if (L.transposed) {
          if (ps == "fwd") run = [&] { cpu::conv_transpose3d_forward(ts, x.data(), w.data(), b.data(), out.data()); };
          else if (ps == "bwd-data") run = [&] { cpu::conv_transpose3d_backward_data(ts, dy.data(), w.data(), out.data()); };
          else run = [&] { cpu::conv_transpose3d_backward_weight(ts, x.data(), dy.data(), out.data(), db.data()); };
        } else {
          if (ps == "fwd") run = [&] { cpu::conv3d_forward(cs, x.data(), w.data(), b.data(), out.data()); };
          else if (ps == "bwd-data") run = [&] { cpu::conv3d_backward_data(cs, dy.data(), w.data(), out.data()); };
          else run = [&] { cpu::conv3d_backward_weight(cs, x.data(), dy.data(), out.data(), db.data()); };
        }
        run();
        std::vector<double> ms, cpu_s;
        for (int r = 0; r < repeat; ++r) {
          const double c0 = cpu_seconds();
          const auto t0 = std::chrono::steady_clock::now();
          run();
          ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
          cpu_s.push_back(cpu_seconds() - c0);
        }
        std::sort(ms.begin(), ms.end());
        std::sort(cpu_s.begin(), cpu_s.end());
        const double med = ms[ms.size() / 2], cpu_med = cpu_s[cpu_s.size() / 2];
        total_ms[ii] += med;
        std::string check = "—";
        if (impls.size() > 1) {
          if (ii == 0) ref = out;
          else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1e", max_rel_diff(ref, out));
            check = buf;
          }
        }
        const double gf = gflop / (med / 1e3);
        std::printf("| %s | %s | %.1f | %s | %.1f | %.1f | %.0f | %.0f | %s |\n", L.name.c_str(), p, gflop, im.c_str(), med,
                    gf, 100.0 * gf / peak, 100.0 * gflop / cpu_med / (peak / threads), check.c_str());
        std::fflush(stdout);
      }
    }
  }
  cpu::set_conv_impl(cpu::ConvImpl::Auto);
  for (std::size_t ii = 0; ii < impls.size(); ++ii) std::printf("\ntotal %s: %.0f ms", impls[ii].c_str(), total_ms[ii]);
  std::printf("\n");
  return 0;
}
