// kernels/cuda/igemm.cu — the host-side split-K plan and the deterministic partial-sum kernel of
// igemm.cuh.
#include "kernels/cuda/igemm.cuh"

namespace sse::cuda {
namespace {

__global__ void sum_splits_kernel(const float* partial, int splits, index_t count, float* out) {
  for (index_t i = global_thread(); i < count; i += grid_threads()) {
    float s = partial[i];
    for (int z = 1; z < splits; ++z) s += partial[z * count + i];
    out[i] = s;
  }
}

}  // namespace

SplitK plan_split_k(index_t tiles, index_t k_total, std::size_t slice_bytes, index_t min_chunk, index_t align) {
  const index_t want = (4 * static_cast<index_t>(sm_count()) + tiles - 1) / tiles;
  const index_t by_len = (k_total + min_chunk - 1) / min_chunk;
  const index_t by_mem = static_cast<index_t>(kConvPartialBytes / (slice_bytes ? slice_bytes : 1));
  index_t slices = want;
  if (slices > by_len) slices = by_len;
  if (slices > by_mem) slices = by_mem;
  if (slices > 65535) slices = 65535;  // grid.z
  if (slices < 1) slices = 1;
  index_t chunk = (k_total + slices - 1) / slices;
  chunk = (chunk + align - 1) / align * align;
  slices = (k_total + chunk - 1) / chunk;  // rounding up the chunk may leave the last slices empty
  return SplitK{static_cast<int>(slices < 1 ? 1 : slices), chunk};
}

void sum_splits(const float* partial, int splits, index_t count, float* out, cudaStream_t st) {
  if (count <= 0) return;
  launch(sum_splits_kernel, dim3(grid_for(count)), dim3(kBlock), 0, st, partial, splits, count, out);
}

}  // namespace sse::cuda
