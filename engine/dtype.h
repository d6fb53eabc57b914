// engine/dtype.h — element types of tensors: float32 for data, int32/uint8 for labels and indices.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sse {

enum class DType : unsigned char { F32, I32, U8 };

inline std::size_t dtype_size(DType t) { return t == DType::U8 ? 1 : 4; }
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
  }
  return "?";
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::I32; };
template <> struct dtype_of<std::uint8_t> { static constexpr DType value = DType::U8; };

}  // namespace sse
