#include "kernels/maxpool.h"

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

namespace {
template <class T> void pool_forward(const Pool3dShape& s, const T* x, T* y, std::int32_t* idx) {
  kernel_check(s.d % 2 == 0 && s.h % 2 == 0 && s.w % 2 == 0, "maxpool3d", "D, H, W must be even");
  const index_t od = s.d / 2, oh = s.h / 2, ow = s.w / 2, planes = s.n * s.c;
  const index_t in_vol = s.d * s.h * s.w, out_vol = od * oh * ow;
#pragma omp parallel for collapse(2) if (planes * out_vol > kParallelGrain)
  for (index_t p = 0; p < planes; ++p) {
    for (index_t z = 0; z < od; ++z) {
      const T* xp = x + p * in_vol;
      for (index_t yy = 0; yy < oh; ++yy) {
        for (index_t xx = 0; xx < ow; ++xx) {
          index_t best = (2 * z * s.h + 2 * yy) * s.w + 2 * xx;
          float m = to_f32(xp[best]);
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
              for (int c = 0; c < 2; ++c) {
                const index_t i = ((2 * z + a) * s.h + 2 * yy + b) * s.w + 2 * xx + c;
                const float v = to_f32(xp[i]);
                if (v > m) { m = v; best = i; }
              }
          const index_t o = p * out_vol + (z * oh + yy) * ow + xx;
          y[o] = from_f32<T>(m);  // exact: m is a stored value (a load by index here stops the vectorizer: 4× slower)
          idx[o] = static_cast<std::int32_t>(best);
        }
      }
    }
  }
}

}  // namespace

void maxpool3d_forward(const Pool3dShape& s, const float* x, float* y, std::int32_t* idx) { pool_forward(s, x, y, idx); }
void maxpool3d_forward(const Pool3dShape& s, const bf16_t* x, bf16_t* y, std::int32_t* idx) { pool_forward(s, x, y, idx); }

void maxpool3d_backward(const Pool3dShape& s, const float* dy, const std::int32_t* idx, float* dx) {
  const index_t planes = s.n * s.c, in_vol = s.d * s.h * s.w, out_vol = s.out_voxels();
#pragma omp parallel for if (planes * in_vol > kParallelGrain)
  for (index_t p = 0; p < planes; ++p) {
    float* dxp = dx + p * in_vol;
    for (index_t i = 0; i < in_vol; ++i) dxp[i] = 0.0f;
    for (index_t o = 0; o < out_vol; ++o) dxp[idx[p * out_vol + o]] = dy[p * out_vol + o];
  }
}

}  // namespace sse::cpu
