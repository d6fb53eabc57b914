// bench/conv_winograd_timing.cpp — the 3×3×3 convolutions of the U-Net by the direct AVX2 kernel and by
// Winograd F(2,3)³ and F(4,3)³ (kernels/cpu/conv3d_winograd.cpp), per layer: time, effective GFLOP/s
// (the direct convolution's FLOPs over the time, so the columns compare), speed-up over direct, the
// largest difference from the direct result relative to the largest |direct| value, and the tile the
// measured rule (winograd::choose_tile) picks. The data behind that rule, in bench/RESULTS.md.
//
//   conv_winograd_timing [--size 88 92 92] [--threads N] [--repeat 3] [--pass fwd|bwd-data|bwd-weight|all]
//                        [--isa avx2|avx512|both] [--layer SUBSTRING] [--only 2|4]
//
// Layers (batch 1, the U-Net at width 64 on a D×H×W input, levels at full, half and quarter size):
// 1→32, 32→64 @1; 64→64, 64→128 @½; 128→128, 128→256 @¼; 384→128, 128→128 @½; 192→64, 64→64 @1.
// Each (layer, pass, variant) runs once to warm up, then `repeat` times; the table gives the median wall
// time and the smallest process CPU time (on a machine shared with other work, what the run itself
// cost: others' load only ever adds to it).
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
#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_winograd.h"

namespace {

using sse::index_t;

// Uniform values in [−0.5, 0.5), or with relu their positive part (half zeros, like activations).
std::vector<float> random_vector(std::size_t n, std::uint32_t seed, bool relu) {
  std::vector<float> v = sse::bench::random_vector(n, seed);
  if (relu)
    for (auto& x : v) x = std::max(x, 0.0f);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sse;
  CLI::App app{"3x3x3 convolution: direct vs Winograd F(2,3) and F(4,3) per U-Net layer"};
  std::vector<index_t> size{88, 92, 92};
  int threads = 0, repeat = 3;
  std::string pass = "all", isa = "avx2", filter, only;
  app.add_option("--size", size, "input D H W (level 1)")->expected(3);
  app.add_option("--threads", threads);
  app.add_option("--repeat", repeat);
  app.add_option("--pass", pass)->check(CLI::IsMember({"all", "fwd", "bwd-data", "bwd-weight"}));
  app.add_option("--isa", isa)->check(CLI::IsMember({"avx2", "avx512", "both"}));
  app.add_option("--layer", filter, "only layers whose name contains this");
  app.add_option("--only", only, "only this Winograd tile (2 or 4) after the direct reference, e.g. for a profile")
      ->check(CLI::IsMember({"2", "4"}));
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) cpu::set_num_threads(threads);
  threads = omp_get_max_threads();
  const double peak = bench_peak::best_gflops(1) * threads;
  struct Layer {
    index_t c_in, c_out;
    int level;
  };
  const std::vector<Layer> layers{{1, 32, 0},  {32, 64, 0},  {64, 64, 1},   {64, 128, 1}, {128, 128, 2},
                                  {128, 256, 2}, {384, 128, 1}, {128, 128, 1}, {192, 64, 0}, {64, 64, 0}};
  std::vector<cpu::winograd::Isa> isas;
  if (isa != "avx512") isas.push_back(cpu::winograd::Isa::Avx2);
  if (isa != "avx2") {
    if (cpu::winograd::avx512_supported()) isas.push_back(cpu::winograd::Isa::Avx512);
    else std::printf("(no AVX-512F on this CPU)\n");
  }
  std::printf("3×3×3 convolutions, batch 1, %d threads, input %lld×%lld×%lld; peak (AVX2 FMA loop) %.1f GFLOP/s\n\n",
              threads, static_cast<long long>(size[0]), static_cast<long long>(size[1]),
              static_cast<long long>(size[2]), peak);
  std::printf("| layer | pass | GFLOP | variant | ms | eff. GFLOP/s | %% of peak | speed-up | CPU ms | CPU speed-up | max err / max |y| | rule |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  double total[5] = {0, 0, 0, 0, 0}, total_cpu[5] = {0, 0, 0, 0, 0};
  for (const Layer& L : layers) {
    const index_t d = size[0] >> L.level, h = size[1] >> L.level, w = size[2] >> L.level;
    char name[96];
    std::snprintf(name, sizeof name, "%lld→%lld @%lld×%lld×%lld", static_cast<long long>(L.c_in),
                  static_cast<long long>(L.c_out), static_cast<long long>(d), static_cast<long long>(h),
                  static_cast<long long>(w));
    if (!filter.empty() && std::string(name).find(filter) == std::string::npos) continue;
    const Conv3dShape cs{1, L.c_in, L.c_out, d, h, w, 3};
    const index_t vol = cs.voxels();
    const auto x = random_vector(static_cast<std::size_t>(L.c_in * vol), 1, true);
    const auto dy = random_vector(static_cast<std::size_t>(L.c_out * vol), 4, false);
    auto wts = random_vector(static_cast<std::size_t>(L.c_in * L.c_out * 27), 2, false);
    for (auto& v : wts) v *= 0.2f;
    const auto b = random_vector(static_cast<std::size_t>(L.c_out), 3, false);
    for (const char* p : {"fwd", "bwd-data", "bwd-weight"}) {
      if (pass != "all" && pass != p) continue;
      const bool fwd = std::string(p) == "fwd", wgt = std::string(p) == "bwd-weight";
      const int rule = fwd || wgt ? cpu::winograd::choose_tile(L.c_in, L.c_out, d, h, w, wgt)
                                  : cpu::winograd::choose_tile(L.c_out, L.c_in, d, h, w);
      std::vector<float> ref;
      double direct_ms = 0, direct_cpu = 0;
      struct Variant {
        cpu::ConvWinograd mode;
        cpu::winograd::Isa isa;
        const char* name;
      };
      std::vector<Variant> variants{{cpu::ConvWinograd::Off, cpu::winograd::Isa::Avx2, "direct"}};
      for (auto i : isas) {
        const bool w512 = i == cpu::winograd::Isa::Avx512;
        if (only != "4") variants.push_back({cpu::ConvWinograd::F2, i, w512 ? "F(2,3) avx512" : "F(2,3)"});
        if (only != "2") variants.push_back({cpu::ConvWinograd::F4, i, w512 ? "F(4,3) avx512" : "F(4,3)"});
      }
      for (std::size_t vi = 0; vi < variants.size(); ++vi) {
        const Variant& V = variants[vi];
        cpu::set_conv_winograd(V.mode);
        cpu::winograd::set_isa(V.isa);
        std::vector<float> out(wgt ? wts.size() : static_cast<std::size_t>((fwd ? L.c_out : L.c_in) * vol));
        std::function<void()> run;
        if (fwd) run = [&] { cpu::conv3d_forward(cs, x.data(), wts.data(), b.data(), out.data()); };
        else if (wgt) run = [&] { cpu::conv3d_backward_weight(cs, x.data(), dy.data(), out.data(), nullptr); };
        else run = [&] { cpu::conv3d_backward_data(cs, dy.data(), wts.data(), out.data()); };
        run();
        std::vector<double> ms, cpu_ms;
        for (int r = 0; r < repeat; ++r) {
          const double c0 = bench::cpu_seconds();
          const auto t0 = std::chrono::steady_clock::now();
          run();
          ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
          cpu_ms.push_back(1e3 * (bench::cpu_seconds() - c0));
        }
        std::sort(ms.begin(), ms.end());
        std::sort(cpu_ms.begin(), cpu_ms.end());
        // CPU time: the least disturbed run (other processes on a shared machine only add to it)
        const double med = ms[ms.size() / 2], cpu_med = cpu_ms[0];
        total[vi] += med;
        total_cpu[vi] += cpu_med;
        if (vi == 0) {
          ref = out;
          direct_ms = med;
          direct_cpu = cpu_med;
        }
        const double gf = cs.flops() / 1e9 / (med / 1e3);
        char err[32] = "—";
        if (vi > 0) std::snprintf(err, sizeof err, "%.1e", bench::max_rel_diff(out, ref));
        std::printf("| %s | %s | %.1f | %s | %.1f | %.1f | %.0f | %.2f | %.0f | %.2f | %s | %s |\n", name, p, cs.flops() / 1e9,
                    V.name, med, gf, 100.0 * gf / peak, direct_ms / med, cpu_med, direct_cpu / cpu_med, err,
                    vi == 0 ? (rule == 0 ? "direct" : rule == 2 ? "F(2,3)" : "F(4,3)") : "");
        std::fflush(stdout);
      }
    }
  }
  cpu::set_conv_winograd(cpu::ConvWinograd::Auto);
  cpu::winograd::set_isa(cpu::winograd::Isa::Auto);
  std::printf("\ntotal ms (CPU ms) per variant, in the table's order:");
  for (int i = 0; i < 5; ++i)
    if (total[i] > 0) std::printf(" %.0f (%.0f)", total[i], total_cpu[i]);
  std::printf("\n");
  return 0;
}
