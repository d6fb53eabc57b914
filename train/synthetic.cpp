#include "train/synthetic.h"

#include <cmath>

#include "kernels/philox.h"

namespace sse::train {
namespace {

struct Vec {
  double x, y, z;
};
Vec sub(Vec a, Vec b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
double dot(Vec a, Vec b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
Vec scale(Vec a, double s) { return {a.x * s, a.y * s, a.z * s}; }

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : seed_(seed) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * philox_uniform(seed_, 1, i_++); }
  double normal() {  // Box–Muller
    const double u1 = 1.0 - philox_uniform(seed_, 2, j_++), u2 = philox_uniform(seed_, 2, j_++);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  Vec direction() {
    const Vec v{normal(), normal(), normal()};
    return scale(v, 1.0 / std::sqrt(dot(v, v)));
  }
  Vec point(double lo, double hi) { return {uniform(lo, hi), uniform(lo, hi), uniform(lo, hi)}; }

 private:
  std::uint64_t seed_, i_ = 0, j_ = 0;
};

struct Object {
  Vec centre, axis;
  double half_length;  // rods
  bool rod;
};

bool inside(const Object& ob, Vec p, const SyntheticOptions& o) {
  const Vec r = sub(p, ob.centre);
  const double along = dot(r, ob.axis);
  const double across2 = dot(r, r) - along * along;
  if (ob.rod) return std::fabs(along) <= ob.half_length && across2 <= o.rod_radius * o.rod_radius;
  return std::fabs(along) <= o.plate_half_thickness && across2 <= o.plate_radius * o.plate_radius;
}

}  // namespace

Sample synthetic_sample(std::uint64_t seed, const SyntheticOptions& o) {
  Draw draw(seed);
  std::vector<Object> objects;
  const double margin = 4.0, n = o.size;
  for (int i = 0; i < o.rods; ++i)
    objects.push_back({draw.point(margin, n - margin), draw.direction(),
                       0.5 * draw.uniform(o.rod_min_length, o.rod_max_length), true});
  for (int i = 0; i < o.plates; ++i) objects.push_back({draw.point(margin, n - margin), draw.direction(), 0.0, false});
  Sample s;
  s.name = "synthetic-" + std::to_string(seed);
  s.d = s.h = s.w = o.size;
  s.volume.assign(s.voxels(), 0.0f);
  s.labels.assign(s.voxels(), 0);
  std::size_t i = 0;
  for (int z = 0; z < o.size; ++z)
    for (int y = 0; y < o.size; ++y)
      for (int x = 0; x < o.size; ++x, ++i) {
        const Vec p{double(x), double(y), double(z)};
        for (const Object& ob : objects) {
          if (!inside(ob, p, o) || s.labels[i] == 1) continue;
          s.labels[i] = ob.rod ? 1 : 2;
          s.volume[i] = ob.rod ? 1.0f : o.plate_density;
        }
        s.volume[i] += static_cast<float>(o.noise * draw.normal());
      }
  double mean = 0, var = 0;
  for (float v : s.volume) mean += v;
  mean /= double(s.voxels());
  for (float v : s.volume) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / double(s.voxels())) + 1e-12;
  for (float& v : s.volume) v = static_cast<float>((v - mean) / sd);
  return s;
}

}  // namespace sse::train
