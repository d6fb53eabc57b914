// kernels/box.h — copy between volumes of different size (zero padding and cropping).
//
// For each of `planes` = N·C volumes: dst[z, y, x] = src[z + oz, y + oy, x + ox] when that lies
// inside src, else 0. Offsets may be negative (padding before) or positive (cropping). Used by the
// U-Net to pad any input to a multiple of 2^(levels-1) and crop the output back; pad's backward is
// crop and vice versa, so one kernel serves both directions.
#pragma once

#include "kernels/common.h"

namespace sse {

struct BoxCopy {
  index_t planes;
  index_t sd, sh, sw;  // source volume
  index_t dd, dh, dw;  // destination volume
  index_t oz, oy, ox;  // source coordinate of destination voxel (0, 0, 0)
};

namespace cpu {
void box_copy(const BoxCopy& b, const float* src, float* dst);
}
namespace cuda {
void box_copy(const BoxCopy& b, const float* src, float* dst, cudaStream_t s);
}

}  // namespace sse
