// kernels/cuda/batchnorm.cu — 3-D batch normalization on the GPU (see kernels/batchnorm.h).
//
// Train forward, three kernels:
//   1. one block per piece of a channel (segments.cuh: the channel's N runs of S floats cut into
//      pieces by size only): each thread runs Welford over its elements, the block merges the
//      threads' (count, mean, M2) in a fixed tree (Chan et al.), and writes one partial;
//   2. one block per channel merges its partials in index order, in double, and writes save_mean,
//      save_invstd and the running statistics;
//   3. an element-wise pass normalizes (and applies the fused ReLU).
// Backward: the same two-level shape sums Σdz and Σdz·x̂ (double; dz = dy masked by the fused ReLU,
// recomputed from x), then an element-wise pass forms dx.
// The synchronized pieces (kernels/batchnorm.h) are the same kernels with the merged moments or the
// sums written out as doubles in between, and a one-thread-per-channel finalize.
// Nothing depends on timing and no atomics are used, so results repeat bit for bit. The per-element
// expressions are the CPU's (kernels/cpu/batchnorm.cpp), term by term.
#include <cmath>

#include "kernels/batchnorm.h"
#include "kernels/cuda/segments.cuh"
#include "kernels/cuda/workspace.cuh"

namespace sse::cuda {
namespace {

// ---- Welford / Chan statistics -------------------------------------------------------------------

template <typename T> using Moments = BnMoments<T>;

template <typename T> __device__ inline void welford_push(Moments<T>& a, T x) {
  a.n += T(1);
  const T d = x - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (x - a.mean);
}

template <typename T> __device__ inline Moments<T> chan_merge(const Moments<T>& a, const Moments<T>& b) {
  return batchnorm_merge(a, b);
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
// The result is valid in thread 0.
__device__ Moments<double> merge_partials(index_t parts, const Moments<float>* partial, Moments<double>* sm) {
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
  return sm[0];
}

__global__ void stats_final_kernel(index_t parts, const Moments<float>* partial, BatchNormParams prm,
                                   float* running_mean, float* running_var, float* save_mean, float* save_invstd) {
  __shared__ Moments<double> sm[kBlock];
  const Moments<double> t = merge_partials(parts, partial, sm);
  const index_t c = blockIdx.x;
  if (threadIdx.x == 0)
    batchnorm_finalize_channel(prm, t, running_mean + c, running_var + c, save_mean + c, save_invstd + c);
}

// The synchronized form's first piece: the merged moments themselves, 3 doubles per channel.
__global__ void stats_moments_kernel(index_t parts, const Moments<float>* partial, double* moments) {
  __shared__ Moments<double> sm[kBlock];
  const Moments<double> t = merge_partials(parts, partial, sm);
  const index_t c = blockIdx.x;
  if (threadIdx.x == 0) {
    moments[3 * c] = t.n;
    moments[3 * c + 1] = t.mean;
    moments[3 * c + 2] = t.m2;
  }
}

__global__ void finalize_kernel(index_t channels, BatchNormParams prm, const double* moments, float* running_mean,
                                float* running_var, float* save_mean, float* save_invstd) {
  const index_t c = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  const Moments<double> t{moments[3 * c], moments[3 * c + 1], moments[3 * c + 2]};
  batchnorm_finalize_channel(prm, t, running_mean + c, running_var + c, save_mean + c, save_invstd + c);
}

// ---- element-wise passes: row r of the (N·C) rows of S floats has channel r % C --------------------

template <class T>
__global__ void normalize_kernel(BatchNormShape sh, const float* x, const float* gamma, const float* beta,
                                 const float* mean, const float* invstd, bool relu, T* y) {
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const BnTrainMap f = BnTrainMap::of(gamma, beta, mean, invstd, relu, r % sh.c);
    const float* xr = x + r * sh.s;
    T* yr = y + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) yr[i] = from_f32<T>(f.forward(xr[i]));
  }
}

__global__ void eval_kernel(BatchNormShape sh, BatchNormParams prm, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var, bool relu,
                            float* y) {
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const index_t c = r % sh.c;
    const BnAffine a = bn_eval_affine(gamma[c], beta[c], running_mean[c], running_var[c], prm.eps);
    const float* xr = x + r * sh.s;
    float* yr = y + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) yr[i] = affine_act(xr[i], a.scale, a.shift, relu);
  }
}

// ---- backward --------------------------------------------------------------------------------------

struct GradSums {
  double dy, dyxhat;
};

__global__ void grad_partial_kernel(SegPlan p, const float* x, const float* dy, const float* gamma, const float* beta,
                                    const float* save_mean, const float* save_invstd, bool relu, GradSums* partial) {
  __shared__ double scratch[32];
  const index_t b = blockIdx.x, c = b / p.blocks_per_seg, q = b % p.blocks_per_seg;
  const BnTrainMap f = BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c);
  double sdy = 0.0, sdyx = 0.0;
  for_piece_elements(p, c, q, [&](index_t i) {
    const float dz = f.grad(x[i], dy[i]);
    sdy += dz;
    sdyx += static_cast<double>(dz) * f.xhat(x[i]);
  });
  sdy = block_sum(sdy, scratch);
  sdyx = block_sum(sdyx, scratch);
  if (threadIdx.x == 0) partial[b] = GradSums{sdy, sdyx};
}

// Block c sums its channel's partials (valid in thread 0).
__device__ GradSums sum_partials(index_t parts, const GradSums* partial, double* scratch) {
  const index_t c = blockIdx.x;
  double sdy = 0.0, sdyx = 0.0;
  for (index_t q = threadIdx.x; q < parts; q += blockDim.x) {
    sdy += partial[c * parts + q].dy;
    sdyx += partial[c * parts + q].dyxhat;
  }
  sdy = block_sum(sdy, scratch);
  sdyx = block_sum(sdyx, scratch);
  return GradSums{sdy, sdyx};
}

__global__ void grad_final_kernel(index_t parts, const GradSums* partial, float* dgamma, float* dbeta) {
  __shared__ double scratch[32];
  const GradSums t = sum_partials(parts, partial, scratch);
  if (threadIdx.x == 0) {
    dbeta[blockIdx.x] = static_cast<float>(t.dy);
    dgamma[blockIdx.x] = static_cast<float>(t.dyxhat);
  }
}

__global__ void grad_sums_kernel(index_t parts, const GradSums* partial, double* sums) {
  __shared__ double scratch[32];
  const GradSums t = sum_partials(parts, partial, scratch);
  if (threadIdx.x == 0) {
    sums[2 * blockIdx.x] = t.dy;
    sums[2 * blockIdx.x + 1] = t.dyxhat;
  }
}

// dx = γ·invstd/M · (M·dz − Σdz − x̂·Σ(dz·x̂)) over the M values of the whole batch.
__global__ void grad_input_kernel(BatchNormShape sh, double m, const float* x, const float* dy, const float* gamma,
                                  const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                                  const float* sum_dy, const float* sum_dyxhat, float* dx) {
  const float mf = static_cast<float>(m);
  for (index_t r = blockIdx.y; r < sh.n * sh.c; r += gridDim.y) {
    const index_t c = r % sh.c;
    const BnTrainMap f = BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c);
    const float a = sum_dy[c], bsum = sum_dyxhat[c];
    const float k = static_cast<float>(f.gamma * f.invstd / m);
    const float* xr = x + r * sh.s;
    const float* dyr = dy + r * sh.s;
    float* dxr = dx + r * sh.s;
    for (index_t i = global_thread(); i < sh.s; i += grid_threads()) {
      dxr[i] = k * (mf * f.grad(xr[i], dyr[i]) - a - f.xhat(xr[i]) * bsum);
    }
  }
}

GradSums* grad_partials(const SegPlan& plan, const float* x, const float* dy, const float* gamma, const float* beta,
                        const float* save_mean, const float* save_invstd, bool relu, cudaStream_t st) {
  auto* partial = static_cast<GradSums*>(workspace(plan.blocks() * sizeof(GradSums), st));
  launch(grad_partial_kernel, dim3(static_cast<unsigned>(plan.blocks())), dim3(kBlock), 0, st, plan, x, dy, gamma,
         beta, save_mean, save_invstd, relu, partial);
  return partial;
}

Moments<float>* stats_partials(const SegPlan& plan, const float* x, cudaStream_t st) {
  auto* partial = static_cast<Moments<float>*>(workspace(plan.blocks() * sizeof(Moments<float>), st));
  launch(stats_partial_kernel, dim3(static_cast<unsigned>(plan.blocks())), dim3(kBlock), 0, st, plan, x, partial);
  return partial;
}

template <class T>
void normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta, const float* save_mean,
               const float* save_invstd, bool relu, T* y, cudaStream_t st) {
  if (sh.n * sh.c <= 0 || sh.s <= 0) return;
  launch(normalize_kernel<T>, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, x, gamma, beta, save_mean,
         save_invstd, relu, y);
}

template <class T>
void forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x, const float* gamma,
                   const float* beta, float* running_mean, float* running_var, bool relu, T* y, float* save_mean,
                   float* save_invstd, cudaStream_t st) {
  kernel_check(sh.n * sh.s > 1, "batchnorm_forward_train", "needs more than one value per channel in training");
  if (sh.c <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  const Moments<float>* partial = stats_partials(plan, x, st);
  launch(stats_final_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg, partial, p,
         running_mean, running_var, save_mean, save_invstd);
  normalize(sh, x, gamma, beta, save_mean, save_invstd, relu, y, st);
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, float* y, float* save_mean, float* save_invstd, cudaStream_t st) {
  forward_train(sh, p, x, gamma, beta, running_mean, running_var, relu, y, save_mean, save_invstd, st);
}

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, bf16_t* y, float* save_mean, float* save_invstd, cudaStream_t st) {
  forward_train(sh, p, x, gamma, beta, running_mean, running_var, relu, y, save_mean, save_invstd, st);
}

void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y, cudaStream_t st) {
  if (sh.n * sh.c <= 0 || sh.s <= 0) return;
  launch(eval_kernel, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, p, x, gamma, beta, running_mean,
         running_var, relu, y);
}

void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                              float* dx, float* dgamma, float* dbeta, cudaStream_t st) {
  if (sh.c <= 0 || sh.n * sh.s <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  const GradSums* partial = grad_partials(plan, x, dy, gamma, beta, save_mean, save_invstd, relu, st);
  launch(grad_final_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg, partial,
         dgamma, dbeta);
  batchnorm_grad_input(sh, static_cast<double>(sh.n * sh.s), x, dy, gamma, beta, save_mean, save_invstd, relu, dbeta,
                       dgamma, dx, st);
}

void batchnorm_moments(const BatchNormShape& sh, const float* x, double* moments, cudaStream_t st) {
  if (sh.c <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  const Moments<float>* partial = stats_partials(plan, x, st);
  launch(stats_moments_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg, partial,
         moments);
}

void batchnorm_finalize(index_t c, const BatchNormParams& p, const double* moments, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd, cudaStream_t st) {
  if (c <= 0) return;
  launch(finalize_kernel, dim3(grid_for(c)), dim3(kBlock), 0, st, c, p, moments, running_mean, running_var, save_mean,
         save_invstd);
}

void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, float* y, cudaStream_t st) {
  normalize(sh, x, gamma, beta, save_mean, save_invstd, relu, y, st);
}

void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, bf16_t* y, cudaStream_t st) {
  normalize(sh, x, gamma, beta, save_mean, save_invstd, relu, y, st);
}

void batchnorm_grad_sums(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                         const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                         double* sums, cudaStream_t st) {
  if (sh.c <= 0 || sh.n * sh.s <= 0) return;
  const SegPlan plan = make_seg_plan(sh.n, sh.c, sh.s);
  const GradSums* partial = grad_partials(plan, x, dy, gamma, beta, save_mean, save_invstd, relu, st);
  launch(grad_sums_kernel, dim3(static_cast<unsigned>(sh.c)), dim3(kBlock), 0, st, plan.blocks_per_seg, partial, sums);
}

void batchnorm_grad_input(const BatchNormShape& sh, double count, const float* x, const float* dy, const float* gamma,
                          const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                          const float* sum_dy, const float* sum_dyxhat, float* dx, cudaStream_t st) {
  if (sh.n * sh.c <= 0 || sh.s <= 0) return;
  launch(grad_input_kernel, rows_grid(sh.n * sh.c, sh.s), dim3(kBlock), 0, st, sh, count, x, dy, gamma, beta,
         save_mean, save_invstd, relu, sum_dy, sum_dyxhat, dx);
}

}  // namespace sse::cuda
