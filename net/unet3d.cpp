#include "net/unet3d.h"

#include <nlohmann/json.hpp>

#include "engine/profiler.h"

namespace sse::net {

std::string UNetConfig::to_json() const {
  const nlohmann::json j{{"arch", "unet3d"},   {"in_channels", in_channels}, {"classes", classes},
                         {"width", width},     {"levels", levels},           {"dropout", dropout},
                         {"init_std", init_std}};
  return j.dump();
}

UNetConfig UNetConfig::from_json(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  if (j.value("arch", std::string("unet3d")) != "unet3d")
    throw EngineError("model config: unknown architecture '" + j.value("arch", std::string()) + "'");
  UNetConfig c;
  c.in_channels = j.value("in_channels", c.in_channels);
  c.classes = j.value("classes", c.classes);
  c.width = j.value("width", c.width);
  c.levels = j.value("levels", c.levels);
  c.dropout = j.value("dropout", c.dropout);
  c.init_std = j.value("init_std", c.init_std);
  return c;
}

bool UNetConfig::operator==(const UNetConfig& o) const {
  return in_channels == o.in_channels && classes == o.classes && width == o.width && levels == o.levels &&
         dropout == o.dropout && init_std == o.init_std;
}

UNet3d::UNet3d(const UNetConfig& cfg, std::uint64_t seed) : cfg_(cfg), dropout_rng_(seed ^ 0x5eed5eedULL) {
  if (cfg.levels < 1 || cfg.width < 2 || cfg.width % 2 || cfg.in_channels < 1 || cfg.classes < 2)
    throw EngineError("UNet3d: invalid config " + cfg.to_json());
  std::vector<index_t> widths;  // output channels of each encoder level
  index_t in = cfg.in_channels;
  for (int i = 0; i < cfg.levels; ++i) {
    const index_t out = static_cast<index_t>(cfg.width) << i;
    const index_t mid = i == 0 ? out / 2 : in;
    down_.push_back(&register_module("down_" + std::to_string(i + 1) + ".conv", std::make_unique<ConvBlock>(in, mid, out)));
    widths.push_back(out);
    in = out;
  }
  for (int j = 0; j + 1 < cfg.levels; ++j) {
    const index_t skip = widths[static_cast<std::size_t>(cfg.levels - 2 - j)];
    const std::string name = "up_" + std::to_string(j + 1);
    up_.push_back(&register_module(name + ".up", std::make_unique<ConvTranspose3d>(in, in)));
    up_block_.push_back(&register_module(name + ".conv", std::make_unique<ConvBlock>(in + skip, skip, skip)));
    in = skip;
  }
  out_ = &register_module("out", std::make_unique<Conv3d>(in, cfg.classes, 1));
  init_weights(seed);
}

void UNet3d::init_weights(std::uint64_t seed) {
  Generator g(seed);
  for (auto& [name, t] : named_parameters()) {
    const bool conv_weight = t.rank() == 5;
    if (!conv_weight) continue;  // biases stay 0, BatchNorm γ = 1 and β = 0
    Tensor w = t;
    fill_normal(w, 0.0f, cfg_.init_std, g);
  }
}

Tensor UNet3d::forward(const Tensor& x) {
  if (x.rank() != 5 || x.dim(1) != cfg_.in_channels)
    throw EngineError("UNet3d: expected input (N, " + std::to_string(cfg_.in_channels) + ", D, H, W), got " + x.str());
  const index_t m = size_multiple();
  auto up_to = [m](index_t v) { return (v + m - 1) / m * m; };
  const index_t d = x.dim(2), h = x.dim(3), w = x.dim(4);
  if (up_to(d) == d && up_to(h) == h && up_to(w) == w) return forward_padded(x);
  Tensor y = forward_padded(ops::box(x, up_to(d), up_to(h), up_to(w)));
  return ops::box(y, d, h, w);
}

Tensor UNet3d::forward_padded(const Tensor& x) {
  // Inference keeps memory lean: each intermediate tensor is released as soon as its last consumer
  // has run (the reassignments below drop the previous value; a skip is dropped once its decoder
  // block has read it), so the peak is a few activations of the largest level, not all of them.
  const bool train = training();
  std::vector<Tensor> skips;
  Tensor t = x;
  for (std::size_t i = 0; i < down_.size(); ++i) {
    LayerScope scope("down_" + std::to_string(i + 1));
    t = down_[i]->forward(t);
    if (i + 1 == down_.size()) break;
    skips.push_back(t);  // the skip carries the block output before dropout
    t = ops::max_pool3d(ops::dropout(t, cfg_.dropout, train, dropout_rng_, first_sample_));
  }
  for (std::size_t j = 0; j < up_.size(); ++j) {
    LayerScope scope("up_" + std::to_string(j + 1));
    Tensor skip = std::move(skips[skips.size() - 1 - j]);
    Tensor up = up_[j]->forward(t);
    t = Tensor();
    t = up_block_[j]->forward(up, skip);  // the block on concat(up, skip)
    up = Tensor();
    skip = Tensor();
    t = ops::dropout(t, cfg_.dropout, train, dropout_rng_, first_sample_);
  }
  LayerScope scope("out");
  return out_->forward(t);
}

}  // namespace sse::net
