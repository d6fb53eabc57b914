// Tiled U-Net inference (contract in apps/inference.h).
#include "apps/inference.h"

#include <algorithm>
#include <cmath>

#include "apps/interrupt.h"
#include "engine/ops.h"
#include "io/grid_ops.h"

namespace sse::app {

namespace {

// The tile edge along an axis of n voxels: the fewest tiles of at most `tile` voxels overlapping by
// `overlap` that cover n, then shrunk evenly so they waste little (a 66-voxel axis gets 2 tiles of
// 44, not 2 of 64), rounded up to the network's size multiple (it would pad to it anyway).
int balanced_edge(int n, int tile, int overlap, int multiple) {
  if (n <= tile) return n;
  const int k = (n - overlap + (tile - overlap) - 1) / (tile - overlap);  // tiles needed
  const int even = (n + (k - 1) * overlap + k - 1) / k;
  return std::min(tile, (even + multiple - 1) / multiple * multiple);
}

// Per-axis tile and overlap: a tile never exceeds the grid, and the overlap stays below the tile
// (io::plan_tiles requires tile > overlap).
void tile_geometry(const io::GridGeometry& g, const TileOptions& o, int multiple, io::Index3& edge,
                   io::Index3& overlap) {
  const io::Index3 n = g.dims();
  for (int a = 0; a < 3; ++a) {
    edge[a] = balanced_edge(n[a], o.tile, o.overlap, multiple);
    overlap[a] = std::max(0, std::min(o.overlap, edge[a] - 1));
  }
}

// Softmax probabilities (3 channels, x fastest within each) of the network on one box of the grid.
std::vector<float> run_tile(net::UNet3d& model, const io::Grid& grid, const io::IndexBox& box, Device dev) {
  const io::Grid crop = io::crop(grid, box, 0.f);
  const Tensor x = Tensor::from_vector(crop.data, Shape{1, 1, crop.nz, crop.ny, crop.nx}, dev);
  return ops::softmax_channels(model.forward(x)).to_vector<float>();
}

}  // namespace

int auto_tile(const net::UNetConfig& cfg) {
  // Measured on the CPU (README.md): one tile's forward pass peaks near 36 bytes × width × tile³
  // (0.6 GB at width 64, tile 64) while voxels per second hardly depend on the tile size, so the
  // default is 64, or less when the width would push a tile past 1 GB. A multiple of 16, ≥ 16.
  constexpr double kBudget = 1e9, kBytesPerVoxelChannel = 36;
  const double edge = std::cbrt(kBudget / (kBytesPerVoxelChannel * std::max(1, cfg.width)));
  return std::max(16, std::min(64, int(edge) / 16 * 16));
}

void check_tiles(const TileOptions& t) {
  if (t.tile != 0 && t.tile < 16) throw UsageError("--tile must be 0 (auto) or at least 16");
  const int smallest = t.tile > 0 ? t.tile : 64;  // auto tiles: checked against the usual 64
  if (t.overlap < 0 || 2 * t.overlap >= smallest)
    throw UsageError("--overlap must be at least 0 and less than half the tile (" + std::to_string(smallest) + ")");
}

io::Grid prepare_input(const io::Grid& raw) {
  io::Grid g = io::resample(raw, {1, 1, 1});
  io::normalize(g);
  return g;
}

Probabilities predict_probabilities(net::UNet3d& model, const io::Grid& normalized, const TileOptions& tiles,
                                    Device dev, const Reporter& reporter) {
  check_tiles(tiles);
  TileOptions t = tiles;
  if (t.tile == 0) {  // an auto tile under 64 (very wide models) keeps the overlap under half of it
    t.tile = auto_tile(model.config());
    t.overlap = std::min(t.overlap, t.tile / 2 - 1);
  }
  io::Index3 edge{}, overlap{};
  tile_geometry(normalized, t, int(model.size_multiple()), edge, overlap);
  const std::vector<io::IndexBox> boxes = io::plan_tiles(normalized.dims(), edge, overlap);
  io::TileBlender blender(normalized, 2, edge, overlap);  // helix and sheet; background = 1 − both
  const std::size_t per_channel = std::size_t(edge[0]) * edge[1] * edge[2];
  NoGradGuard no_grad;
  model.eval();
  Progress bar(reporter, "predict", "tiles", static_cast<long long>(boxes.size()));
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const std::vector<float> p = run_tile(model, normalized, boxes[i], dev);
    blender.add(boxes[i], p.data() + per_channel);  // channels 1 (helix) and 2 (sheet) are contiguous
    throw_if_interrupted();
    bar.update(static_cast<long long>(i + 1));
  }
  bar.finish();
  std::vector<io::Grid> merged = blender.result();
  return {std::move(merged[0]), std::move(merged[1])};
}

Masks masks_from(const Probabilities& p) {
  Masks m{io::LabelGrid(p.helix, 0), io::LabelGrid(p.sheet, 0)};
  for (std::size_t i = 0; i < p.helix.data.size(); ++i) {
    const float h = p.helix.data[i], s = p.sheet.data[i], bg = 1.f - h - s;
    m.helix.data[i] = h > bg && h >= s;
    m.sheet.data[i] = s > bg && s > h;
  }
  return m;
}

}  // namespace sse::app
