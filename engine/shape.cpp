#include "engine/shape.h"

#include <sstream>

namespace sse {

Shape::Shape(std::initializer_list<index_t> dims) {
  for (index_t d : dims) push_back(d);
}

void Shape::push_back(index_t d) {
  if (rank_ == kMaxRank) throw EngineError("Shape: rank above 5 is not supported");
  if (d < 0) throw EngineError("Shape: negative dimension " + std::to_string(d));
  dims_[static_cast<std::size_t>(rank_++)] = d;
}

int Shape::at(int i) const {
  const int j = i < 0 ? i + rank_ : i;
  if (j < 0 || j >= rank_)
    throw EngineError("Shape: axis " + std::to_string(i) + " out of range for " + str());
  return j;
}

index_t Shape::numel() const { return tail(0); }

index_t Shape::tail(int first) const {
  index_t n = 1;
  for (int i = first; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<std::size_t>(i)] != o.dims_[static_cast<std::size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << "(";
  for (int i = 0; i < rank_; ++i) os << (i ? ", " : "") << dims_[static_cast<std::size_t>(i)];
  os << ")";
  return os.str();
}

}  // namespace sse
