// io/simulate.cpp — see simulate.h.
#include "io/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "io/error.h"
#include "io/grid_ops.h"
#include "kernels/philox.h"

namespace sse::io {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kSlabPlanes = 8;              // z-planes per parallel work item
constexpr double kBlurTruncation = 4.0;     // blur kernels reach 4σ (weight beyond: < 4e-5)
constexpr std::uint64_t kDrawStream = 0;    // Philox offset of the drawn values
constexpr std::uint64_t kNoiseStream = 1;   // Philox offset of the noise field

void append_chain(const Chain& c, const SimulateOptions& o, WeightedAtoms& out) {
  for (std::size_t i = 0; i < c.atoms.size(); ++i) {
    const float occupancy = o.weight_by_occupancy && i < c.occupancies.size() ? c.occupancies[i] : 1.f;
    const float z = i < c.elements.size() ? float(c.elements[i]) : 0.f;
    out.positions.push_back(c.atoms[i]);
    out.weights.push_back(z * occupancy);
  }
}

void check_options(const Model& model, const SimulateOptions& o) {
  if (!(o.resolution > 0) || !std::isfinite(o.resolution))
    throw file_error(model.path, "cannot simulate at resolution " + std::to_string(o.resolution) + " Å (must be > 0)");
  if (!(o.sigma_factor > 0) || !(o.cutoff_sigmas > 0))
    throw std::invalid_argument("simulate: sigma_factor and cutoff_sigmas must be > 0");
}

// Per-axis factors exp(−(p − a)²/2σ²) over the samples [lo, hi) of one axis, and their squared offsets.
void axis_factors(double a, double origin, double step, int lo, int hi, double inv2s2, std::vector<double>& g,
                  std::vector<double>& d2) {
  g.resize(std::size_t(hi - lo));
  d2.resize(std::size_t(hi - lo));
  for (int i = lo; i < hi; ++i) {
    const double d = origin + i * step - a;
    d2[std::size_t(i - lo)] = d * d;
    g[std::size_t(i - lo)] = std::exp(-d * d * inv2s2);
  }
}

// Adds one atom's sphere to the planes [z_lo, z_hi) of its box.
void splat_atom(Vec3 a, float w, const IndexBox& box, int z_lo, int z_hi, double sigma, double radius, Grid& grid) {
  const double inv2s2 = 1.0 / (2 * sigma * sigma), r2 = radius * radius;
  thread_local std::vector<double> gx, gy, gz, dx2, dy2, dz2;
  axis_factors(a.x, grid.origin.x, grid.voxel.x, box.lo[0], box.hi[0], inv2s2, gx, dx2);
  axis_factors(a.y, grid.origin.y, grid.voxel.y, box.lo[1], box.hi[1], inv2s2, gy, dy2);
  axis_factors(a.z, grid.origin.z, grid.voxel.z, z_lo, z_hi, inv2s2, gz, dz2);
  const std::size_t width = gx.size();
  for (int z = z_lo; z < z_hi; ++z) {
    const std::size_t kz = std::size_t(z - z_lo);
    for (int y = box.lo[1]; y < box.hi[1]; ++y) {
      const std::size_t ky = std::size_t(y - box.lo[1]);
      const double rest = r2 - dz2[kz] - dy2[ky], wyz = w * gz[kz] * gy[ky];
      // dx² is convex along the row: the samples inside the sphere are one run [lo, hi).
      std::size_t lo = 0, hi = width;
      while (lo < hi && dx2[lo] > rest) ++lo;
      while (hi > lo && dx2[hi - 1] > rest) --hi;
      float* row = &grid.data[grid.index(box.lo[0], y, z)];
      for (std::size_t kx = lo; kx < hi; ++kx) row[kx] += float(wyz * gx[kx]);
    }
  }
}

// Atoms listed per z-slab (CSR, model order within a slab): slab s holds planes
// [s·kSlabPlanes, (s+1)·kSlabPlanes) and every atom whose box reaches one of them.
struct SlabLists {
  std::vector<std::size_t> start, atoms;
  std::vector<IndexBox> boxes;  // per atom, clipped to the grid
};

SlabLists slab_lists(const WeightedAtoms& atoms, const GridGeometry& g, double radius) {
  SlabLists l;
  l.start.assign(std::size_t((g.nz + kSlabPlanes - 1) / kSlabPlanes) + 1, 0);
  l.boxes.resize(atoms.positions.size());
  for (std::size_t i = 0; i < atoms.positions.size(); ++i) l.boxes[i] = g.box_around(atoms.positions[i], radius);
  const auto for_each_slab = [&](std::size_t i, auto&& f) {  // the slabs atom i reaches
    const IndexBox& b = l.boxes[i];
    if (b.empty() || atoms.weights[i] == 0.f) return;
    for (int s = b.lo[2] / kSlabPlanes; s <= (b.hi[2] - 1) / kSlabPlanes; ++s) f(std::size_t(s));
  };
  for (std::size_t i = 0; i < atoms.positions.size(); ++i)
    for_each_slab(i, [&](std::size_t s) { ++l.start[s + 1]; });
  for (std::size_t s = 1; s < l.start.size(); ++s) l.start[s] += l.start[s - 1];
  l.atoms.resize(l.start.back());
  std::vector<std::size_t> fill(l.start.begin(), l.start.end() - 1);
  for (std::size_t i = 0; i < atoms.positions.size(); ++i)
    for_each_slab(i, [&](std::size_t s) { l.atoms[fill[s]++] = i; });
  return l;
}

// Normalized Gaussian kernel of σ samples, half-width ⌈4σ⌉ (a single 1 when σ ≤ 0).
std::vector<float> gaussian_kernel(double sigma_samples) {
  if (!(sigma_samples > 0)) return {1.f};
  const int half = int(std::ceil(kBlurTruncation * sigma_samples));
  const auto g = [&](int i) { return std::exp(-0.5 * i * i / (sigma_samples * sigma_samples)); };
  double sum = 0;
  for (int i = -half; i <= half; ++i) sum += g(i);
  std::vector<float> k;
  for (int i = -half; i <= half; ++i) k.push_back(float(g(i) / sum));
  return k;
}

// Convolves every x-line with `k` (centred), reading 0 outside: each line is copied into a
// zero-padded buffer so the inner loop runs over contiguous outputs without bounds tests.
void convolve_x(Grid& grid, const std::vector<float>& k) {
  const std::size_t nx = std::size_t(grid.nx), half = k.size() / 2;
  const long lines = long(grid.data.size() / nx);
#pragma omp parallel
  {
    std::vector<float> buf(nx + 2 * half, 0.f), out(nx);
#pragma omp for schedule(static)
    for (long l = 0; l < lines; ++l) {
      float* line = &grid.data[std::size_t(l) * nx];
      std::copy(line, line + nx, buf.begin() + long(half));
      std::fill(out.begin(), out.end(), 0.f);
      for (std::size_t j = 0; j < k.size(); ++j)
        for (std::size_t i = 0; i < nx; ++i) out[i] += k[j] * buf[i + j];
      std::copy(out.begin(), out.end(), line);
    }
  }
}

// Convolves along y (axis 1) or z (axis 2), reading 0 outside. The data is seen as
// [outer][len][inner] with `len` samples along the axis, so every step adds a whole contiguous row
// of `inner` samples; each output row is computed independently from a copy of the input.
void convolve_rows(Grid& grid, int axis, const std::vector<float>& k) {
  const Index3 n = grid.dims();
  const long len = n[axis], half = long(k.size() / 2);
  const std::size_t inner = axis == 1 ? std::size_t(n[0]) : std::size_t(n[0]) * std::size_t(n[1]);
  const long rows = long(grid.data.size() / inner);  // outer × len
  const std::vector<float> in = grid.data;
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; ++r) {
    const long i = r % len, first = r - i;  // position along the axis, row of position 0
    float* dst = &grid.data[std::size_t(r) * inner];
    std::fill(dst, dst + inner, 0.f);
    for (long j = std::max(-half, -i); j <= std::min(half, len - 1 - i); ++j) {
      const float* src = &in[std::size_t(first + i + j) * inner];
      const float w = k[std::size_t(j + half)];
      for (std::size_t x = 0; x < inner; ++x) dst[x] += w * src[x];
    }
  }
}

void convolve_axis(Grid& grid, int axis, const std::vector<float>& k) {
  if (k.size() == 1) return;
  if (axis == 0) convolve_x(grid, k);
  else convolve_rows(grid, axis, k);
}

double sum_of_squares(const std::vector<float>& k) {
  double s = 0;
  for (float v : k) s += double(v) * v;
  return s;
}

double uniform_in(double lo, double hi, std::uint64_t seed, std::uint64_t i) {
  return lo + double(philox_uniform(seed, kDrawStream, i)) * (hi - lo);
}

void check_range(double lo, double hi, const char* what) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi))
    throw std::invalid_argument(std::string("Realism: ") + what + " range must satisfy min <= max");
}

// Variance of `signal` over the samples where `support` is > 0.
double variance_over_support(const Grid& signal, const Grid& support) {
  double sum = 0, sum2 = 0;
  long n = 0;
  for (std::size_t i = 0; i < signal.data.size(); ++i) {
    if (!(support.data[i] > 0)) continue;
    sum += signal.data[i];
    sum2 += double(signal.data[i]) * signal.data[i];
    ++n;
  }
  if (n == 0) throw std::invalid_argument("add_realism: the map has no positive sample to measure the signal on");
  const double mean = sum / double(n);
  return std::max(0.0, sum2 / double(n) - mean * mean);
}

// Standard normals for samples 2j and 2j+1 of the noise field: Box–Muller on the words of one
// Philox block (counter j, stream kNoiseStream, key seed).
void normal_pair(std::uint64_t seed, std::uint64_t j, float* out, std::size_t count) {
  const PhiloxOut o = philox4x32_10(std::uint32_t(j), std::uint32_t(j >> 32), std::uint32_t(kNoiseStream),
                                    std::uint32_t(kNoiseStream >> 32), std::uint32_t(seed), std::uint32_t(seed >> 32));
  const float u1 = 1.f - float(o.v[0] >> 8) * (1.f / 16777216.f);  // (0, 1], exact in float
  const float u2 = float(o.v[1] >> 8) * (1.f / 16777216.f);
  const float r = std::sqrt(-2.f * std::log(u1)), t = float(2 * kPi) * u2;
  out[0] = r * std::cos(t);
  if (count > 1) out[1] = r * std::sin(t);
}

// Zero-mean noise of standard deviation `stddev` on `g`'s lattice, low-passed by a Gaussian of σ Å.
// Drawn white on a box padded by the kernel's reach so every sample sees a full kernel (stationary
// noise, edges included), blurred, cropped, and scaled by the blurred field's expected variance
// (Π over axes of Σ k², the kernels being normalized to sum 1).
Grid lowpass_noise(const GridGeometry& g, double sigma, double stddev, std::uint64_t seed) {
  GridGeometry padded = g;
  Index3 pad{0, 0, 0};
  std::vector<float> kernels[3];
  double unit_variance = 1;
  for (int a = 0; a < 3; ++a) {
    kernels[a] = gaussian_kernel(sigma / g.voxel[a]);
    pad[a] = int(kernels[a].size() / 2);
    unit_variance *= sum_of_squares(kernels[a]);
  }
  padded.nx += 2 * pad[0];
  padded.ny += 2 * pad[1];
  padded.nz += 2 * pad[2];
  padded.origin = g.origin - Vec3{pad[0] * g.voxel.x, pad[1] * g.voxel.y, pad[2] * g.voxel.z};
  Grid noise(padded);
  const long pairs = long((noise.data.size() + 1) / 2);
#pragma omp parallel for schedule(static)
  for (long j = 0; j < pairs; ++j)
    normal_pair(seed, std::uint64_t(j), &noise.data[2 * std::size_t(j)], noise.data.size() - 2 * std::size_t(j));
  for (int a = 0; a < 3; ++a) convolve_axis(noise, a, kernels[a]);
  Grid out = crop(noise, IndexBox{pad, {pad[0] + g.nx, pad[1] + g.ny, pad[2] + g.nz}});
  const float f = float(stddev / std::sqrt(unit_variance));
  for (float& v : out.data) v *= f;
  return out;
}

}  // namespace

double parse_sigma_factor(const std::string& text) {
  if (text == "chimera" || text == "molmap") return kSigmaChimera;
  if (text == "eman") return kSigmaEman;
  if (text == "tempy") return kSigmaTempy;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v))
    throw std::invalid_argument("sigma factor must be chimera, eman, tempy or a positive number, got '" + text + "'");
  return v;
}

WeightedAtoms weighted_atoms(const Model& model, const std::string& chain, const SimulateOptions& o) {
  WeightedAtoms out;
  if (chain.empty()) {
    for (const Chain& c : model.chains) append_chain(c, o, out);
  } else {
    append_chain(model.chain(chain), o, out);
  }
  if (out.positions.empty())
    throw file_error(model.path, chain.empty() ? std::string("no atoms to simulate")
                                               : "chain '" + chain + "' has no atoms to simulate");
  return out;
}

void add_gaussians(const WeightedAtoms& atoms, double sigma, double cutoff_sigmas, Grid& grid) {
  if (atoms.weights.size() != atoms.positions.size() || grid.data.size() != grid.size())
    throw std::invalid_argument("add_gaussians: atoms and weights, or grid and data, differ in size");
  if (!(sigma > 0) || !(cutoff_sigmas > 0)) throw std::invalid_argument("add_gaussians: sigma and cutoff must be > 0");
  const double radius = cutoff_sigmas * sigma;
  const SlabLists l = slab_lists(atoms, grid, radius);
  const long slabs = long(l.start.size()) - 1;
#pragma omp parallel for schedule(dynamic)
  for (long s = 0; s < slabs; ++s) {
    const int z0 = int(s) * kSlabPlanes, z1 = std::min(grid.nz, z0 + kSlabPlanes);
    for (std::size_t k = l.start[std::size_t(s)]; k < l.start[std::size_t(s) + 1]; ++k) {
      const std::size_t i = l.atoms[k];
      const IndexBox& b = l.boxes[i];
      splat_atom(atoms.positions[i], atoms.weights[i], b, std::max(z0, b.lo[2]), std::min(z1, b.hi[2]), sigma,
                 radius, grid);
    }
  }
}

GridGeometry lattice_around(const std::vector<Vec3>& points, Vec3 voxel, double padding) {
  if (points.empty()) throw std::invalid_argument("lattice_around: no points");
  if (!(voxel.x > 0) || !(voxel.y > 0) || !(voxel.z > 0) || !(padding >= 0))
    throw std::invalid_argument("lattice_around: voxel must be > 0 and padding >= 0");
  GridGeometry g;
  g.voxel = voxel;
  Index3 n{};
  for (int a = 0; a < 3; ++a) {
    double lo = points[0][a], hi = lo;
    for (const Vec3& p : points) {
      lo = std::min(lo, p[a]);
      hi = std::max(hi, p[a]);
    }
    const double first = std::floor((lo - padding) / voxel[a]), last = std::ceil((hi + padding) / voxel[a]);
    g.origin[a] = first * voxel[a];
    n[a] = int(last - first) + 1;
  }
  g.nx = n[0];
  g.ny = n[1];
  g.nz = n[2];
  return g;
}

Grid simulate_onto(const Model& model, const std::string& chain, const GridGeometry& geometry,
                   const SimulateOptions& o) {
  check_options(model, o);
  Grid grid(geometry);
  add_gaussians(weighted_atoms(model, chain, o), o.sigma(), o.cutoff_sigmas, grid);
  return grid;
}

Grid simulate_map(const Model& model, const std::string& chain, const SimulateOptions& o) {
  check_options(model, o);
  if (!(o.voxel > 0)) throw file_error(model.path, "cannot simulate with voxel size " + std::to_string(o.voxel));
  const double padding = o.padding >= 0 ? o.padding : o.cutoff_sigmas * o.sigma();
  const WeightedAtoms atoms = weighted_atoms(model, chain, o);
  Grid grid(lattice_around(atoms.positions, {o.voxel, o.voxel, o.voxel}, padding));
  add_gaussians(atoms, o.sigma(), o.cutoff_sigmas, grid);
  return grid;
}

// ---- realism -------------------------------------------------------------------------------

RealismDraw draw_realism(const Realism& r, double sigma_factor, std::uint64_t seed) {
  check_range(r.res_min, r.res_max, "resolution");
  check_range(r.snr_min, r.snr_max, "snr");
  check_range(r.bfactor_min, r.bfactor_max, "bfactor");
  check_range(r.scale_min, r.scale_max, "scale");
  if (r.radius_max > 0) check_range(r.radius_min, r.radius_max, "zone radius");
  if (!(r.dna_fraction >= 0 && r.dna_fraction <= 1) || r.dna_blocks_max < 1)
    throw std::invalid_argument("Realism: dna_fraction must be in [0, 1] and dna_blocks_max >= 1");
  if (!(r.local_bfactor_max >= 0) || (r.radius_max > 0 && !(r.radius_min > 0)) || !(r.res_min > 0) || r.bfactor_min < 0 || !(r.scale_min > 0) || (r.snr_max > 0 && !(r.snr_min > 0)) ||
      !(r.noise_correlation >= 0) || !(sigma_factor > 0))
    throw std::invalid_argument("Realism: resolution and scale must be > 0, B-factors >= 0, snr_min > 0 when "
                                "snr_max > 0, noise_correlation >= 0, zone radius_min > 0 when radius_max > 0, local B-factor >= 0");
  RealismDraw d;
  d.seed = seed;
  d.resolution = uniform_in(r.res_min, r.res_max, seed, 0);
  d.bfactor = uniform_in(r.bfactor_min, r.bfactor_max, seed, 1);
  d.scale = uniform_in(r.scale_min, r.scale_max, seed, 2);
  d.snr = r.snr_max > 0 ? uniform_in(r.snr_min, r.snr_max, seed, 3) : 0.0;
  d.noise_sigma = r.noise_correlation * sigma_factor * d.resolution;
  d.zone_radius = r.radius_max > 0 ? uniform_in(r.radius_min, r.radius_max, seed, 4) : 0.0;
  d.local_bfactor = r.local_bfactor_max > 0 ? uniform_in(0, r.local_bfactor_max, seed, 5) : 0.0;
  if (r.dna_fraction > 0 && uniform_in(0, 1, seed, 6) < r.dna_fraction)
    d.dna_blocks = std::min(r.dna_blocks_max, 1 + int(uniform_in(0, r.dna_blocks_max, seed, 7)));
  return d;
}

namespace {

// (1 − w)·map + w·(map blurred by B = local_bfactor), w a smooth random field in [0, 1].
void vary_local_resolution(Grid& map, double local_bfactor, std::uint64_t seed) {
  Grid blurred = map;
  gaussian_blur(blurred, bfactor_sigma(local_bfactor));
  // The field is smooth: drawn on a lattice of a third of its length scale and interpolated (a
  // 1 Å lattice would make the filter 100 taps long). A noise stream of its own: the seed's noise
  // field stays what it was without this step.
  GridGeometry coarse = map;
  const double step = kLocalResolutionScale / 3;
  coarse.voxel = {step, step, step};
  coarse.nx = int(std::ceil((map.nx - 1) * map.voxel.x / step)) + 2;
  coarse.ny = int(std::ceil((map.ny - 1) * map.voxel.y / step)) + 2;
  coarse.nz = int(std::ceil((map.nz - 1) * map.voxel.z / step)) + 2;
  const Grid field =
      resample_onto(lowpass_noise(coarse, kLocalResolutionScale, 1.0, seed ^ 0x9E3779B97F4A7C15ull), map);
  for (std::size_t i = 0; i < map.data.size(); ++i) {
    const float w = 1.f / (1.f + std::exp(-2.f * field.data[i]));
    map.data[i] = (1.f - w) * map.data[i] + w * blurred.data[i];
  }
}

}  // namespace

Grid add_realism(Grid map, const RealismDraw& d) {
  if (!(d.scale > 0) || d.bfactor < 0 || d.noise_sigma < 0 || d.local_bfactor < 0)
    throw std::invalid_argument("add_realism: scale must be > 0, bfactor, local_bfactor and noise_sigma >= 0");
  if (d.local_bfactor > 0) vary_local_resolution(map, d.local_bfactor, d.seed);
  const Grid support = d.snr > 0 ? map : Grid();  // the clean map's positive samples define the signal
  gaussian_blur(map, bfactor_sigma(d.bfactor));
  for (float& v : map.data) v *= float(d.scale);
  if (!(d.snr > 0)) return map;
  const double stddev = std::sqrt(variance_over_support(map, support) / d.snr);
  const Grid noise = lowpass_noise(map, d.noise_sigma, stddev, d.seed);
  for (std::size_t i = 0; i < map.data.size(); ++i) map.data[i] += noise.data[i];
  return map;
}

double bfactor_sigma(double bfactor) { return bfactor > 0 ? std::sqrt(bfactor / (8 * kPi * kPi)) : 0.0; }

void gaussian_blur(Grid& grid, double sigma) {
  if (!(sigma > 0)) return;
  for (int a = 0; a < 3; ++a) convolve_axis(grid, a, gaussian_kernel(sigma / grid.voxel[a]));
}

}  // namespace sse::io
