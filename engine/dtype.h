// engine/dtype.h — element types of tensors: float32 for data, int32/uint8 for labels and indices,
// bfloat16 for activations stored at half size under --precision bf16 (kernels/low_precision.h;
// their gradients stay float32).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/low_precision.h"

namespace sse {

enum class DType : unsigned char { F32, I32, U8, BF16 };

inline std::size_t dtype_size(DType t) { return t == DType::U8 ? 1 : t == DType::BF16 ? 2 : 4; }
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
    case DType::BF16: return "bfloat16";
  }
  return "?";
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::I32; };
template <> struct dtype_of<std::uint8_t> { static constexpr DType value = DType::U8; };
template <> struct dtype_of<bf16_t> { static constexpr DType value = DType::BF16; };

}  // namespace sse
