// kernels/cuda/batchnorm.cu — 3-D batch normalization on the GPU (see kernels/batchnorm.h).
//
// Train forward, three kernels:
//   1. one block per piece of a channel (segments.cuh: the channel's N runs of S floats cut into
//      pieces by size only): each thread runs Welford over its elements, the block merges the
//      threads' (count, mean, M2) in a fixed tree (Chan et al.), and writes one partial;
//   2. one block per channel merges its partials in index order, in double, and writes save_mean,
//      save_invstd and the running statistics;
//   3. an element-wise pass normalizes.
// Backward: the same two-level shape sums Σdy and Σdy·x̂ (double), then an element-wise pass forms dx.
// Nothing depends on timing and no atomics are used, so results repeat bit for bit. The per-element
// expressions are the CPU's (kernels/cpu/batchnorm.cpp), term by term.
#include <cmath>

#include "kernels/batchnorm.h"
#include "kernels/cuda/segments.cuh"
#include "kernels/cuda/workspace.cuh"

namespace sse::cuda {
namespace {

// ---- Welford / Chan statistics -------------------------------------------------------------------

template <typename T> struct Moments {
  T n, mean, m2;  // count, mean, Σ(x − mean)²
};

template <typename T> __device__ inline void welford_push(Moments<T>& a, T x) {
  a.n += T(1);
  const T d = x - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (x - a.mean);
}

// Chan's parallel merge; either side may be empty.
template <typename T> __device__ inline Moments<T> chan_merge(const Moments<T>& a, const Moments<T>& b) {
  const T n = a.n + b.n;
  if (n == T(0)) return a;
  const T d = b.mean - a.mean, fb = b.n / n;
  return Moments<T>{n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

__device__ inline Moments<float> shfl_down(const Moments<float>& a, int o) {
  return Moments<float>{__shfl_down_sync(0xffffffffu, a.n, o), __shfl_down_sync(0xffffffffu, a.mean, o),
                        __shfl_down_sync(0xffffffffu, a.m2, o)};
}

// Merges the block's per-thread moments in a fixed tree; the result is valid in thread 0.
__device__ Moments<float> block_merge(Moments<float> a, Moments<float>* scratch) {
  const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
  const int warps = static_cast<int>(blockDim.x) >> 5;
  for (int o = 16; o > 0; o >>= 1) a = chan_merge(a, shfl_down(a, o));
  if (lane == 0) scratch[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < warps ? scratch[lane] : Moments<float>{0.0f, 0.0f, 0.0f};
    for (int o = 16; o > 0; o >>= 1) a = chan_merge(a, shfl_down(a, o));
  }
  return a;
}

__global__ void stats_partial_kernel(SegPlan p, const float* x, Moments<float>* partial) {
  __shared__ Moments<float> scratch[32];
  const index_t b = blockIdx.x, c = b / p.blocks_per_seg, q = b % p.blocks_per_seg;
  Moments<float> a{0.0f, 0.0f, 0.0f};
  for_piece_elements(p, c, q, [&](index_t i) { welford_push(a, x[i]); });
  a = block_merge(a, scratch);
  if (threadIdx.x == 0) partial[b] = a;
}

// One block per channel: merges the channel's partials in order. Thread t takes pieces t, t + B, ...
// (their order fixed), then the threads are merged pairwise in a fixed tree through shared memory.
__global__ void stats_final_kernel(index_t parts, const Moments<float>* partial, BatchNormParams prm,
                                   float* running_mean, float* running_var, float* save_mean, float* save_invstd) {
  __shared__ Moments<double> sm[kBlock];
  const index_t c = blockIdx.x;
  Moments<double> a{0.0, 0.0, 0.0};
  for (index_t q = threadIdx.x; q < parts; q += blockDim.x) {
    const Moments<float> f = partial[c * parts + q];
    a = chan_merge(a, Moments<double>{f.n, f.mean, f.m2});
  }
  sm[threadIdx.x] = a;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) sm[threadIdx.x] = chan_merge(sm[threadIdx.x], sm[threadIdx.x + half]);
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  const Moments<double> t = sm[0];
  const double m = t.n, var = t.m2 / m;
  const float invstd = static_cast<float>(1.0 / sqrt(var + prm.eps));
  const float meanf = static_cast<float>(t.mean);
  save_mean[c] = meanf;
  save_invstd[c] = invstd;
  running_mean[c] = (1.0f - prm.momentum) * running_mean[c] + prm.momentum * meanf;
  running_var[c] = (1.0f - prm.momentum) * running_var[c] + prm.momentum * static_cast<float>(var * m / (m - 1));
}

// ---- element-wise passes: row r of the (N·C) rows of S floats has channel r % C --------------------

__global__ void normalize_kernel(BatchNormShape sh, const float* x, const float* gamma, const float* beta,
                                 const float* mean, const float* invstd, float* y) {
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const index_t c = r % sh.c;
    const float mu = mean[c], is = invstd[c], g = gamma[c], b = beta[c];
    const float* xr = x + r * sh.s;
    float* yr = y + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) yr[i] = (xr[i] - mu) * is * g + b;
  }
}

__global__ void eval_kernel(BatchNormShape sh, BatchNormParams prm, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var, bool relu,
                            float* y) {
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const index_t c = r % sh.c;
    const float scale = gamma[c] / sqrtf(running_var[c] + prm.eps);
    const float shift = beta[c] - running_mean[c] * scale;
    const float* xr = x + r * sh.s;
    float* yr = y + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) {
      const float v = xr[i] * scale + shift;
      yr[i] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

// ---- backward --------------------------------------------------------------------------------------

struct GradSums {
  double dy, dyxhat;
};

__global__ void grad_partial_kernel(SegPlan p, const float* x, const float* dy, const float* save_mean,
                                    const float* save_invstd, GradSums* partial) {
  __shared__ double scratch[32];
  const index_t b = blockIdx.x, c = b / p.blocks_per_seg, q = b % p.blocks_per_seg;
  const float mean = save_mean[c], invstd = save_invstd[c];
  double sdy = 0.0, sdyx = 0.0;
  for_piece_elements(p, c, q, [&](index_t i) {
    sdy += dy[i];
    sdyx += static_cast<double>(dy[i]) * ((x[i] - mean) * invstd);
  });
  sdy = block_sum(sdy, scratch);
  sdyx = block_sum(sdyx, scratch);
  if (threadIdx.x == 0) partial[b] = GradSums{sdy, sdyx};
}

__global__ void grad_final_kernel(index_t parts, const GradSums* partial, float* dgamma, float* dbeta) {
  __shared__ double scratch[32];
  const index_t c = blockIdx.x;
  double sdy = 0.0, sdyx = 0.0;
  for (index_t q = threadIdx.x; q < parts; q += blockDim.x) {
    sdy += partial[c * parts + q].dy;
    sdyx += partial[c * parts + q].dyxhat;
  }
  sdy = block_sum(sdy, scratch);
  sdyx = block_sum(sdyx, scratch);
  if (threadIdx.x == 0) {
    dbeta[c] = static_cast<float>(sdy);
    dgamma[c] = static_cast<float>(sdyx);
  }
}

// dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)), with Σdy = dbeta and Σ(dy·x̂) = dgamma.
__global__ void grad_input_kernel(BatchNormShape sh, const float* x, const float* dy, const float* gamma,
                                  const float* save_mean, const float* save_invstd, const float* dgamma,
                                  const float* dbeta, float* dx) {
  const double m = static_cast<double>(sh.n * sh.s);
  const float mf = static_cast<float>(m);
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const index_t c = r % sh.c;
    const float mean = save_mean[c], invstd = save_invstd[c], a = dbeta[c], bsum = dgamma[c];
    const float k = static_cast<float>(gamma[c] * invstd / m);
    const float* xr = x + r * sh.s;
    const float* dyr = dy + r * sh.s;
    float* dxr = dx + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) {
      const float xhat = (xr[i] - mean) * invstd;
      dxr[i] = k * (mf * dyr[i] - a - xhat * bsum);
    }
  }
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             float* y, float* save_mean, float* save_invstd, cudaStream_t st) {
  kernel_check(sh.n * sh.s > 1, "batchnorm_forward_train", "needs more than one value per channel in training");
  if (sh.c <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  auto* partial = static_cast<Moments<float>*>(workspace(plan.blocks() * sizeof(Moments<float>), st));
  launch(stats_partial_kernel, dim3(static_cast<unsigned>(plan.blocks())), dim3(kBlock), 0, st, plan, x, partial);
  launch(stats_final_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg,
         static_cast<const Moments<float>*>(partial), p, running_mean, running_var, save_mean, save_invstd);
  launch(normalize_kernel, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, x, gamma, beta,
         static_cast<const float*>(save_mean), static_cast<const float*>(save_invstd), y);
}

void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y, cudaStream_t st) {
  if (sh.n * sh.c <= 0 || sh.s <= 0) return;
  launch(eval_kernel, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, p, x, gamma, beta, running_mean,
         running_var, relu, y);
}

void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                              float* dbeta, cudaStream_t st) {
  if (sh.c <= 0 || sh.n * sh.s <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  auto* partial = static_cast<GradSums*>(workspace(plan.blocks() * sizeof(GradSums), st));
  launch(grad_partial_kernel, dim3(static_cast<unsigned>(plan.blocks())), dim3(kBlock), 0, st, plan, x, dy,
         save_mean, save_invstd, partial);
  launch(grad_final_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg,
         static_cast<const GradSums*>(partial), dgamma, dbeta);
  launch(grad_input_kernel, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, x, dy, gamma, save_mean,
         save_invstd, static_cast<const float*>(dgamma), static_cast<const float*>(dbeta), dx);
}

}  // namespace sse::cuda
