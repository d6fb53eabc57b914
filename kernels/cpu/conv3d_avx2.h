// kernels/cpu/conv3d_avx2.h — the packed direct 3×3×3 convolution with AVX2+FMA micro-kernels
// (kernels/cpu/conv3d_avx2.cpp), chosen at run time by kernels/cpu/conv3d.cpp on CPUs that have
// AVX2 and FMA. Same contracts as the cpu::conv3d_* functions in kernels/conv3d.h, for k = 3 only.
#pragma once

#include "kernels/conv3d.h"

namespace sse::cpu::avx2 {

// True when this CPU runs AVX2 and FMA instructions (checked once).
bool supported();
}  // namespace sse::cpu::avx2

namespace sse::cpu {
// True when the convolutions take the AVX2 kernels (supported and not forced to Blas).
bool use_avx2_kernels();

// Where the input channels of one image live: channels [0, c1) at x1, the rest at x2 (the two parts
// of a concatenation, kernels/conv3d.h's inference form), each channel `vol` floats.
struct ConvChannels {
  const float* x1;
  index_t c1;
  const float* x2;
  index_t vol;
  const float* at(index_t c) const { return c < c1 ? x1 + c * vol : x2 + (c - c1) * vol; }
  // The same view of image n of a batch with c channels in all.
  ConvChannels image(index_t n, index_t c) const { return {x1 + n * c1 * vol, c1, x2 ? x2 + n * (c - c1) * vol : nullptr, vol}; }
};
}  // namespace sse::cpu

namespace sse::cpu::avx2 {

void conv3_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y);
// The inference form of kernels/conv3d.h (two-part input, epilogue).
void conv3_forward_fused(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                         const float* b, const ConvEpilogue& ep, float* y);
void conv3_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx);
// dw only; the caller sums db.
void conv3_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw);

}  // namespace sse::cpu::avx2
