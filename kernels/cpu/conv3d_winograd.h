// kernels/cpu/conv3d_winograd.h — 3×3×3 convolution by Winograd's minimal filtering, F(2,3)³ and
// F(4,3)³ (kernels/cpu/conv3d_winograd.cpp), with AVX2+FMA or AVX-512 kernels chosen at run time.
// Same contracts as the cpu::conv3d_* functions of kernels/conv3d.h for k = 3; kernels/cpu/conv3d.cpp
// calls it where choose_tile (the measured rule) says it beats the direct kernel.
//
// Each output tile of m³ voxels (m = 2 or 4) comes from an input tile of α³ = (m+2)³ voxels:
// y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A along each of the three axes, so a tile of one output channel costs α³
// multiplies per input channel instead of 27·m³ (3.4× fewer for F(2,3), 8× fewer for F(4,3)), plus
// transforms shared by all channels. The sum over input channels of the α³ element-wise products is
// α³ independent GEMMs (c_out × c_in) · (c_in × tiles), run on register-blocked micro-kernels.
//
// Accuracy: F(2,3) is as accurate as the direct float sum; F(4,3)'s transforms amplify rounding
// errors. Its points {0, 1, −1, 1/2, −2, ∞} were chosen by measurement (bench/winograd_points.py,
// bench/RESULTS.md): ≈ 5× the direct convolution's largest error relative to the largest output,
// where the usual {0, ±1, ±2, ∞} gives ≈ 29×.
#pragma once

#include "kernels/conv3d.h"

namespace sse::cpu::winograd {

// True when this CPU runs the AVX2+FMA kernels (then Winograd is available); avx512_supported: the
// AVX-512 (F) kernels too.
bool supported();
bool avx512_supported();

// Which vector kernels run the transforms and the element-wise GEMMs: Auto (the measured choice for
// this CPU, see isa_for_cpu), or one forced (tests, benchmarks; forcing Avx512 on a CPU without it
// throws KernelError). Process-wide. Results differ between the two only by float reassociation.
enum class Isa : int { Auto, Avx2, Avx512 };
void set_isa(Isa isa);
Isa isa();

// The forward convolution (inference form of kernels/conv3d.h: two-part input x1 (c_in1 channels) and
// x2 (the rest, null when c_in1 = c_in), bias, epilogue) by F(m,3)³, m = 2 or 4.
void conv3_forward(const Conv3dShape& s, int m, const float* x1, index_t c_in1, const float* x2, const float* w,
                   const float* b, const ConvEpilogue& ep, float* y);
// The data gradient: the same convolution of dy with the transposed, flipped weights.
void conv3_backward_data(const Conv3dShape& s, int m, const float* dy, const float* w, float* dx);

// The weight gradient dw (c_out, c_in, 3, 3, 3), summed over the batch (no bias gradient): the same
// tiles, dU = Σ (A dy Aᵀ) ⊙ (Bᵀ x B) per ξ, dw = Gᵀ dU G. Each thread sums its own share of the tiles,
// so the bits repeat run to run with the same thread count (the forward and data gradient do not
// depend on the thread count at all).
void conv3_backward_weight(const Conv3dShape& s, int m, const float* x, const float* dy, float* dw);

// The measured rule (bench/RESULTS.md): the tile edge m (2 or 4) that runs a 3×3×3 convolution of
// kin input and kout output channels on a d×h×w volume fastest (its weight gradient with weight_grad),
// or 0 when the direct kernel does. The data gradient is a convolution of c_out into c_in channels.
int choose_tile(index_t kin, index_t kout, index_t d, index_t h, index_t w, bool weight_grad = false);

}  // namespace sse::cpu::winograd
