// Synchronized train-mode batch norm over the ranks of a dist::Comm (contract in engine/ops.h,
// kernels in kernels/batchnorm.h). The few doubles per channel that the ranks exchange go through
// host memory (a synchronization on CUDA, per batch-norm layer and direction).
#include <vector>

#include "engine/dispatch.h"
#include "engine/distributed.h"
#include "engine/ops.h"

namespace sse::ops {
namespace {

thread_local dist::Comm* t_sync = nullptr;

// A device buffer of n doubles (the engine's tensors are float: two floats per double; storage is
// at least 64-byte aligned).
Tensor doubles(index_t n, Device dev) { return Tensor::empty(Shape{2 * n}, DType::F32, dev); }
double* as_doubles(const Tensor& t) { return static_cast<double*>(t.raw()); }

std::vector<double> to_host(const Tensor& buf, index_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  copy_bytes(v.data(), Device::cpu(), buf.raw(), buf.device(), v.size() * sizeof(double));
  return v;
}

// Every rank's (count, mean, M2) per channel merged in rank order: the same on every rank.
std::vector<double> merged_moments(dist::Comm& comm, const std::vector<double>& mine, index_t c) {
  const std::size_t n = mine.size();
  std::vector<double> all(n * static_cast<std::size_t>(comm.size())), out(n);
  comm.allgather(mine.data(), n, all.data());
  for (index_t k = 0; k < c; ++k) {
    BnMoments<double> t{0.0, 0.0, 0.0};
    for (int r = 0; r < comm.size(); ++r) {
      const double* m = all.data() + static_cast<std::size_t>(r) * n + 3 * k;
      t = batchnorm_merge(t, BnMoments<double>{m[0], m[1], m[2]});
    }
    out[static_cast<std::size_t>(3 * k)] = t.n;
    out[static_cast<std::size_t>(3 * k + 1)] = t.mean;
    out[static_cast<std::size_t>(3 * k + 2)] = t.m2;
  }
  return out;
}

Tensor floats(const std::vector<double>& v, std::size_t first, index_t c, Device dev) {
  std::vector<float> f(static_cast<std::size_t>(c));
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(v[2 * k + first]);
  return Tensor::from_vector(f, Shape{c}, dev);
}

}  // namespace

SyncBatchNorm::SyncBatchNorm(dist::Comm& comm) : prev_(t_sync) { t_sync = &comm; }
SyncBatchNorm::~SyncBatchNorm() { t_sync = prev_; }
dist::Comm* SyncBatchNorm::active() { return t_sync; }

Tensor sync_batch_norm(dist::Comm& comm, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       Tensor& running_mean, Tensor& running_var, const BatchNormParams& p, bool relu, DType out) {
  const Device dev = x.device();
  const index_t c = x.dim(1);
  const BatchNormShape sh{x.dim(0), c, x.shape().tail(2)};
  Tensor buf = doubles(3 * c, dev);
  SSE_DISPATCH(dev, batchnorm_moments, sh, x.data<float>(), as_doubles(buf));
  const std::vector<double> merged = merged_moments(comm, to_host(buf, 3 * c), c);
  copy_bytes(buf.raw(), dev, merged.data(), Device::cpu(), merged.size() * sizeof(double));
  Tensor save_mean = Tensor::empty(Shape{c}, DType::F32, dev);
  Tensor save_invstd = Tensor::empty(Shape{c}, DType::F32, dev);
  SSE_DISPATCH(dev, batchnorm_finalize, c, p, as_doubles(buf), running_mean.data<float>(), running_var.data<float>(),
               save_mean.data<float>(), save_invstd.data<float>());
  Tensor y = Tensor::empty(x.shape(), out, dev);
  with_float_storage("sync_batch_norm", y, [&](auto* yp) {
    SSE_DISPATCH(dev, batchnorm_normalize, sh, x.data<float>(), gamma.data<float>(), beta.data<float>(),
                 save_mean.data<float>(), save_invstd.data<float>(), relu, yp);
  });
  if (!needs_grad({&x, &gamma, &beta})) return y;
  const double count = c > 0 ? merged[0] : 0.0;  // N·S of the whole batch (every channel has it)
  Tensor xd = x.detach(), gd = gamma.detach(), bd = beta.detach();
  dist::Comm* cm = &comm;
  record(y, "sync_batch_norm", {x, gamma, beta}, [=](const Tensor& g) {
    Tensor sums = doubles(2 * c, g.device());
    SSE_DISPATCH(g.device(), batchnorm_grad_sums, sh, xd.data<float>(), g.data<float>(), gd.data<float>(),
                 bd.data<float>(), save_mean.data<float>(), save_invstd.data<float>(), relu, as_doubles(sums));
    std::vector<double> s = to_host(sums, 2 * c);
    Tensor dbeta = floats(s, 0, c, g.device()), dgamma = floats(s, 1, c, g.device());  // this rank's share
    cm->sum(s.data(), s.size());
    const Tensor sum_dy = floats(s, 0, c, g.device()), sum_dyxhat = floats(s, 1, c, g.device());
    Tensor dx = Tensor::empty(xd.shape(), DType::F32, g.device());
    SSE_DISPATCH(g.device(), batchnorm_grad_input, sh, count, xd.data<float>(), g.data<float>(), gd.data<float>(),
                 bd.data<float>(), save_mean.data<float>(), save_invstd.data<float>(), relu, sum_dy.data<float>(),
                 sum_dyxhat.data<float>(), dx.data<float>());
    return std::vector<Tensor>{dx, dgamma, dbeta};
  });
  return y;
}

}  // namespace sse::ops
