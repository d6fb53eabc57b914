#include "tests/support/fixture.h"

#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace sse::test {
namespace {

template <typename T> T read(std::ifstream& in, const std::string& path) {
  T v;
  if (!in.read(reinterpret_cast<char*>(&v), sizeof v)) throw std::runtime_error(path + ": truncated fixture");
  return v;
}

}  // namespace

std::map<std::string, Tensor> read_fixture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "SSEFIX1\n", 8) != 0) throw std::runtime_error(path + ": not a fixture");
  std::map<std::string, Tensor> out;
  const auto count = read<std::uint32_t>(in, path);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name(read<std::uint32_t>(in, path), '\0');
    in.read(name.data(), static_cast<std::streamsize>(name.size()));
    const auto code = read<std::uint32_t>(in, path), rank = read<std::uint32_t>(in, path);
    Shape s;
    for (std::uint32_t r = 0; r < rank; ++r) s.push_back(read<std::int64_t>(in, path));
    Tensor t = Tensor::empty(s, code == 0 ? DType::F32 : DType::I32);
    if (!in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes())))
      throw std::runtime_error(path + ": truncated tensor " + name);
    out.emplace(name, t);
  }
  return out;
}

std::string data_path(const std::string& relative) { return std::string(SSE_TEST_DATA_DIR) + "/" + relative; }

}  // namespace sse::test
