// bench/gpu/conv_layers.cpp — the convolution layers of the default U-Net (width 64, 3 levels,
// batch 1) at input sizes S = 64 and 96: forward, backward data and backward weight, our SIMT fp32,
// TF32 and BF16 tensor-core kernels against cuDNN measured in the same run (cuDNN fp32 with
// CUDNN_FMA_MATH as the peer of SIMT, cuDNN with TF32 allowed as the peer of the tensor-core
// kernels). Prints a Markdown table: median ms of CUDA-event timings after warm-up, TFLOP/s
// (2·MACs), and the ratio cuDNN time / our time (≥ 1 means we are faster). The engine's default
// choices (Auto) are timed beside the kernels they replace or may replace: every pass of the k = 3
// layers in TF32 on the generic implicit GEMM (set_wx_impl / set_wgrad_impl(Igemm): wmma, the
// kernels before the brick kernels), weight gradients in SIMT on it too, and forward / backward data
// on the brick kernel's SIMT twin (set_wx_impl(Brick), not yet the SIMT default); the summary has
// rows per pass group.
//
// Every result is checked before it is timed, against cuDNN fp32 (or the CPU reference when the
// build has no cuDNN; the CPU also checks the transposed convolutions), relative to
// max(|ref|, RMS(ref)): fp32 within 1e-4, TF32 within 5.5e-3, BF16 within 4.4e-2 (the kernel tests'
// tolerances). A failed check prints FAIL in place of the time and makes the exit status 1.
//
// Usage: gpu_conv_layers [--sizes 64,96] [--reps N] [--warmup N]
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "bench/gpu/gpu_bench.h"
#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#if defined(SSE_HAVE_CUDNN)
#include "kernels/cuda/conv3d_cudnn.cuh"
#endif

namespace sse::bench {
namespace {

enum class Dir { Fwd, BwdData, BwdWeight };
const char* dir_name(Dir d) { return d == Dir::Fwd ? "fwd" : d == Dir::BwdData ? "bwd-data" : "bwd-weight"; }

// One way to compute a convolution: our engine at some precision (and weight-gradient kernel), or
// cuDNN with some math mode.
struct Variant {
  const char* name;
  ConvAlgo algo;
  bool tf32_peer;   // cuDNN only: allow TF32
  double tolerance; // against the fp32 reference, relative to max(|ref|, RMS)
  cuda::WgradImpl wgrad = cuda::WgradImpl::Auto;
  cuda::WxImpl wx = cuda::WxImpl::Auto;
};
const Variant kSimt{"SIMT", ConvAlgo::Simt, false, 1e-4};
const Variant kTf32{"TF32", ConvAlgo::TensorTF32, false, 5.5e-3};
const Variant kBf16{"BF16", ConvAlgo::TensorBF16, false, 4.4e-2};
const Variant kCudnnFp32{"cuDNN fp32", ConvAlgo::Cudnn, false, 1e-4};
const Variant kCudnnTf32{"cuDNN tf32", ConvAlgo::Cudnn, true, 5.5e-3};
// Every pass on the generic implicit GEMM (before the brick kernels), for comparison, and forward /
// backward data on the brick kernel's SIMT twin.
const Variant kSimtIgemm{"SIMT igemm", ConvAlgo::Simt, false, 1e-4, cuda::WgradImpl::Igemm, cuda::WxImpl::Igemm};
const Variant kTf32Igemm{"TF32 igemm", ConvAlgo::TensorTF32, false, 5.5e-3, cuda::WgradImpl::Igemm,
                         cuda::WxImpl::Igemm};
const Variant kSimtBrick{"SIMT brick", ConvAlgo::Simt, false, 1e-4, cuda::WgradImpl::Auto, cuda::WxImpl::Brick};

void select(const Variant& v) {
#if defined(SSE_HAVE_CUDNN)
  if (v.algo == ConvAlgo::Cudnn) cuda::set_cudnn_conv_options({v.tf32_peer, /*deterministic=*/false});
#endif
  cuda::set_conv_algo(v.algo);
  cuda::set_wgrad_impl(v.wgrad);
  cuda::set_wx_impl(v.wx);
}

bool have_cudnn() {
#if defined(SSE_HAVE_CUDNN)
  return true;
#else
  return false;
#endif
}

struct Layer {
  std::string name;
  bool transposed;
  Conv3dShape c;   // when !transposed
  ConvT3dShape t;  // when transposed
  double flops() const { return transposed ? t.flops() : c.flops(); }
};

std::vector<Layer> unet_layers(index_t s) {
  auto conv = [&](index_t ci, index_t co, index_t size, int k) {
    return Layer{"conv" + std::to_string(k) + " " + std::to_string(ci) + "→" + std::to_string(co) + " @" +
                     std::to_string(size),
                 false, Conv3dShape{1, ci, co, size, size, size, k}, ConvT3dShape{}};
  };
  auto up = [&](index_t ci, index_t co, index_t size) {
    return Layer{"convT " + std::to_string(ci) + "→" + std::to_string(co) + " @" + std::to_string(size) + "→" +
                     std::to_string(2 * size),
                 true, Conv3dShape{}, ConvT3dShape{1, ci, co, size, size, size}};
  };
  return {conv(1, 32, s, 3),       conv(32, 64, s, 3),      conv(64, 64, s / 2, 3),  conv(64, 128, s / 2, 3),
          conv(128, 128, s / 4, 3), conv(128, 256, s / 4, 3), up(256, 256, s / 4),     conv(384, 128, s / 2, 3),
          conv(128, 128, s / 2, 3), up(128, 128, s / 2),      conv(192, 64, s, 3),     conv(64, 64, s, 3),
          conv(64, 3, s, 1)};
}

// Device tensors of one layer and the call that runs one pass of it.
struct LayerData {
  const Layer& l;
  cuda::DeviceArray<float> x, w, b, dy, y, dx, dw, db;

  static std::size_t n_x(const Layer& l) {
    return static_cast<std::size_t>(l.transposed ? l.t.c_in * l.t.in_voxels() : l.c.c_in * l.c.voxels());
  }
  static std::size_t n_y(const Layer& l) {
    return static_cast<std::size_t>(l.transposed ? l.t.c_out * l.t.out_voxels() : l.c.c_out * l.c.voxels());
  }
  static std::size_t n_w(const Layer& l) {
    return static_cast<std::size_t>(l.transposed ? l.t.c_in * l.t.c_out * 8 : l.c.c_out * l.c.c_in * l.c.kvol());
  }
  static std::size_t n_b(const Layer& l) { return static_cast<std::size_t>(l.transposed ? l.t.c_out : l.c.c_out); }

  explicit LayerData(const Layer& layer)
      : l(layer), x(random_floats(n_x(layer), 1)), w(random_floats(n_w(layer), 2, -0.1f, 0.1f)),
        b(random_floats(n_b(layer), 3)), dy(random_floats(n_y(layer), 4)), y(n_y(layer)), dx(n_x(layer)),
        dw(n_w(layer)), db(n_b(layer)) {}

  cuda::DeviceArray<float>& out(Dir d) { return d == Dir::Fwd ? y : d == Dir::BwdData ? dx : dw; }

  void run(Dir d) {
    if (l.transposed) {
      if (d == Dir::Fwd) cuda::conv_transpose3d_forward(l.t, x.get(), w.get(), b.get(), y.get(), nullptr);
      if (d == Dir::BwdData) cuda::conv_transpose3d_backward_data(l.t, dy.get(), w.get(), dx.get(), nullptr);
      if (d == Dir::BwdWeight)
        cuda::conv_transpose3d_backward_weight(l.t, x.get(), dy.get(), dw.get(), db.get(), nullptr);
      return;
    }
    if (d == Dir::Fwd) cuda::conv3d_forward(l.c, x.get(), w.get(), b.get(), y.get(), nullptr);
    if (d == Dir::BwdData) cuda::conv3d_backward_data(l.c, dy.get(), w.get(), dx.get(), nullptr);
    if (d == Dir::BwdWeight) cuda::conv3d_backward_weight(l.c, x.get(), dy.get(), dw.get(), db.get(), nullptr);
  }

  // The CPU's result of pass d (the reference where cuDNN is not available).
  std::vector<float> cpu_reference(Dir d) {
    const auto hx = x.to_host(), hw = w.to_host(), hb = b.to_host(), hdy = dy.to_host();
    std::vector<float> r(out(d).size()), rdb(hb.size());
    if (l.transposed) {
      if (d == Dir::Fwd) cpu::conv_transpose3d_forward(l.t, hx.data(), hw.data(), hb.data(), r.data());
      if (d == Dir::BwdData) cpu::conv_transpose3d_backward_data(l.t, hdy.data(), hw.data(), r.data());
      if (d == Dir::BwdWeight) cpu::conv_transpose3d_backward_weight(l.t, hx.data(), hdy.data(), r.data(), rdb.data());
    } else {
      if (d == Dir::Fwd) cpu::conv3d_forward(l.c, hx.data(), hw.data(), hb.data(), r.data());
      if (d == Dir::BwdData) cpu::conv3d_backward_data(l.c, hdy.data(), hw.data(), r.data());
      if (d == Dir::BwdWeight) cpu::conv3d_backward_weight(l.c, hx.data(), hdy.data(), r.data(), rdb.data());
    }
    return r;
  }
};

struct Measured {
  double ms = NAN;
  bool ok = true;
};

// Poisons the output, runs once, checks against `ref`, then times.
Measured measure(LayerData& ld, Dir d, const Variant& v, const std::vector<float>& ref, double floor,
                 const Timing& t) {
  select(v);
  ld.out(d).poison();
  ld.run(d);
  const double err = worst_error(ld.out(d).to_host(), ref, floor);
  if (!(err <= v.tolerance)) {
    std::fprintf(stderr, "FAIL %s %s %s: worst relative error %.3g > %.3g\n", ld.l.name.c_str(), dir_name(d), v.name,
                 err, v.tolerance);
    return Measured{NAN, false};
  }
  return Measured{median_ms([&] { ld.run(d); }, t), true};
}

std::string cell_ms(const Measured& m) { return m.ok ? fmt(m.ms, 3) : "FAIL"; }
std::string cell_tflops(const Measured& m, double flops) { return m.ok ? fmt(flops / (m.ms * 1e-3) / 1e12, 1) : "—"; }
std::string cell_ratio(const Measured& ours, const Measured& peer) {
  return ours.ok && peer.ok && !std::isnan(peer.ms) ? fmt(peer.ms / ours.ms, 2) : "—";
}

struct Summary {
  std::map<std::string, double> log_ratio_sum;
  std::map<std::string, int> count;
  std::map<std::string, double> total_ms;
  bool all_ok = true;
  // Counts a row only where both times exist, so totals of a comparison cover the same rows.
  void add(const std::string& key, const Measured& ours, const Measured& peer) {
    if (!ours.ok || !peer.ok || std::isnan(ours.ms) || std::isnan(peer.ms)) return;
    total_ms[key] += ours.ms;
    log_ratio_sum[key] += std::log(peer.ms / ours.ms);
    ++count[key];
  }
};

void bench_size(index_t s, const Timing& t, Summary& sum) {
  std::printf("\n### Convolution layers, S = %lld (batch 1)\n\n", static_cast<long long>(s));
  const Table table({"layer", "pass", "GFLOP", "SIMT ms", "SIMT TFLOP/s", "cuDNN fp32 ms", "SIMT vs cuDNN", "TF32 ms",
                     "TF32 TFLOP/s", "BF16 ms", "cuDNN tf32 ms", "TF32 vs cuDNN", "BF16 vs cuDNN", "SIMT igemm ms",
                     "SIMT brick ms", "TF32 igemm ms"});
  for (const Layer& l : unet_layers(s)) {
    LayerData ld(l);
    for (Dir d : {Dir::Fwd, Dir::BwdData, Dir::BwdWeight}) {
      const bool peers = have_cudnn() && !l.transposed;
      // Reference: cuDNN fp32 where it applies (fast), else the CPU.
      std::vector<float> ref;
      if (peers) {
        select(kCudnnFp32);
        ld.run(d);
        ref = ld.out(d).to_host();
      } else {
        ref = ld.cpu_reference(d);
      }
      const double floor = rms(ref);
      const bool wg = d == Dir::BwdWeight;
      const bool tensor = !l.transposed || wg;  // the transposed convolution has tensor cores in dw only
      const bool brick3 = !l.transposed && l.c.k == 3;  // the brick kernels serve k = 3
      const Measured simt = measure(ld, d, kSimt, ref, floor, t);
      Measured tf32, bf16, cf32, ctf32, simt_igemm, simt_brick, tf32_igemm;
      if (tensor) {
        tf32 = measure(ld, d, kTf32, ref, floor, t);
        bf16 = measure(ld, d, kBf16, ref, floor, t);
      }
      if (wg) simt_igemm = measure(ld, d, kSimtIgemm, ref, floor, t);
      if (!wg && brick3) simt_brick = measure(ld, d, kSimtBrick, ref, floor, t);
      if (brick3) tf32_igemm = measure(ld, d, kTf32Igemm, ref, floor, t);
      if (peers) {
        cf32 = measure(ld, d, kCudnnFp32, ref, floor, t);
        ctf32 = measure(ld, d, kCudnnTf32, ref, floor, t);
      }
      sum.all_ok = sum.all_ok && simt.ok && tf32.ok && bf16.ok && cf32.ok && ctf32.ok && simt_igemm.ok &&
                   simt_brick.ok && tf32_igemm.ok;
      sum.add("SIMT vs cuDNN fp32", simt, cf32);
      sum.add("TF32 vs cuDNN tf32", tf32, ctf32);
      sum.add("BF16 vs cuDNN tf32", bf16, ctf32);
      sum.add("cuDNN fp32", cf32, cf32);
      sum.add("cuDNN tf32", ctf32, ctf32);
      if (wg) {
        sum.add("bwd-weight: SIMT vs cuDNN fp32", simt, cf32);
        sum.add("bwd-weight: SIMT igemm vs cuDNN fp32", simt_igemm, cf32);
        sum.add("bwd-weight: TF32 vs cuDNN tf32", tf32, ctf32);
        sum.add("bwd-weight: TF32 igemm vs cuDNN tf32", tf32_igemm, ctf32);
        sum.add("bwd-weight: BF16 vs cuDNN tf32", bf16, ctf32);
        sum.add("bwd-weight: SIMT vs SIMT igemm", simt, simt_igemm);
      } else {
        sum.add("fwd+bwd-data: SIMT vs cuDNN fp32", simt, cf32);
        sum.add("fwd+bwd-data: SIMT brick vs cuDNN fp32", simt_brick, cf32);
        sum.add("fwd+bwd-data: TF32 vs cuDNN tf32", tf32, ctf32);
        sum.add("fwd+bwd-data: TF32 igemm vs cuDNN tf32", tf32_igemm, ctf32);
        sum.add("fwd+bwd-data: BF16 vs cuDNN tf32", bf16, ctf32);
        sum.add("fwd+bwd-data: TF32 vs TF32 igemm", tf32, tf32_igemm);
      }
      const double f = l.flops();
      table.row({l.name, dir_name(d), fmt(f / 1e9, 1), cell_ms(simt), cell_tflops(simt, f),
                 peers ? cell_ms(cf32) : "—", cell_ratio(simt, cf32), tensor ? cell_ms(tf32) : "—",
                 tensor ? cell_tflops(tf32, f) : "—", tensor ? cell_ms(bf16) : "—", peers ? cell_ms(ctf32) : "—",
                 cell_ratio(tf32, ctf32), cell_ratio(bf16, ctf32), wg ? cell_ms(simt_igemm) : "—",
                 !wg && brick3 ? cell_ms(simt_brick) : "—", brick3 ? cell_ms(tf32_igemm) : "—"});
    }
  }
  select(kSimt);
}

std::vector<index_t> parse_sizes(const char* s) {
  std::vector<index_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoll(item.c_str()));
  return v;
}

}  // namespace
}  // namespace sse::bench

int main(int argc, char** argv) {
  using namespace sse::bench;
  std::vector<sse::index_t> sizes{64, 96};
  Timing t{3, 10};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) sizes = parse_sizes(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) t.reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) t.warmup = std::atoi(argv[i + 1]);
  }
  try {
    std::printf("## GPU convolution layers — %s — %s\n", device_description().c_str(), today().c_str());
    std::printf("\nMedian of %d CUDA-event timings after %d warm-ups; ratios are cuDNN time / our time.\n", t.reps,
                t.warmup);
    Summary sum;
    for (sse::index_t s : sizes) bench_size(s, t, sum);
    std::printf("\n### Summary\n\n");
    const Table table({"comparison", "layers×passes", "geometric-mean ratio", "total ms (ours)"});
    for (const auto& [key, n] : sum.count) {
      if (key.rfind("cuDNN", 0) == 0) continue;
      table.row({key, std::to_string(n), fmt(std::exp(sum.log_ratio_sum[key] / n), 2), fmt(sum.total_ms[key], 2)});
    }
    for (const char* peer : {"cuDNN fp32", "cuDNN tf32"})
      if (sum.total_ms.count(peer)) table.row({std::string(peer) + " (peer)", "", "", fmt(sum.total_ms[peer], 2)});
    std::printf("\nchecks: %s\n", sum.all_ok ? "all results verified" : "SOME RESULTS FAILED VERIFICATION");
    return sum.all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_conv_layers: %s\n", e.what());
    return 2;
  }
}
