// bench/gpu/kernels.cpp — the bandwidth-bound kernels of the engine on a U-Net activation
// (1, 64, S, S, S), in GB/s against a device-to-device cudaMemcpy measured in the same run as the
// practical peak. Bytes are the minimum each op must move (every input read once, every output
// written once; batch norm's training passes read their input twice by design and are counted so).
//
// Each op is run once from fresh inputs with its outputs poisoned and compared with the CPU
// reference (relative error ≤ 1e-5 of max(|ref|, 1): exact ops are trivially inside, sums and
// transcendental functions within their rounding) before it is timed; a failed check prints FAIL and
// makes the exit status 1. Timings: median of CUDA-event timings after warm-up.
//
// Usage: gpu_kernels [--size S] [--reps N] [--warmup N]
#include <cstdlib>
#include <cstring>

#include "bench/gpu/gpu_bench.h"
#include "kernels/batchnorm.h"
#include "kernels/box.h"
#include "kernels/channels.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/maxpool.h"
#include "kernels/optim.h"
#include "kernels/reduce.h"

namespace sse::bench {
namespace {

using Arr = cuda::DeviceArray<float>;

struct Op {
  std::string name;
  double bytes;
  std::function<void()> reset;                // re-uploads inputs the op modifies (before the check)
  std::function<void()> run;                  // enqueues the op
  std::function<std::vector<float>()> got;    // the device result, on the host
  std::function<std::vector<float>()> want;   // the CPU reference
};

constexpr double kTolerance = 1e-5;

int run_all(index_t s, const Timing& t) {
  const index_t c = 64, vox = s * s * s, n = c * vox;
  const std::size_t un = static_cast<std::size_t>(n);
  const auto hx = random_floats(un, 1), hy = random_floats(un, 2), hz = random_floats(un, 3, 0.0f, 1.0f);
  Arr x(hx), y(hy), z(hz), out(un), out2(un);
  const auto host = [](const Arr& a) { return a.to_host(); };
  std::vector<Op> ops;
  auto noop = [] {};

  ops.push_back({"fill", 4.0 * n, noop, [&] { cuda::fill(out.get(), n, 1.5f, nullptr); }, [&] { return host(out); },
                 [&] { return std::vector<float>(un, 1.5f); }});
  ops.push_back({"unary relu", 8.0 * n, noop, [&] { cuda::unary(Unary::Relu, x.get(), out.get(), n, 0.0f, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::unary(Unary::Relu, hx.data(), r.data(), n, 0.0f);
                   return r;
                 }});
  ops.push_back({"unary exp", 8.0 * n, noop, [&] { cuda::unary(Unary::Exp, x.get(), out.get(), n, 0.0f, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::unary(Unary::Exp, hx.data(), r.data(), n, 0.0f);
                   return r;
                 }});
  ops.push_back({"binary add", 12.0 * n, noop,
                 [&] { cuda::binary(Binary::Add, x.get(), y.get(), out.get(), n, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::binary(Binary::Add, hx.data(), hy.data(), r.data(), n);
                   return r;
                 }});
  ops.push_back({"axpby", 12.0 * n, [&] { out.upload(hy); },
                 [&] { cuda::axpby(0.5f, x.get(), 0.25f, out.get(), n, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r = hy;
                   cpu::axpby(0.5f, hx.data(), 0.25f, r.data(), n);
                   return r;
                 }});
  const DropoutParams dp{0.5f, 42, 3};
  ops.push_back({"dropout", 8.0 * n, noop, [&] { cuda::dropout_forward(dp, x.get(), out.get(), n, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::dropout_forward(dp, hx.data(), r.data(), n);
                   return r;
                 }});
  const AdamStep as{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, false, 5};
  Arr v(hz);  // Adam's second moment: its own array, since the step rewrites it
  ops.push_back({"adam step", 28.0 * n, [&] { out.upload(hx); out2.upload(hz); v.upload(hz); },
                 [&] { cuda::adam_step(as, out.get(), y.get(), out2.get(), v.get(), n, nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> th = hx, m = hz, v = hz;
                   cpu::adam_step(as, th.data(), hy.data(), m.data(), v.data(), n);
                   return th;
                 }});
  const SgdStep sg{0.1f, 0.9f, 0.01f};
  ops.push_back({"sgd step", 20.0 * n, [&] { out.upload(hx); out2.upload(hz); },
                 [&] { cuda::sgd_step(sg, out.get(), y.get(), out2.get(), n, nullptr); }, [&] { return host(out); },
                 [&] {
                   std::vector<float> th = hx, b = hz;
                   cpu::sgd_step(sg, th.data(), hy.data(), b.data(), n);
                   return th;
                 }});
  ops.push_back({"sum_all", 4.0 * n, noop, [&] { cuda::sum_all(x.get(), n, out.get(), nullptr); },
                 [&] { return std::vector<float>{host(out)[0]}; }, [&] {
                   float r = 0.0f;
                   cpu::sum_all(hx.data(), n, &r);
                   return std::vector<float>{r};
                 }});
  ops.push_back({"sum_mid (per channel)", 4.0 * n, noop, [&] { cuda::sum_mid(x.get(), 1, c, vox, out.get(), nullptr); },
                 [&] {
                   auto h = host(out);
                   h.resize(static_cast<std::size_t>(c));
                   return h;
                 },
                 [&] {
                   std::vector<float> r(static_cast<std::size_t>(c));
                   cpu::sum_mid(hx.data(), 1, c, vox, r.data());
                   return r;
                 }});
  ops.push_back({"broadcast_rows", 4.0 * n, noop,
                 [&] { cuda::broadcast_rows(x.get(), c, vox, 2.0f, out.get(), nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::broadcast_rows(hx.data(), c, vox, 2.0f, r.data());
                   return r;
                 }});
  // Concat's forward half: 32 channels into a 64-channel tensor at offset 32.
  const ChannelCopy cc{1, c / 2, c, c / 2, vox};
  ops.push_back({"copy_channels", 4.0 * n, [&] { out.upload(hy); },
                 [&] { cuda::copy_channels(cc, x.get(), out.get(), nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r = hy;
                   cpu::copy_channels(cc, hx.data(), r.data());
                   return r;
                 }});
  const index_t sv = n / 3;  // three classes over as many voxels as fit
  ops.push_back({"softmax (3 classes)", 8.0 * 3 * sv, noop,
                 [&] { cuda::softmax_channels(1, 3, sv, x.get(), out.get(), nullptr); },
                 [&] {
                   auto h = host(out);
                   h.resize(static_cast<std::size_t>(3 * sv));
                   return h;
                 },
                 [&] {
                   std::vector<float> r(static_cast<std::size_t>(3 * sv));
                   cpu::softmax_channels(1, 3, sv, hx.data(), r.data());
                   return r;
                 }});
  ops.push_back({"softmax backward", 12.0 * 3 * sv, noop,
                 [&] { cuda::softmax_channels_backward(1, 3, sv, z.get(), y.get(), out.get(), nullptr); },
                 [&] {
                   auto h = host(out);
                   h.resize(static_cast<std::size_t>(3 * sv));
                   return h;
                 },
                 [&] {
                   std::vector<float> r(static_cast<std::size_t>(3 * sv));
                   cpu::softmax_channels_backward(1, 3, sv, hz.data(), hy.data(), r.data());
                   return r;
                 }});
  // Pad by one voxel on each side of 64 planes of (s−2)³: the U-Net's pad/crop.
  const index_t si = s - 2;
  const BoxCopy box{c, si, si, si, s, s, s, -1, -1, -1};
  ops.push_back({"box_copy (pad)", 4.0 * c * (si * si * si + vox), noop,
                 [&] { cuda::box_copy(box, x.get(), out.get(), nullptr); },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   cpu::box_copy(box, hx.data(), r.data());
                   return r;
                 }});
  const Pool3dShape ps{1, c, s, s, s};
  cuda::DeviceArray<std::int32_t> idx(un / 8);
  ops.push_back({"maxpool forward", 4.0 * n * (1.0 + 2.0 / 8), noop,
                 [&] { cuda::maxpool3d_forward(ps, x.get(), out.get(), idx.get(), nullptr); },
                 [&] {
                   auto h = host(out);
                   h.resize(un / 8);
                   return h;
                 },
                 [&] {
                   std::vector<float> r(un / 8);
                   std::vector<std::int32_t> ri(un / 8);
                   cpu::maxpool3d_forward(ps, hx.data(), r.data(), ri.data());
                   return r;
                 }});
  ops.push_back({"maxpool backward", 4.0 * n * (1.0 + 2.0 / 8), noop,
                 [&] { cuda::maxpool3d_backward(ps, y.get(), idx.get(), out.get(), nullptr); },
                 [&] { return host(out); },
                 [&] {
                   std::vector<float> py(un / 8), r(un);
                   std::vector<std::int32_t> ri(un / 8);
                   cpu::maxpool3d_forward(ps, hx.data(), py.data(), ri.data());
                   cpu::maxpool3d_backward(ps, hy.data(), ri.data(), r.data());
                   return r;
                 }});
  const BatchNormShape bs{1, c, vox};
  const BatchNormParams bp{};
  const std::vector<float> ones(static_cast<std::size_t>(c), 1.0f), zeros(static_cast<std::size_t>(c), 0.0f);
  Arr gamma(ones), beta(zeros), rmean(zeros), rvar(ones), smean(zeros), sinv(ones), dg(zeros), db(zeros);
  // Train mode as the U-Net runs it: the ReLU fused (kernels/batchnorm.h).
  ops.push_back({"batchnorm train forward + relu", 12.0 * n, [&] { rmean.upload(zeros); rvar.upload(ones); },
                 [&] {
                   cuda::batchnorm_forward_train(bs, bp, x.get(), gamma.get(), beta.get(), rmean.get(), rvar.get(),
                                                 true, out.get(), smean.get(), sinv.get(), nullptr);
                 },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un), rm = zeros, rv = ones, m(zeros.size()), iv(zeros.size());
                   cpu::batchnorm_forward_train(bs, bp, hx.data(), ones.data(), zeros.data(), rm.data(), rv.data(),
                                                true, r.data(), m.data(), iv.data());
                   return r;
                 }});
  ops.push_back({"batchnorm eval + relu", 8.0 * n, noop,
                 [&] {
                   cuda::batchnorm_forward_eval(bs, bp, x.get(), gamma.get(), beta.get(), smean.get(), sinv.get(), true,
                                                out.get(), nullptr);
                 },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un);
                   const auto m = smean.to_host(), iv = sinv.to_host();
                   cpu::batchnorm_forward_eval(bs, bp, hx.data(), ones.data(), zeros.data(), m.data(), iv.data(), true,
                                               r.data());
                   return r;
                 }});
  ops.push_back({"batchnorm train backward + relu", 20.0 * n, noop,
                 [&] {
                   cuda::batchnorm_backward_train(bs, x.get(), y.get(), gamma.get(), beta.get(), smean.get(), sinv.get(),
                                                  true, out.get(), dg.get(), db.get(), nullptr);
                 },
                 [&] { return host(out); }, [&] {
                   std::vector<float> r(un), g(ones.size()), b(ones.size());
                   const auto m = smean.to_host(), iv = sinv.to_host();
                   cpu::batchnorm_backward_train(bs, hx.data(), hy.data(), ones.data(), zeros.data(), m.data(),
                                                 iv.data(), true, r.data(), g.data(), b.data());
                   return r;
                 }});

  // The practical peak: a device-to-device copy of the same size (bytes read + written).
  const double copy_ms = median_ms(
      [&] {
        SSE_CUDA_CHECK(cudaMemcpyAsync(out.get(), x.get(), un * sizeof(float), cudaMemcpyDeviceToDevice, nullptr));
      },
      t);
  const double peak = 2.0 * n * sizeof(float) / (copy_ms * 1e-3) / 1e9;

  std::printf("\n### Bandwidth-bound kernels, (1, %lld, %lld³) floats = %.0f MB\n\n", static_cast<long long>(c),
              static_cast<long long>(s), 4.0 * n / 1e6);
  std::printf("Peak: device-to-device cudaMemcpy, %.3f ms, %.0f GB/s (read + write).\n\n", copy_ms, peak);
  const Table table({"kernel", "MB moved", "ms", "GB/s", "% of copy", "check"});
  bool all_ok = true;
  for (const Op& op : ops) {
    out.poison();  // before reset: some ops take their input in `out` (in-place updates)
    op.reset();
    op.run();
    const double err = worst_error(op.got(), op.want(), 1.0);
    const bool ok = err <= kTolerance;
    all_ok = all_ok && ok;
    if (!ok) {
      table.row({op.name, fmt(op.bytes / 1e6, 0), "FAIL", "—", "—", "error " + fmt(err, 8)});
      continue;
    }
    const double ms = median_ms(op.run, t), gbs = op.bytes / (ms * 1e-3) / 1e9;
    table.row({op.name, fmt(op.bytes / 1e6, 0), fmt(ms, 3), fmt(gbs, 0), fmt(100.0 * gbs / peak, 0), "ok"});
  }
  std::printf("\nchecks: %s\n", all_ok ? "all results verified" : "SOME RESULTS FAILED VERIFICATION");
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace sse::bench

int main(int argc, char** argv) {
  using namespace sse::bench;
  sse::index_t size = 64;
  Timing t{3, 20};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) size = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) t.reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) t.warmup = std::atoi(argv[i + 1]);
  }
  try {
    std::printf("## GPU bandwidth-bound kernels — %s — %s\n", device_description().c_str(), today().c_str());
    return run_all(size, t);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_kernels: %s\n", e.what());
    return 2;
  }
}
