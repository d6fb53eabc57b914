// bench/unet_timing.cpp — times sseunet's U-Net like bench/pytorch_unet.py times PyTorch's, so the two
// can run side by side (bench/side_by_side.sh) and be compared as a ratio.
//
//   unet_timing --mode infer --size 88 92 92 --width 64 [--device cpu|cuda] [--threads N] [--repeat 5]
//   unet_timing --mode train --size 64 64 64 [--device cuda --precision bf16 --wgrad igemm --wx igemm --profile]
//               [--bf16-activations off]
//   unet_timing --mode train --size 64 64 64 [--winograd auto|off|f2|f4] [--winograd-isa auto|avx2|avx512]
// infer: eval-mode forward under NoGradGuard + softmax; train: one FCE_DL(γ=5) step with Adam.
// Prints one JSON line with the median and every timing in ms, wall clock and process CPU time
// (all threads; on a machine shared with other work the CPU time measures the work done, where the
// wall time also counts the time slices other processes took), and on CUDA the peak of live device
// memory over the timed runs (peak_mib).
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/precision.h"
#include "engine/profiler.h"
#include "engine/storage.h"
#include "kernels/conv3d.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_winograd.h"
#include "losses/loss.h"
#include "net/unet3d.h"

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#endif


namespace {

struct Options {
  std::string mode = "infer", device = "cpu", precision = "fp32", wgrad = "auto", wx = "auto";
  std::vector<int> size{88, 92, 92};
  int width = 64, threads = 0, repeat = 5, warmup = 1;
  bool profile = false;
  std::string bf16_activations = "on";  // under --precision bf16 on CUDA: activations stored as bfloat16
  std::string winograd = "auto", isa = "auto";  // CPU 3×3×3 convolutions
};

int time_unet(const Options& o);

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sseunet U-Net timing (the counterpart of bench/pytorch_unet.py)"};
  Options o;
  app.add_option("--mode", o.mode)->check(CLI::IsMember({"infer", "train"}));
  app.add_option("--size", o.size)->expected(3);
  app.add_option("--width", o.width);
  app.add_option("--device", o.device);
  app.add_option("--threads", o.threads);
  app.add_option("--repeat", o.repeat);
  app.add_option("--warmup", o.warmup);
  app.add_flag("--profile", o.profile, "print per-op times of the timed runs");
  app.add_option("--winograd", o.winograd, "CPU 3×3×3 convolutions: auto (the measured rule), off (direct), f2, f4")
      ->check(CLI::IsMember({"auto", "off", "f2", "f4"}));
  app.add_option("--winograd-isa", o.isa, "vector kernels of the CPU Winograd convolution: auto, avx2, avx512")
      ->check(CLI::IsMember({"auto", "avx2", "avx512"}));
  app.add_option("--precision", o.precision, "CUDA convolution: fp32 (SIMT), tf32, bf16 (tensor cores), cudnn")
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "cudnn"}));
  app.add_option("--wgrad", o.wgrad, "CUDA weight-gradient kernel: auto, igemm (the generic implicit GEMM), brick")
      ->check(CLI::IsMember({"auto", "igemm", "brick"}));
  app.add_option("--wx", o.wx,
                 "CUDA kernel of the 3×3×3 forward and backward data: auto (brick under tf32/bf16), igemm (the "
                 "implicit GEMM), brick")
      ->check(CLI::IsMember({"auto", "igemm", "brick"}));
  app.add_option("--bf16-activations", o.bf16_activations,
                 "under --precision bf16 on CUDA: store the training step's activations as bfloat16 (on, the "
                 "default) or float32 (off: the same values, twice the bytes)")
      ->check(CLI::IsMember({"on", "off"}));
  CLI11_PARSE(app, argc, argv);
  try {
    return time_unet(o);
  } catch (const std::exception& e) {
    std::cerr << "unet_timing: " << e.what() << "\n";
    return 1;
  }
}

namespace {

int time_unet(const Options& o) {
  using namespace sse;
  const std::string &mode = o.mode, &precision = o.precision;
  const std::vector<int>& size = o.size;
  const int width = o.width, repeat = o.repeat, warmup = o.warmup;
  const bool profile = o.profile;
  if (o.threads > 0) {
    cpu::set_num_threads(o.threads);
  }
  cpu::set_conv_winograd(o.winograd == "off" ? cpu::ConvWinograd::Off
                         : o.winograd == "f2" ? cpu::ConvWinograd::F2
                         : o.winograd == "f4" ? cpu::ConvWinograd::F4
                                              : cpu::ConvWinograd::Auto);
  if (o.isa != "auto") cpu::winograd::set_isa(o.isa == "avx2" ? cpu::winograd::Isa::Avx2 : cpu::winograd::Isa::Avx512);
  const Device dev = Device::parse(o.device);
  if (dev.is_cuda()) set_precision(parse_precision(precision));
  set_bf16_activations(o.bf16_activations == "on");
#if SSE_WITH_CUDA
  cuda::set_wgrad_impl(o.wgrad == "igemm"   ? cuda::WgradImpl::Igemm
                       : o.wgrad == "brick" ? cuda::WgradImpl::Brick
                                            : cuda::WgradImpl::Auto);
  cuda::set_wx_impl(o.wx == "igemm" ? cuda::WxImpl::Igemm : o.wx == "brick" ? cuda::WxImpl::Brick : cuda::WxImpl::Auto);
#endif
  net::UNetConfig cfg;
  cfg.width = width;
  net::UNet3d net(cfg, 0);
  net.to(dev);
  Generator g(1);
  Tensor x = Tensor::empty(Shape{1, 1, size[0], size[1], size[2]});
  fill_normal(x, 0.0f, 1.0f, g);
  x = x.to(dev);
  std::vector<std::int32_t> lab(static_cast<std::size_t>(x.numel()));
  for (std::size_t i = 0; i < lab.size(); ++i) lab[i] = static_cast<std::int32_t>((i * 2654435761u >> 7) % 3);
  Tensor labels = Tensor::from_vector(lab, Shape{1, size[0], size[1], size[2]}, dev);
  losses::LossConfig lc;
  lc.name = "fce_dl";
  lc.gamma = 5.0f;
  auto loss = losses::make_loss(lc);
  AdamOptions ao;
  ao.weight_decay = 0.01f;
  Adam adam(net.parameters(), ao);

  auto sync = [&] {
#if SSE_WITH_CUDA
    if (dev.is_cuda()) cuda_synchronize(dev);
#endif
  };
  auto run = [&] {
    if (mode == "infer") {
      net.eval();
      NoGradGuard ng;
      ops::softmax_channels(net.forward(x));
    } else {
      net.train();
      adam.zero_grad();
      loss->forward(net.forward(x), labels).backward();
      adam.step();
    }
    sync();
  };
  for (int i = 0; i < warmup; ++i) run();
#if SSE_WITH_CUDA
  if (dev.is_cuda()) cuda_reset_peak(dev);
#endif
  set_profiling(profile);
  std::vector<double> times, cpu_times;
  auto process_cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
  };
  for (int i = 0; i < repeat; ++i) {
    const double c0 = process_cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    cpu_times.push_back(process_cpu_ms() - c0);
    if (profile) {
      const CpuMemoryStats m = cpu_memory_stats();
      std::cerr << "cpu memory: live " << (m.live_bytes >> 20) << " MiB, peak " << (m.peak_bytes >> 20) << " MiB, cached "
                << (m.cached_bytes >> 20) << " MiB, system allocations " << m.system_allocs << "\n";
    }
  }
  double peak_mib = 0.0;
#if SSE_WITH_CUDA
  if (dev.is_cuda()) peak_mib = static_cast<double>(cuda_memory_stats(dev).peak_bytes) / (1 << 20);
#endif
  std::vector<double> sorted = times, cpu_sorted = cpu_times;
  std::sort(sorted.begin(), sorted.end());
  std::sort(cpu_sorted.begin(), cpu_sorted.end());
  const nlohmann::json out{{"impl", "sseunet"}, {"mode", mode}, {"device", dev.str()}, {"width", width},
                           {"shape", size}, {"threads", omp_get_max_threads()}, {"precision", precision},
                           {"wgrad", o.wgrad}, {"wx", o.wx}, {"bf16_activations", o.bf16_activations},
                           {"peak_mib", peak_mib},
                           {"median_ms", sorted[sorted.size() / 2]}, {"times_ms", times},
                           {"median_cpu_ms", cpu_sorted[cpu_sorted.size() / 2]}, {"cpu_times_ms", cpu_times},
                           {"winograd", o.winograd}};
  std::cout << out.dump() << std::endl;
  if (profile) std::cerr << profile_report();
  return 0;
}

}  // namespace
