#include "engine/checkpoint.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace sse {
namespace {

constexpr char kMagic[8] = {'S', 'S', 'E', 'U', 'N', 'E', 'T', 'C'};
constexpr std::size_t kAlign = 64;

std::size_t aligned(std::size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

template <typename T> void put(std::vector<char>& buf, T v) {
  const char* p = reinterpret_cast<const char*>(&v);
  buf.insert(buf.end(), p, p + sizeof(T));
}

template <typename T> T get(const std::vector<char>& buf, std::size_t at) {
  T v;
  std::memcpy(&v, buf.data() + at, sizeof(T));
  return v;
}

DType dtype_from(const std::string& s, const std::string& path) {
  for (DType d : {DType::F32, DType::I32, DType::U8})
    if (s == dtype_name(d)) return d;
  throw CheckpointError(path + ": corrupted checkpoint (unknown dtype '" + s + "')");
}

std::uint32_t crc(const char* p, std::size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

}  // namespace

Tensor Checkpoint::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  return Tensor();
}

void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  nlohmann::json meta = ck.meta;
  nlohmann::json index = nlohmann::json::array();
  std::size_t offset = 0;
  for (const auto& [name, t] : ck.tensors) {
    index.push_back({{"name", name}, {"dtype", dtype_name(t.dtype())},
                     {"shape", std::vector<index_t>(t.shape().begin(), t.shape().end())},
                     {"offset", offset}, {"bytes", t.nbytes()}});
    offset = aligned(offset + t.nbytes());
  }
  meta["tensors"] = index;
  const std::string text = meta.dump();
  std::vector<char> buf(kMagic, kMagic + 8);
  put<std::uint32_t>(buf, kCheckpointVersion);
  put<std::uint32_t>(buf, 0);
  put<std::uint64_t>(buf, text.size());
  buf.insert(buf.end(), text.begin(), text.end());
  buf.resize(aligned(buf.size()), 0);
  const std::size_t data0 = buf.size();
  buf.resize(data0 + offset, 0);
  std::size_t i = 0;
  for (const auto& [name, t] : ck.tensors) {
    const std::size_t at = data0 + index[i++]["offset"].get<std::size_t>();
    copy_bytes(buf.data() + at, Device::cpu(), t.raw(), t.device(), t.nbytes());
  }
  put<std::uint32_t>(buf, crc(buf.data(), buf.size()));

  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw CheckpointError(path + ": cannot write checkpoint");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw CheckpointError(path + ": cannot move checkpoint into place");
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open checkpoint");
  const std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (buf.size() < 24 || std::memcmp(buf.data(), kMagic, 8) != 0)
    throw CheckpointError(path + ": not an sseunet checkpoint");
  const auto version = get<std::uint32_t>(buf, 8);
  if (version != kCheckpointVersion)
    throw CheckpointError(path + ": checkpoint format version " + std::to_string(version) + ", this sseunet reads " +
                          std::to_string(kCheckpointVersion));
  const auto n = get<std::uint64_t>(buf, 16);
  if (24 + n + 4 > buf.size()) throw CheckpointError(path + ": truncated checkpoint");
  const std::size_t data0 = aligned(24 + n);
  Checkpoint ck;
  try {
    ck.meta = nlohmann::json::parse(buf.begin() + 24, buf.begin() + 24 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception&) {
    throw CheckpointError(path + ": corrupted checkpoint (metadata unreadable)");
  }
  std::size_t end = data0;
  for (const auto& e : ck.meta.value("tensors", nlohmann::json::array()))
    end = std::max(end, data0 + e.value("offset", std::size_t{0}) + e.value("bytes", std::size_t{0}));
  if (end + 4 > buf.size()) throw CheckpointError(path + ": truncated checkpoint");
  if (crc(buf.data(), buf.size() - 4) != get<std::uint32_t>(buf, buf.size() - 4))
    throw CheckpointError(path + ": corrupted checkpoint (checksum mismatch)");
  for (const auto& e : ck.meta["tensors"]) {
    const auto dims = e.at("shape").get<std::vector<index_t>>();
    Tensor t = Tensor::empty(Shape(dims.begin(), dims.end()), dtype_from(e.at("dtype"), path));
    if (t.nbytes() != e.at("bytes").get<std::size_t>()) throw CheckpointError(path + ": corrupted checkpoint (sizes)");
    std::memcpy(t.raw(), buf.data() + data0 + e.at("offset").get<std::size_t>(), t.nbytes());
    ck.tensors.emplace_back(e.at("name").get<std::string>(), t);
  }
  ck.meta.erase("tensors");
  return ck;
}

}  // namespace sse
