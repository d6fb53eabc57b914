// kernels/cuda/wgrad_brick.cuh — weight gradients of the 3×3×3 convolution and of the 2×2×2
// stride-2 transposed convolution as implicit GEMMs over bricks of voxels, on tensor cores (TF32,
// BF16: mma.sync) or as their SIMT fp32 twin.
//
//   conv3  dw[o, ci, t]  = Σ_{n,v} dy[n, o, v] · x[n, ci, v + δt]       27 taps, zero padding
//   up2    dw[ci, o, t]  = Σ_{n,v} x[n, ci, v] · dy[n, o, 2v + t]       8 taps (kernels/conv_transpose3d.h)
// Both are C[m, c, t] = Σ_k A[m, k] · B_t[k, c]: M rows m (conv3: c_out, A = dy; up2: c_in, A = x),
// Cn channels c of the other tensor, taps t, and K = every voxel of every image (of the volume the
// bricks tile: conv3's volume, up2's input volume).
//
// Tiling. K is walked in bricks of 1 × KY × 16 voxels (one z plane, KY rows, 16 columns; positions
// past the volume read as zeros, so any D, H, W works). A block owns BM rows × BC channels × all
// taps of C. Per brick it stages, in shared memory, A's BM × brick values and the B source values
// every tap needs (conv3: the x halo 3 × (KY+2) × 18 per channel — each x value serves up to 27
// taps; up2: the 2× finer dy rows, de-interleaved per tap), through registers, double-buffered: the
// next brick's global loads are in flight while the current one is multiplied. Warps split the
// taps (conv3: a warp per (tz, ty), its 3 taps along x; up2: 4 taps each) and rows. A warp's tile
// is FM × 16 rows, its taps, FN × 8 channels, held as mma.sync accumulator fragments (mma.cuh).
//
// Math. TensorTF32 / TensorBF16: m16n8k8 TF32 or m16n8k16 BF16 mma.sync with fp32 accumulation;
// values are rounded once, when staged (kernels/low_precision.h). BF16 words hold the voxel pair
// (j, j+8) of a 16-column row so that both operands' fragments are one 32-bit load each. Simt: the
// same staging and the same accumulator layout, each lane computing its fragment elements with fp32
// FMAs (no rounding) — the fp32 path, and the twin the tensor-core results are compared with on a
// GPU. In the SIM build mma.sync is emulated exactly (mma.cuh), so all three run in ctest.
//
// Split-K and determinism. The bricks are cut into `slices` equal runs; slice z writes its partial C
// to the workspace (or dw itself when there is one slice), and sum_splits (igemm.cuh) adds the
// partials in slice order. No atomics: a run repeats bit for bit on one device model (the slice
// count depends on the multiprocessor count). Outputs are overwritten.
#pragma once

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/cuda/brick_math.h"

namespace sse::cuda {

// Tile shape: Auto chooses by the GEMM's rows; Small / Large force one (tests, benchmarks).
// conv3 Small: BM 32 × BC 16; Large: 64 × 8 (Auto: Large when c_out > 32). up2: one shape, 64 × 16.
enum class BrickTile { Auto, Small, Large };

// dw (c_out, c_in, 3, 3, 3) of a k = 3 convolution (s.k must be 3; s.n ≥ 1). `slices` > 0 forces
// the split-K slice count (tests), 0 plans it for the device.
void brick_wgrad_conv3(const Conv3dShape& s, const float* x, const float* dy, float* dw, BrickMath math,
                       cudaStream_t st, BrickTile tile = BrickTile::Auto, int slices = 0);
// dw (c_in, c_out, 2, 2, 2) of the k2 s2 transposed convolution (s.n ≥ 1).
void brick_wgrad_up2(const ConvT3dShape& s, const float* x, const float* dy, float* dw, BrickMath math,
                     cudaStream_t st, int slices = 0);
// The same with x stored as bfloat16 (bf16 activations), read as it is stored into the BF16 pairs:
// math must be BF16; the result equals the float form's on the widened x bit for bit.
void brick_wgrad_conv3(const Conv3dShape& s, const bf16_t* x, const float* dy, float* dw, BrickMath math,
                       cudaStream_t st, BrickTile tile = BrickTile::Auto, int slices = 0);
void brick_wgrad_up2(const ConvT3dShape& s, const bf16_t* x, const float* dy, float* dw, BrickMath math,
                     cudaStream_t st, int slices = 0);

}  // namespace sse::cuda
