// io/dna_decoy.cpp — see dna_decoy.h.
#include "io/dna_decoy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "kernels/philox.h"

namespace sse::io {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct TemplateAtom {
  double x, y, z;
  int element, residue;
};
constexpr TemplateAtom k1bna[] = {
#include "io/bdna_1bna.inc"
};
constexpr int kPairs = 12;  // residue i (chain A, 1–12) pairs with 25 − i (chain B)

// A rotation as its three rows, and rigid motions x → R·x + t.
using Mat3 = std::array<Vec3, 3>;
struct Rigid {
  Mat3 r{Vec3{1, 0, 0}, Vec3{0, 1, 0}, Vec3{0, 0, 1}};
  Vec3 t;
};

Vec3 cross(Vec3 a, Vec3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
Vec3 unit(Vec3 v) { return v * (1.0 / std::sqrt(dot(v, v))); }
Vec3 mul(const Mat3& m, Vec3 v) { return {dot(m[0], v), dot(m[1], v), dot(m[2], v)}; }
Vec3 apply(const Rigid& m, Vec3 v) { return mul(m.r, v) + m.t; }
Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 out;
  for (int i = 0; i < 3; ++i) out[std::size_t(i)] = {dot(a[std::size_t(i)], {b[0].x, b[1].x, b[2].x}),
                                                    dot(a[std::size_t(i)], {b[0].y, b[1].y, b[2].y}),
                                                    dot(a[std::size_t(i)], {b[0].z, b[1].z, b[2].z})};
  return out;
}
Rigid compose(const Rigid& a, const Rigid& b) { return {mul(a.r, b.r), apply(a, b.t)}; }  // a ∘ b
Rigid translation(Vec3 t) {
  Rigid m;
  m.t = t;
  return m;
}

// Rotation by `angle` about the unit axis u (Rodrigues).
Mat3 axis_rotation(Vec3 u, double angle) {
  const double c = std::cos(angle), s = std::sin(angle), k = 1 - c;
  return {Vec3{c + u.x * u.x * k, u.x * u.y * k - u.z * s, u.x * u.z * k + u.y * s},
          Vec3{u.y * u.x * k + u.z * s, c + u.y * u.y * k, u.y * u.z * k - u.x * s},
          Vec3{u.z * u.x * k - u.y * s, u.z * u.y * k + u.x * s, c + u.z * u.z * k}};
}

// Uniform draws of one placement or block: Philox word i of the decoy stream, under key `seed`.
struct Draws {
  std::uint64_t seed, next;
  double uniform() { return double(philox_uniform(seed, kDecoyStream, next++)); }
  Vec3 direction() {  // uniform on the sphere
    const double z = 2 * uniform() - 1, phi = 2 * kPi * uniform(), r = std::sqrt(std::max(0.0, 1 - z * z));
    return {r * std::cos(phi), r * std::sin(phi), z};
  }
  Vec3 perpendicular_to(Vec3 n) {  // uniform on the circle of unit vectors ⟂ n
    const Vec3 a = std::abs(n.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
    const Vec3 e1 = unit(cross(n, a)), e2 = cross(n, e1);
    const double phi = 2 * kPi * uniform();
    return e1 * std::cos(phi) + e2 * std::sin(phi);
  }
};

Vec3 centroid(const std::vector<Vec3>& points) {
  Vec3 c;
  for (const Vec3& p : points) c = c + p;
  return c * (1.0 / double(points.size()));
}

// The principal axis (largest variance) of points around c, by power iteration on the covariance.
Vec3 principal_axis(const std::vector<Vec3>& points, Vec3 c) {
  Mat3 cov{};
  for (const Vec3& p : points) {
    const Vec3 d = p - c;
    for (int i = 0; i < 3; ++i) cov[std::size_t(i)] = cov[std::size_t(i)] + d * d[i];
  }
  Vec3 v{1, 1, 1};
  for (int it = 0; it < 200; ++it) v = unit(mul(cov, v));
  return v;
}

// Least-squares slope of y over x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = double(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

// The helix axis: the line through the base pairs' centroids (each pair's two nucleotides; the
// backbones' offset toward the minor groove turns with the helix and averages out). 1BNA is bent by
// ~ 19°, so the atoms' own principal axis would tilt with the bend.
struct Axis {
  Vec3 point, direction;
  std::vector<Vec3> pairs;  // centroid of pair 1..12
};
Axis fit_axis(const std::vector<Vec3>& raw) {
  Axis a;
  a.pairs.assign(kPairs, Vec3{});
  std::vector<int> count(kPairs, 0);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const int r = k1bna[i].residue, pair = (r <= kPairs ? r : 2 * kPairs + 1 - r) - 1;
    a.pairs[std::size_t(pair)] = a.pairs[std::size_t(pair)] + raw[i];
    ++count[std::size_t(pair)];
  }
  for (int k = 0; k < kPairs; ++k) a.pairs[std::size_t(k)] = a.pairs[std::size_t(k)] * (1.0 / count[std::size_t(k)]);
  a.point = centroid(a.pairs);
  a.direction = principal_axis(a.pairs, a.point);
  if (dot(a.pairs.back() - a.pairs.front(), a.direction) < 0) a.direction = a.direction * -1.0;  // A 5'→3'
  return a;
}

DuplexTemplate make_template() {
  DuplexTemplate t;
  std::vector<Vec3> raw;
  for (const TemplateAtom& a : k1bna) {
    raw.push_back({a.x, a.y, a.z});
    t.duplex.elements.push_back(std::uint8_t(a.element));
  }
  const Axis axis = fit_axis(raw);
  const Vec3 z = axis.direction;
  const Vec3 e1 = unit(cross(z, std::abs(z.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0})), e2 = cross(z, e1);
  const Vec3 c = centroid(raw);
  const Vec3 origin = axis.point + z * dot(c - axis.point, z);  // the atoms' centroid projected on the axis
  for (const Vec3& p : raw) t.duplex.atoms.push_back({dot(p - origin, e1), dot(p - origin, e2), dot(p - origin, z)});
  // Twist: the slope of strand A's phosphate angles over their order; rise: of the pairs' heights.
  std::vector<double> index, angle, pair_index, height;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (k1bna[i].element != 15 || k1bna[i].residue > kPairs) continue;
    const Vec3 p = t.duplex.atoms[i];
    double a = std::atan2(p.y, p.x);
    while (!angle.empty() && a < angle.back() - kPi) a += 2 * kPi;  // unwrap
    while (!angle.empty() && a > angle.back() + kPi) a -= 2 * kPi;
    index.push_back(double(k1bna[i].residue));
    angle.push_back(a);
  }
  for (int k = 0; k < kPairs; ++k) {
    pair_index.push_back(k);
    height.push_back(dot(axis.pairs[std::size_t(k)] - origin, z));
  }
  t.twist = slope(index, angle);
  t.rise = slope(pair_index, height);
  t.duplex.base_pairs = kPairs;
  return t;
}

}  // namespace

const DuplexTemplate& bdna_template() {
  static const DuplexTemplate t = make_template();
  return t;
}

DnaDecoy build_duplex(int blocks, double max_bend_degrees, std::uint64_t seed) {
  if (blocks < 1 || !(max_bend_degrees >= 0 && max_bend_degrees <= 90))
    throw std::invalid_argument("build_duplex: blocks must be >= 1 and the bend in [0, 90] degrees");
  const DuplexTemplate& t = bdna_template();
  const int n = t.duplex.base_pairs;
  const Rigid screw{axis_rotation({0, 0, 1}, n * t.twist), {0, 0, n * t.rise}};
  Draws draw{seed, 0};
  DnaDecoy out;
  Rigid place;  // block k's frame → the duplex's frame
  for (int k = 0; k < blocks; ++k) {
    if (k > 0) {
      // Bend about an axis ⟂ z through the junction (half a block above this frame's centre).
      const Vec3 junction{0, 0, 0.5 * n * t.rise};
      const double angle = max_bend_degrees * kPi / 180 * draw.uniform();
      const Rigid bend{axis_rotation(draw.perpendicular_to({0, 0, 1}), angle), {}};
      const Rigid about_junction = compose(compose(translation(junction), bend), translation(junction * -1.0));
      place = compose(place, compose(about_junction, screw));
    }
    for (std::size_t i = 0; i < t.duplex.atoms.size(); ++i) {
      out.atoms.push_back(apply(place, t.duplex.atoms[i]));
      out.elements.push_back(t.duplex.elements[i]);
    }
  }
  const Vec3 c = centroid(out.atoms);
  for (Vec3& p : out.atoms) p = p - c;
  out.base_pairs = blocks * n;
  return out;
}

DnaDecoy place_beside(const DnaDecoy& duplex, const Chain& chain, const PointIndex& occupied, std::uint64_t seed,
                      double clearance) {
  if (duplex.empty() || chain.atoms.empty()) return {};
  const Vec3 middle = centroid(chain.atoms);
  Draws draw{seed, 1u << 20};  // words of its own, apart from build_duplex's
  for (int attempt = 0; attempt < kPlacementTries; ++attempt) {
    const std::size_t pick = std::min(chain.atoms.size() - 1, std::size_t(draw.uniform() * double(chain.atoms.size())));
    const Vec3 anchor = chain.atoms[pick];
    const Vec3 out_dir = anchor - middle;
    const double len = std::sqrt(dot(out_dir, out_dir));
    const Vec3 n = unit((len > 1e-6 ? out_dir * (1 / len) : Vec3{0, 0, 1}) + draw.direction() * 0.7);
    const Vec3 axis = draw.perpendicular_to(n);
    const Vec3 side = cross(axis, n);
    const Mat3 spin = axis_rotation({0, 0, 1}, 2 * kPi * draw.uniform());
    const Mat3 frame{Vec3{n.x, side.x, axis.x}, Vec3{n.y, side.y, axis.y}, Vec3{n.z, side.z, axis.z}};  // z → axis
    const Rigid pose{mul(frame, spin), anchor + n * (12 + 4 * draw.uniform())};
    DnaDecoy placed{{}, duplex.elements, duplex.base_pairs};
    bool clash = false;
    for (const Vec3& p : duplex.atoms) {
      const Vec3 q = apply(pose, p);
      occupied.for_each_within(q, clearance, [&](int, double) { clash = true; });
      if (clash) break;
      placed.atoms.push_back(q);
    }
    if (!clash) return placed;
  }
  return {};
}

}  // namespace sse::io
