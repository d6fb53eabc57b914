// io/dssp.h — built-in DSSP (Kabsch & Sander 1983, as implemented by mkdssp 4).
//
// Contract:
//  * dssp_assign(model) returns, for every chain of model.chains (same order), one DSSP code per
//    residue of chain.residues: 'H' α-helix, 'G' 3₁₀-helix, 'I' π-helix, 'E' strand, 'B' isolated
//    bridge, 'T' turn, 'S' bend, ' ' loop. Residues without a complete backbone get ' '.
//  * All chains are assigned together, so sheets between chains are found.
//  * Algorithm (mkdssp 4 conventions): H placed 1 Å from N opposite the previous residue's C=O;
//    electrostatic H-bond energy E = 27.888 (1/rON + 1/rCH − 1/rOH − 1/rCN) kcal/mol, rounded to
//    0.001, floored at −9.9, computed for Cα pairs closer than 9 Å; each NH and each CO keeps its two
//    best partners; a bond counts when E < −0.5. Chain breaks: a new chain or C(i−1)–N(i) > 2.5 Å.
//    Bridges, ladders with β-bulges, n-turns, minimal helices and bends (κ > 70°) follow mkdssp;
//    priority H > B,E > G, and π-helices take precedence over α (mkdssp 4's default).
//    Not assigned: polyproline 'P' (a loop sub-class in mkdssp 4), accessibility.
#pragma once

#include <vector>

#include "io/structure.h"

namespace sse::io {

struct DsspOptions {
  bool prefer_pi_helices = true;  // mkdssp 4 default; false gives DSSP 2 behaviour
};

std::vector<std::vector<char>> dssp_assign(const Model& model, const DsspOptions& options = {});

}  // namespace sse::io
