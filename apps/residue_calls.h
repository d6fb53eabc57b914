// apps/residue_calls.h — the per-residue predictions of `predict --structure`: residues.csv, the
// report's residue table and the ChimeraX script's model colours all come from these calls.
//
// Contract:
//  * call_residues(): one call per residue with a Cα of the given chains, in model order: the mean
//    helix and sheet probability over the voxels of the probability grid within 3 Å of the Cα and
//    how many voxels that was. The predicted class is the highest mean probability (background =
//    1 − helix − sheet; a tie with background goes to background, helix and sheet tied to helix);
//    a residue with no voxel in the map is "NA".
//  * residues_csv(): "chain,number,name,predicted,helix_prob,sheet_prob,voxels", probabilities with
//    4 decimals, empty for NA residues; number carries the insertion code (e.g. 52A).
#pragma once

#include <string>
#include <vector>

#include "apps/inference.h"
#include "io/structure.h"

namespace sse::app {

struct ResidueCall {
  std::string chain, number, name;
  std::string predicted;  // "helix", "sheet", "other" or "NA"
  double helix = 0, sheet = 0;
  long voxels = 0;
};

std::vector<ResidueCall> call_residues(const std::vector<const io::Chain*>& chains, const Probabilities& p);
std::string residues_csv(const std::vector<ResidueCall>& calls);

}  // namespace sse::app
