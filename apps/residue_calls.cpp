// Per-residue predictions (contract in apps/residue_calls.h).
#include "apps/residue_calls.h"

#include <cstdio>

namespace sse::app {

namespace {

ResidueCall call_one(const io::Chain& c, const io::Residue& r, const Probabilities& p) {
  ResidueCall out;
  out.chain = c.id;
  out.number = std::to_string(r.id.num) + (r.id.icode == ' ' ? "" : std::string(1, r.id.icode));
  out.name = r.name;
  double h = 0, s = 0;
  long n = 0;
  const io::IndexBox b = p.helix.box_around(r.ca, 3.0);
  for (int z = b.lo[2]; z < b.hi[2]; ++z)
    for (int y = b.lo[1]; y < b.hi[1]; ++y)
      for (int x = b.lo[0]; x < b.hi[0]; ++x) {
        if (io::dist2(p.helix.position(x, y, z), r.ca) > 9.0) continue;
        h += p.helix.at(x, y, z);
        s += p.sheet.at(x, y, z);
        ++n;
      }
  out.voxels = n;
  if (n == 0) {
    out.predicted = "NA";
    return out;
  }
  out.helix = h / double(n);
  out.sheet = s / double(n);
  const double bg = 1.0 - out.helix - out.sheet;
  out.predicted = out.helix > bg && out.helix >= out.sheet ? "helix"
                  : (out.sheet > bg && out.sheet > out.helix ? "sheet" : "other");
  return out;
}

}  // namespace

std::vector<ResidueCall> call_residues(const std::vector<const io::Chain*>& chains, const Probabilities& p) {
  std::vector<ResidueCall> out;
  for (const io::Chain* c : chains)
    for (const io::Residue& r : c->residues)
      if (r.has_ca) out.push_back(call_one(*c, r, p));
  return out;
}

std::string residues_csv(const std::vector<ResidueCall>& calls) {
  std::string out = "chain,number,name,predicted,helix_prob,sheet_prob,voxels\n";
  for (const ResidueCall& c : calls) {
    out += c.chain + "," + c.number + "," + c.name + ",";
    if (c.predicted == "NA") {
      out += "NA,,,0\n";
      continue;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, ",%.4f,%.4f,%ld\n", c.helix, c.sheet, c.voxels);
    out += c.predicted + buf;
  }
  return out;
}

}  // namespace sse::app
