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

void add_tile_options(CLI::App& sub, TileOptions& t, const std::string& prefix) {
  sub.add_option("--tile", t.tile, prefix + "tile edge in voxels at 1 A (0 = auto: 64, less for models wider than 64)")
      ->capture_default_str();
  sub.add_option("--overlap", t.overlap, prefix + "voxels shared by neighbouring tiles")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--tta", t.tta,
               prefix + "test-time augmentation: average the predictions of the 8 axis-flipped maps (8x the time)");
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

namespace {

// The tiles of a grid: the same for every flipped view (the dims do not change).
struct TilePlan {
  io::Index3 edge{}, overlap{};
  std::vector<io::IndexBox> boxes;
};

TilePlan plan_for(const net::UNet3d& model, const io::GridGeometry& g, const TileOptions& tiles) {
  TileOptions t = tiles;
  if (t.tile == 0) {  // an auto tile under 64 (very wide models) keeps the overlap under half of it
    t.tile = auto_tile(model.config());
    t.overlap = std::min(t.overlap, t.tile / 2 - 1);
  }
  TilePlan plan;
  tile_geometry(g, t, int(model.size_multiple()), plan.edge, plan.overlap);
  plan.boxes = io::plan_tiles(g.dims(), plan.edge, plan.overlap);
  return plan;
}

// One pass of the tiled network over the grid (one view); the bar counts on from `done`.
Probabilities predict_once(net::UNet3d& model, const io::Grid& normalized, const TilePlan& plan, Device dev,
                           Progress& bar, long long done) {
  io::TileBlender blender(normalized, 2, plan.edge, plan.overlap);  // helix and sheet; background = 1 − both
  const std::size_t per_channel = std::size_t(plan.edge[0]) * plan.edge[1] * plan.edge[2];
  for (std::size_t i = 0; i < plan.boxes.size(); ++i) {
    const std::vector<float> p = run_tile(model, normalized, plan.boxes[i], dev);
    blender.add(plan.boxes[i], p.data() + per_channel);  // channels 1 (helix) and 2 (sheet) are contiguous
    throw_if_interrupted();
    bar.update(done + static_cast<long long>(i + 1));
  }
  std::vector<io::Grid> merged = blender.result();
  return {std::move(merged[0]), std::move(merged[1])};
}

void accumulate(io::Grid& sum, const io::Grid& add) {
  for (std::size_t i = 0; i < sum.data.size(); ++i) sum.data[i] += add.data[i];
}

}  // namespace

io::Grid flipped(const io::Grid& g, int axes) {
  io::Grid out(g.geometry());
  for (int z = 0; z < g.nz; ++z)
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x)
        out.at(axes & 1 ? g.nx - 1 - x : x, axes & 2 ? g.ny - 1 - y : y, axes & 4 ? g.nz - 1 - z : z) = g.at(x, y, z);
  return out;
}

Probabilities predict_probabilities(net::UNet3d& model, const io::Grid& normalized, const TileOptions& tiles,
                                    Device dev, const Reporter& reporter) {
  check_tiles(tiles);
  NoGradGuard no_grad;
  model.eval();
  const int views = tiles.tta ? 8 : 1;
  const TilePlan plan = plan_for(model, normalized, tiles);
  const auto per_view = static_cast<long long>(plan.boxes.size());
  Progress bar(reporter, "predict", "tiles", per_view * views);
  Probabilities mean = predict_once(model, normalized, plan, dev, bar, 0);
  for (int axes = 1; axes < views; ++axes) {
    const Probabilities p = predict_once(model, flipped(normalized, axes), plan, dev, bar, per_view * axes);
    accumulate(mean.helix, flipped(p.helix, axes));
    accumulate(mean.sheet, flipped(p.sheet, axes));
  }
  bar.finish();
  if (views > 1)
    for (io::Grid* g : {&mean.helix, &mean.sheet})
      for (float& v : g->data) v /= float(views);
  return mean;
}

namespace {

// The samples of `g` on `sub`, a box of g's own lattice (same spacing, origin on a lattice point).
io::Grid on_sub_lattice(const io::Grid& g, const io::GridGeometry& sub) {
  io::IndexBox box;
  const double from[3] = {sub.origin.x - g.origin.x, sub.origin.y - g.origin.y, sub.origin.z - g.origin.z};
  const double step[3] = {g.voxel.x, g.voxel.y, g.voxel.z};
  const int size[3] = {sub.nx, sub.ny, sub.nz};
  for (int a = 0; a < 3; ++a) {
    box.lo[a] = int(std::lround(from[a] / step[a]));
    box.hi[a] = box.lo[a] + size[a];
  }
  return io::crop(g, box);
}

}  // namespace

Probabilities predict_on_zone(net::UNet3d& model, io::Grid context, const io::GridGeometry& zone,
                              const TileOptions& tiles, Device dev) {
  io::normalize(context);
  const Probabilities p = predict_probabilities(model, context, tiles, dev, Reporter::silent());
  return {on_sub_lattice(p.helix, zone), on_sub_lattice(p.sheet, zone)};
}

Masks masks_from(const Probabilities& p, const Decision& d) {
  Masks m{io::LabelGrid(p.helix, 0), io::LabelGrid(p.sheet, 0)};
  for (std::size_t i = 0; i < p.helix.data.size(); ++i) {
    const std::uint8_t c = decide(p.helix.data[i], p.sheet.data[i], d);
    m.helix.data[i] = c == 1;
    m.sheet.data[i] = c == 2;
  }
  return m;
}

}  // namespace sse::app
