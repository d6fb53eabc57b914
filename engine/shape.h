// engine/shape.h — a tensor shape of rank 0..5 (NCDHW is the fullest the engine uses).
#pragma once

#include <array>
#include <initializer_list>
#include <string>

#include "engine/device.h"
#include "kernels/common.h"

namespace sse {

class Shape {
 public:
  static constexpr int kMaxRank = 5;
  Shape() = default;
  Shape(std::initializer_list<index_t> dims);
  template <typename It> Shape(It begin, It end) {
    for (; begin != end; ++begin) push_back(static_cast<index_t>(*begin));
  }

  int rank() const { return rank_; }
  index_t operator[](int i) const { return dims_[static_cast<std::size_t>(at(i))]; }
  index_t& operator[](int i) { return dims_[static_cast<std::size_t>(at(i))]; }
  index_t numel() const;
  // Product of dims from `first` on (e.g. spatial(2) = D*H*W of an NCDHW shape).
  index_t tail(int first) const;
  void push_back(index_t d);
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(1, 3, 5, 7, 6)"
  const index_t* begin() const { return dims_.data(); }
  const index_t* end() const { return dims_.data() + rank_; }

 private:
  int at(int i) const;  // negative indexes count from the end; out of range throws
  std::array<index_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace sse
