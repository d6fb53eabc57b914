#include "train/sample.h"

#include <array>
#include <stdexcept>

namespace sse::train {

void Sample::validate() const {
  if (d < 1 || h < 1 || w < 1 || volume.size() != voxels() || labels.size() != voxels())
    throw std::invalid_argument("sample '" + name + "': volume/labels do not match its " + std::to_string(d) + "x" +
                                std::to_string(h) + "x" + std::to_string(w) + " grid");
}

namespace {

template <typename T>
std::vector<T> apply(const std::vector<T>& src, const std::array<int, 3>& sdim, const Augmentation& t,
                     const std::array<int, 3>& odim) {
  std::vector<T> out(src.size());
  std::array<int, 3> o{}, s{};
  std::size_t i = 0;
  for (o[0] = 0; o[0] < odim[0]; ++o[0])
    for (o[1] = 0; o[1] < odim[1]; ++o[1])
      for (o[2] = 0; o[2] < odim[2]; ++o[2], ++i) {
        for (std::size_t a = 0; a < 3; ++a) {
          const int v = t.flip[a] ? odim[a] - 1 - o[a] : o[a];
          s[static_cast<std::size_t>(t.perm[a])] = v;
        }
        out[i] = src[(static_cast<std::size_t>(s[0]) * sdim[1] + s[1]) * sdim[2] + s[2]];
      }
  return out;
}

}  // namespace

std::array<int, 3> Augmentation::shape(int d, int h, int w) const {
  const std::array<int, 3> sdim{d, h, w};
  return {sdim[static_cast<std::size_t>(perm[0])], sdim[static_cast<std::size_t>(perm[1])],
          sdim[static_cast<std::size_t>(perm[2])]};
}

// A rotation by k·90° in the plane of axes (a, b) is a swap of a and b (for odd k) plus a flip.
Augmentation draw_augmentation(Generator& g) {
  Augmentation t;
  const std::uint64_t r = random_index(g, 1ull << 40);
  for (std::size_t a = 0; a < 3; ++a) t.flip[a] = (r >> a) & 1;
  const int plane = static_cast<int>((r >> 3) % 3), k = static_cast<int>((r >> 5) % 4);
  const std::size_t a = plane == 2 ? 0 : static_cast<std::size_t>(plane), b = plane == 0 ? 1 : 2;
  if (k % 2) std::swap(t.perm[a], t.perm[b]);
  if (k == 1 || k == 2) t.flip[a] = !t.flip[a];
  if (k == 2 || k == 3) t.flip[b] = !t.flip[b];
  return t;
}

Sample apply_augmentation(const Sample& s, const Augmentation& t) {
  s.validate();
  const std::array<int, 3> sdim{s.d, s.h, s.w}, odim = t.shape(s.d, s.h, s.w);
  Sample out;
  out.name = s.name;
  out.volume = apply(s.volume, sdim, t, odim);
  out.labels = apply(s.labels, sdim, t, odim);
  out.d = odim[0];
  out.h = odim[1];
  out.w = odim[2];
  return out;
}

Sample augment(const Sample& s, Generator& g) {
  s.validate();
  return apply_augmentation(s, draw_augmentation(g));
}

Sample crop(const Sample& s, int pd, int ph, int pw, int z0, int y0, int x0) {
  s.validate();
  Sample out;
  out.name = s.name;
  out.d = pd;
  out.h = ph;
  out.w = pw;
  out.volume.assign(out.voxels(), 0.0f);
  out.labels.assign(out.voxels(), kIgnoreLabel);
  for (int z = 0; z < pd; ++z)
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) {
        const int sz = z + z0, sy = y + y0, sx = x + x0;
        if (sz < 0 || sz >= s.d || sy < 0 || sy >= s.h || sx < 0 || sx >= s.w) continue;
        const std::size_t si = (static_cast<std::size_t>(sz) * s.h + sy) * s.w + sx;
        const std::size_t oi = (static_cast<std::size_t>(z) * ph + y) * pw + x;
        out.volume[oi] = s.volume[si];
        out.labels[oi] = s.labels[si];
      }
  return out;
}

}  // namespace sse::train
