// net/unet3d.h — DeepSSETracer's 3D U-Net (the study's network), any depth and width.
//
// Defaults (the study): 3 levels, base width 64. Encoder block i (1-based) outputs base·2^(i−1)
// channels: block 1 is 1→base/2→base, later blocks c→c→2c; dropout then 2×2×2 max-pool between
// levels. Decoder level j: transposed conv k2 s2 keeping channels, concat [upsampled, skip], block
// (up+skip)→skip→skip, dropout; a 1×1×1 conv maps base → classes. Conv and transposed-conv weights
// N(0, 0.1) from the seed, biases 0, BatchNorm γ = 1, β = 0. 4.6 M parameters at the defaults.
//
// Names: down_1 … down_L (blocks, each "down_i.conv.{0,1,3,4}.*"), up_1 … up_{L−1} (from the
// bottom: "up_j.up.*" the transposed conv, "up_j.conv.*" the block), out.* (the 1×1 conv).
//
// Any input size: forward pads D, H, W with zeros up to a multiple of 2^(L−1) and crops the logits
// back, so callers never see that constraint. Input (N, in_channels, D, H, W) → logits (N, classes,
// D, H, W).
#pragma once

#include <string>
#include <vector>

#include "engine/random.h"
#include "net/layers.h"

namespace sse::net {

struct UNetConfig {
  int in_channels = 1;
  int classes = 3;
  int width = 64;   // channels of the first level's output
  int levels = 3;
  float dropout = 0.5f;
  float init_std = 0.1f;
  std::string to_json() const;
  static UNetConfig from_json(const std::string& json);  // missing keys keep defaults
  bool operator==(const UNetConfig& o) const;
};

class UNet3d : public Module {
 public:
  explicit UNet3d(const UNetConfig& cfg, std::uint64_t seed = 0);
  Tensor forward(const Tensor& x);
  const UNetConfig& config() const { return cfg_; }
  // The generator dropout draws from; part of the training state a checkpoint saves.
  Generator& dropout_rng() { return dropout_rng_; }
  // The index of the input's first sample in the step's whole batch, of which data-parallel ranks
  // hold parts: dropout masks are drawn per sample from it (ops::dropout), so they do not depend on
  // the rank count. 0 (the default) for a whole batch.
  void set_first_sample(index_t n) { first_sample_ = n; }
  // D, H, W must be multiples of this for the inner network (forward pads to it).
  index_t size_multiple() const { return index_t{1} << (cfg_.levels - 1); }

 private:
  Tensor forward_padded(const Tensor& x);
  void init_weights(std::uint64_t seed);

  UNetConfig cfg_;
  std::vector<ConvBlock*> down_;
  std::vector<ConvTranspose3d*> up_;
  std::vector<ConvBlock*> up_block_;
  Conv3d* out_ = nullptr;
  Generator dropout_rng_;
  index_t first_sample_ = 0;
};

}  // namespace sse::net
