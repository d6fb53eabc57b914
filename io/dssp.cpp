// io/dssp.cpp — see dssp.h. Structure follows mkdssp so that differences can be traced step by step:
// backbone list -> H-bond energies -> bridges and ladders -> helices, turns, bends.
#include "io/dssp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "io/neighbors.h"

namespace sse::io {
namespace {

constexpr double kMinimalDistance = 0.5;
constexpr double kMinimalCADistance = 9.0;
constexpr double kMinHBondEnergy = -9.9;
constexpr double kMaxHBondEnergy = -0.5;
constexpr double kCouplingConstant = -27.888;  // -332 * 0.42 * 0.2
constexpr double kMaxPeptideBondLength = 2.5;
constexpr double kBendAngle = 70.0;

struct HBond {
  int partner = -1;
  double energy = 0;
};

enum class HelixFlag : std::uint8_t { none, start, end, start_and_end, middle };

struct Res {
  const Residue* src = nullptr;
  int chain = 0;       // index into model.chains
  int residue = 0;     // index into that chain's residues
  bool proline = false;
  Vec3 h;              // amide hydrogen (N itself when none can be placed)
  HBond acceptor[2];   // best two C=O partners of this residue's N-H
  HBond donor[2];      // best two N-H partners of this residue's C=O
  HelixFlag helix[3] = {HelixFlag::none, HelixFlag::none, HelixFlag::none};  // strides 3, 4, 5
  char ss = ' ';
};

struct Ladder {
  bool parallel = false;
  std::vector<std::uint32_t> i, j;  // ascending
  int chain_i = 0;
};

class Dssp {
 public:
  Dssp(const Model& model, const DsspOptions& opt) : model_(model), opt_(opt) {
    collect_residues();
    compute_hbonds();
    assign_sheets();
    assign_helices();
  }

  std::vector<std::vector<char>> codes() const {
    std::vector<std::vector<char>> out;
    for (const Chain& c : model_.chains) out.emplace_back(c.residues.size(), ' ');
    for (const Res& r : res_) out[std::size_t(r.chain)][std::size_t(r.residue)] = r.ss;
    return out;
  }

 private:
  // ---- residues and chain breaks ----------------------------------------------------------
  void collect_residues() {
    for (std::size_t c = 0; c < model_.chains.size(); ++c) {
      const auto& rs = model_.chains[c].residues;
      for (std::size_t k = 0; k < rs.size(); ++k) {
        if (!rs[k].has_backbone) continue;
        Res r;
        r.src = &rs[k];
        r.chain = int(c);
        r.residue = int(k);
        r.proline = rs[k].name == "PRO";
        res_.push_back(r);
      }
    }
    const std::size_t n = res_.size();
    breaks_before_.assign(n + 1, 0);
    for (std::size_t i = 1; i < n; ++i) {
      const bool brk = res_[i].chain != res_[i - 1].chain ||
                       dist(res_[i - 1].src->c, res_[i].src->n) > kMaxPeptideBondLength;
      breaks_before_[i + 1] = breaks_before_[i] + (brk ? 1 : 0);
    }
    for (std::size_t i = 0; i < n; ++i) place_hydrogen(i);
  }

  // True when residues a..b (a <= b) form one unbroken stretch.
  bool no_break(std::size_t a, std::size_t b) const {
    return breaks_before_[b + 1] - breaks_before_[a + 1] == 0;
  }

  // mkdssp takes the previous residue of the same chain, even across a gap.
  void place_hydrogen(std::size_t i) {
    Res& r = res_[i];
    r.h = r.src->n;
    if (r.proline || i == 0 || res_[i - 1].chain != r.chain) return;
    const Vec3 co = res_[i - 1].src->c - res_[i - 1].src->o;
    const double len = std::sqrt(dot(co, co));
    if (len > 0) r.h = r.h + co * (1.0 / len);
  }

  // ---- hydrogen bonds ----------------------------------------------------------------------
  static void keep_best_two(HBond (&slots)[2], int partner, double e) {
    if (e < slots[0].energy) {
      slots[1] = slots[0];
      slots[0] = {partner, e};
    } else if (e < slots[1].energy) {
      slots[1] = {partner, e};
    }
  }

  void hbond(std::size_t donor, std::size_t acceptor) {
    Res& d = res_[donor];
    Res& a = res_[acceptor];
    double e = 0;
    if (!d.proline) {
      const double ho = dist(d.h, a.src->o), hc = dist(d.h, a.src->c);
      const double nc = dist(d.src->n, a.src->c), no = dist(d.src->n, a.src->o);
      if (ho < kMinimalDistance || hc < kMinimalDistance || nc < kMinimalDistance || no < kMinimalDistance)
        e = kMinHBondEnergy;
      else
        e = kCouplingConstant / ho - kCouplingConstant / hc + kCouplingConstant / nc - kCouplingConstant / no;
      e = std::round(e * 1000) / 1000;  // mkdssp's "DSSP compatibility" rounding
      e = std::max(e, kMinHBondEnergy);
    }
    keep_best_two(d.acceptor, int(acceptor), e);
    keep_best_two(a.donor, int(donor), e);
  }

  void compute_hbonds() {
    std::vector<Vec3> cas;
    for (const Res& r : res_) cas.push_back(r.src->ca);
    const PointIndex index(cas, kMinimalCADistance);
    std::vector<std::size_t> near;
    // Same pair order as mkdssp (i ascending, j ascending), which decides ties among best partners.
    for (std::size_t i = 0; i + 1 < res_.size(); ++i) {
      near.clear();
      index.for_each_within(cas[i], kMinimalCADistance, [&](int j, double d2) {
        if (std::size_t(j) > i && d2 < kMinimalCADistance * kMinimalCADistance) near.push_back(std::size_t(j));
      });
      std::sort(near.begin(), near.end());
      for (std::size_t j : near) {
        hbond(i, j);
        if (j != i + 1) hbond(j, i);
      }
    }
  }

  // N-H of a bonded to C=O of b.
  bool bond(std::size_t a, std::size_t b) const {
    const Res& r = res_[a];
    return (r.acceptor[0].partner == int(b) && r.acceptor[0].energy < kMaxHBondEnergy) ||
           (r.acceptor[1].partner == int(b) && r.acceptor[1].energy < kMaxHBondEnergy);
  }

  // ---- bridges, ladders, sheets ------------------------------------------------------------
  enum class Bridge { none, parallel, antiparallel };

  Bridge test_bridge(std::size_t i, std::size_t j) const {
    const std::size_t a = i - 1, b = i, c = i + 1, d = j - 1, e = j, f = j + 1;
    if (!no_break(a, c) || !no_break(d, f)) return Bridge::none;
    if ((bond(c, e) && bond(e, a)) || (bond(f, b) && bond(b, d))) return Bridge::parallel;
    if ((bond(c, d) && bond(f, a)) || (bond(e, b) && bond(b, e))) return Bridge::antiparallel;
    return Bridge::none;
  }

  std::vector<Ladder> find_bridges() const {
    std::vector<Ladder> ladders;
    const std::size_t n = res_.size();
    for (std::size_t i = 1; i + 4 < n; ++i)
      for (std::size_t j = i + 3; j + 1 < n; ++j) {
        const Bridge t = test_bridge(i, j);
        if (t == Bridge::none) continue;
        const bool par = t == Bridge::parallel;
        bool extended = false;
        for (Ladder& l : ladders) {
          if (l.parallel != par || i != l.i.back() + 1) continue;
          if (par && l.j.back() + 1 == j) {
            l.i.push_back(std::uint32_t(i));
            l.j.push_back(std::uint32_t(j));
            extended = true;
            break;
          }
          if (!par && l.j.front() - 1 == j) {
            l.i.push_back(std::uint32_t(i));
            l.j.insert(l.j.begin(), std::uint32_t(j));
            extended = true;
            break;
          }
        }
        if (!extended) ladders.push_back({par, {std::uint32_t(i)}, {std::uint32_t(j)}, res_[i].chain});
      }
    return ladders;
  }

  // Joins ladders separated by a β-bulge (mkdssp's gap limits; unsigned arithmetic on purpose,
  // as there: a "negative" gap wraps around and fails the test).
  void join_bulges(std::vector<Ladder>& ls) const {
    std::sort(ls.begin(), ls.end(), [](const Ladder& a, const Ladder& b) {
      return a.chain_i < b.chain_i || (a.chain_i == b.chain_i && a.i.front() < b.i.front());
    });
    for (std::size_t x = 0; x < ls.size(); ++x)
      for (std::size_t y = x + 1; y < ls.size(); ++y) {
        const std::uint32_t ibi = ls[x].i.front(), iei = ls[x].i.back();
        const std::uint32_t jbi = ls[x].j.front(), jei = ls[x].j.back();
        const std::uint32_t ibj = ls[y].i.front(), iej = ls[y].i.back();
        const std::uint32_t jbj = ls[y].j.front(), jej = ls[y].j.back();
        if (ls[x].parallel != ls[y].parallel || !no_break(std::min(ibi, ibj), std::max(iei, iej)) ||
            !no_break(std::min(jbi, jbj), std::max(jei, jej)) || ibj - iei >= 6 ||
            (iei >= ibj && ibi <= iej))
          continue;
        const bool bulge = ls[x].parallel ? ((jbj - jei < 6 && ibj - iei < 3) || jbj - jei < 3)
                                          : ((jbi - jej < 6 && ibj - iei < 3) || jbi - jej < 3);
        if (!bulge) continue;
        Ladder& l = ls[x];
        l.i.insert(l.i.end(), ls[y].i.begin(), ls[y].i.end());
        if (l.parallel)
          l.j.insert(l.j.end(), ls[y].j.begin(), ls[y].j.end());
        else
          l.j.insert(l.j.begin(), ls[y].j.begin(), ls[y].j.end());
        ls.erase(ls.begin() + std::ptrdiff_t(y));
        --y;
      }
  }

  void assign_sheets() {
    std::vector<Ladder> ladders = find_bridges();
    join_bulges(ladders);
    for (const Ladder& l : ladders) {
      const char ss = l.i.size() > 1 ? 'E' : 'B';
      const auto mark = [&](std::uint32_t lo, std::uint32_t hi) {
        for (std::uint32_t k = lo; k <= hi; ++k)
          if (res_[k].ss != 'E') res_[k].ss = ss;
      };
      mark(l.i.front(), l.i.back());
      mark(l.j.front(), l.j.back());
    }
  }

  // ---- helices, turns, bends ---------------------------------------------------------------
  HelixFlag& flag(std::size_t i, int stride) { return res_[i].helix[stride - 3]; }
  bool helix_start(std::size_t i, int stride) const {
    const HelixFlag f = res_[i].helix[stride - 3];
    return f == HelixFlag::start || f == HelixFlag::start_and_end;
  }

  void mark_turns() {
    for (int stride = 3; stride <= 5; ++stride)
      for (std::size_t i = 0; i + std::size_t(stride) < res_.size(); ++i) {
        if (!no_break(i, i + std::size_t(stride)) || !bond(i + std::size_t(stride), i)) continue;
        flag(i + std::size_t(stride), stride) = HelixFlag::end;
        for (std::size_t j = i + 1; j < i + std::size_t(stride); ++j)
          if (flag(j, stride) == HelixFlag::none) flag(j, stride) = HelixFlag::middle;
        flag(i, stride) = flag(i, stride) == HelixFlag::end ? HelixFlag::start_and_end : HelixFlag::start;
      }
  }

  // Two consecutive n-turns starting at i-1 and i make a minimal helix over i .. i+n-1.
  void mark_helices(int stride, char code, const std::string& may_replace) {
    const std::size_t n = std::size_t(stride);
    for (std::size_t i = 1; i + n < res_.size(); ++i) {
      if (!helix_start(i, stride) || !helix_start(i - 1, stride)) continue;
      bool free = true;
      for (std::size_t j = i; free && j < i + n; ++j) free = may_replace.find(res_[j].ss) != std::string::npos;
      if (!free) continue;
      for (std::size_t j = i; j < i + n; ++j) res_[j].ss = code;
    }
  }

  bool bend(std::size_t i) const {
    if (i < 2 || i + 2 >= res_.size() || !no_break(i - 2, i + 2)) return false;
    const Vec3 u = res_[i].src->ca - res_[i - 2].src->ca;
    const Vec3 v = res_[i + 2].src->ca - res_[i].src->ca;
    const double nu = std::sqrt(dot(u, u) * dot(v, v));
    if (nu == 0) return false;
    const double kappa = std::acos(std::max(-1.0, std::min(1.0, dot(u, v) / nu))) * 180.0 / M_PI;
    return kappa > kBendAngle;
  }

  void assign_helices() {
    mark_turns();
    // Strings list the codes each kind may overwrite (mkdssp: α overwrites everything).
    mark_helices(4, 'H', std::string(" HGIEBTS", 8));
    mark_helices(3, 'G', std::string(" G", 2));
    mark_helices(5, 'I', opt_.prefer_pi_helices ? std::string(" IH", 3) : std::string(" I", 2));
    for (std::size_t i = 1; i + 1 < res_.size(); ++i) {
      if (res_[i].ss != ' ') continue;
      bool turn = false;
      for (int stride = 3; stride <= 5 && !turn; ++stride)
        for (std::size_t k = 1; k < std::size_t(stride) && !turn; ++k)
          turn = i >= k && helix_start(i - k, stride);
      if (turn) res_[i].ss = 'T';
      else if (bend(i)) res_[i].ss = 'S';
    }
  }

  const Model& model_;
  DsspOptions opt_;
  std::vector<Res> res_;
  // breaks_before_[k] = number of breaks between consecutive residues among res_[0 .. k-1].
  std::vector<int> breaks_before_;
};

}  // namespace

std::vector<std::vector<char>> dssp_assign(const Model& model, const DsspOptions& options) {
  return Dssp(model, options).codes();
}

}  // namespace sse::io
