// kernels/cuda/reduce.cu — deterministic sums on the GPU (see kernels/reduce.h).
//
// All three sums are one "segmented sum": x viewed as (outer, mid, inner), out[m] = Σ_{o,i} of segment m
// (sum_all: 1 × 1 × n; sum_rows: 1 × rows × cols; sum_mid as given). Each segment is cut into pieces
// (segments.cuh) whose boundaries depend only on the sizes; a block sums one piece (in
// double, threads strided, then block_sum's fixed tree) into a workspace partial, and a second kernel
// adds each segment's partials in index order. No atomics: results repeat bit for bit, and the
// double accumulation keeps them within float rounding of the CPU's double sums.
#include "kernels/cuda/segments.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/reduce.h"

namespace sse::cuda {
namespace {

constexpr index_t kTinySegment = 32;  // segments this small are summed by one thread each

// One block per piece. With a single piece per segment it writes the result directly.
__global__ void piece_sum_kernel(SegPlan p, const float* x, double* partial, float* out) {
  __shared__ double scratch[32];
  const index_t b = blockIdx.x, m = b / p.blocks_per_seg, q = b % p.blocks_per_seg;
  double s = 0.0;
  for_piece_elements(p, m, q, [&](index_t i) { s += x[i]; });
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    if (p.blocks_per_seg == 1) {
      out[m] = static_cast<float>(s);
    } else {
      partial[b] = s;
    }
  }
}

// One block per segment: adds its partials in index order (strided, then the fixed tree).
__global__ void combine_kernel(index_t parts, const double* partial, float* out) {
  __shared__ double scratch[32];
  const double* pm = partial + static_cast<index_t>(blockIdx.x) * parts;
  double s = 0.0;
  for (index_t q = threadIdx.x; q < parts; q += blockDim.x) s += pm[q];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<float>(s);
}

// Tiny segments: one thread adds its segment's outer·inner values in order.
__global__ void tiny_sum_kernel(SegPlan p, const float* x, float* out) {
  for (index_t m = global_thread(); m < p.mid; m += grid_threads()) {
    double s = 0.0;
    for (index_t o = 0; o < p.outer; ++o)
      for (index_t i = 0; i < p.inner; ++i) s += x[(o * p.mid + m) * p.inner + i];
    out[m] = static_cast<float>(s);
  }
}

__global__ void zero_kernel(float* out, index_t n) {
  for (index_t i = global_thread(); i < n; i += grid_threads()) out[i] = 0.0f;
}

void segmented_sum(const float* x, index_t outer, index_t mid, index_t inner, float* out, cudaStream_t st) {
  if (mid <= 0) return;
  if (outer <= 0 || inner <= 0) {  // empty segments sum to 0
    launch(zero_kernel, dim3(grid_for(mid)), dim3(kBlock), 0, st, out, mid);
    return;
  }
  const SegPlan p = make_seg_plan(outer, mid, inner);
  if (outer * inner <= kTinySegment) {
    launch(tiny_sum_kernel, dim3(grid_for(mid)), dim3(kBlock), 0, st, p, x, out);
    return;
  }
  const index_t blocks = p.blocks();
  double* partial = nullptr;
  if (p.blocks_per_seg > 1)
    partial = static_cast<double*>(workspace(static_cast<std::size_t>(blocks) * sizeof(double), st));
  launch(piece_sum_kernel, dim3(static_cast<unsigned>(blocks)), dim3(kBlock), 0, st, p, x, partial, out);
  if (p.blocks_per_seg > 1)
    launch(combine_kernel, dim3(static_cast<unsigned>(mid)), dim3(kBlock), 0, st, p.blocks_per_seg,
           static_cast<const double*>(partial), out);
}

// y[r·cols + c] = alpha·v[r]: rows over grid.y (strided), columns over grid.x (strided).
__global__ void broadcast_rows_kernel(const float* v, index_t rows, index_t cols, float alpha, float* y) {
  for (index_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const float val = alpha * v[r];
    for (index_t c = global_thread(); c < cols; c += grid_threads()) y[r * cols + c] = val;
  }
}

}  // namespace

void sum_all(const float* x, index_t n, float* out, cudaStream_t s) { segmented_sum(x, 1, 1, n, out, s); }

void sum_rows(const float* x, index_t rows, index_t cols, float* out, cudaStream_t s) {
  segmented_sum(x, 1, rows, cols, out, s);
}

void sum_mid(const float* x, index_t outer, index_t mid, index_t inner, float* out, cudaStream_t s) {
  segmented_sum(x, outer, mid, inner, out, s);
}

void broadcast_rows(const float* v, index_t rows, index_t cols, float alpha, float* y, cudaStream_t s) {
  if (rows <= 0 || cols <= 0) return;
  launch(broadcast_rows_kernel, rows_grid(rows, cols), dim3(kBlock), 0, s, v, rows, cols, alpha, y);
}

}  // namespace sse::cuda
