// engine/checkpoint.h — the one file format for trained state.
//
// Layout (little-endian):
//   "SSEUNETC" (8 bytes) | u32 format version | u32 0 | u64 n | n bytes of JSON metadata |
//   tensor data, each 64-byte aligned, in the order of meta["tensors"] | u32 CRC-32 of all before.
// meta["tensors"] lists {name, dtype, shape, offset, bytes}; the rest of meta is the caller's (model
// config, step, epoch, RNG state, optimizer settings ...).
//
// save_checkpoint writes "<path>.tmp-<pid>" and renames it over `path`, so a crash never leaves a
// half-written checkpoint. load_checkpoint reads into CPU tensors and throws CheckpointError saying
// what is wrong: not a checkpoint (foreign file), a newer format version, truncated, or corrupted
// (checksum mismatch).
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "engine/tensor.h"

namespace sse {

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();
  NamedTensors tensors;
  // The tensor called `name`, or an undefined Tensor.
  Tensor find(const std::string& name) const;
};

void save_checkpoint(const std::string& path, const Checkpoint& ck);
Checkpoint load_checkpoint(const std::string& path);

}  // namespace sse
