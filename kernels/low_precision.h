// kernels/low_precision.h — the reduced-precision number formats of the tensor-core paths, as bit
// operations that give the same bits on the CPU, in the emulator and on the GPU.
//
//   round_tf32(x)   x rounded to TF32 (10 explicit mantissa bits; the float keeps its 32-bit
//                   layout with the low 13 bits zero): to nearest, ties away from zero — what
//                   cvt.rna.tf32.f32 computes and what the tensor cores multiply.
//   bf16_bits(x)    x rounded to bfloat16 (7 mantissa bits), to nearest, ties to even (as
//                   __float2bfloat16_rn); NaN stays a (quiet) NaN. bf16_value(b) widens it back.
//   round_bf16(x)   bf16_value(bf16_bits(x)).
//   pack_bf16x2(lo, hi)  two bfloat16 in one 32-bit word, lo in bits 0–15: the operand format of
//                   mma.sync (the element with the lower K index in the low half).
//   bf16_t          a bfloat16 as stored in memory (the element of DType::BF16 tensors: activations
//                   under --precision bf16); to_f32 widens it (exactly), from_f32<T> narrows a float
//                   to T (bf16_t: rounded as bf16_bits; float: unchanged), so one kernel template
//                   reads and writes either storage type.
// Overflow past the largest finite value rounds to infinity, as the hardware conversions do.
// Products of two TF32 or two BF16 values are exact in fp32 (≤ 22 significant bits), so a
// fp32 sum of them differs from a tensor core's only by the order and rounding of the additions.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/common.h"

namespace sse {

SSE_HD inline std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

SSE_HD inline float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

SSE_HD inline bool bits_nan(std::uint32_t u) { return (u & 0x7fffffffu) > 0x7f800000u; }

SSE_HD inline float round_tf32(float x) {
  std::uint32_t u = float_bits(x);
  if (bits_nan(u)) return x;
  if ((u & 0x7f800000u) != 0x7f800000u) u += 0x1000u;  // half an ulp of TF32: ties go away from zero
  return bits_float(u & 0xffffe000u);
}

SSE_HD inline std::uint16_t bf16_bits(float x) {
  const std::uint32_t u = float_bits(x);
  if (bits_nan(u)) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

SSE_HD inline float bf16_value(std::uint16_t b) { return bits_float(static_cast<std::uint32_t>(b) << 16); }

SSE_HD inline float round_bf16(float x) { return bf16_value(bf16_bits(x)); }

SSE_HD inline std::uint32_t pack_bf16x2(float lo, float hi) {
  return static_cast<std::uint32_t>(bf16_bits(lo)) | (static_cast<std::uint32_t>(bf16_bits(hi)) << 16);
}

struct bf16_t {
  std::uint16_t bits;
};

SSE_HD inline float to_f32(float v) { return v; }
SSE_HD inline float to_f32(bf16_t v) { return bf16_value(v.bits); }
template <class T> SSE_HD inline T from_f32(float v);
template <> SSE_HD inline float from_f32<float>(float v) { return v; }
template <> SSE_HD inline bf16_t from_f32<bf16_t>(float v) { return bf16_t{bf16_bits(v)}; }

}  // namespace sse
