// apps/chimerax.h — the ChimeraX command script (view.cxc) that `predict` writes beside its masks:
// one command (`chimerax view.cxc`, or File > Open) shows the map, the helix and sheet masks and
// the atomic model coloured by predicted class.
//
// Contract:
//  * Paths in the script are relative to the script's folder when the target lies on the same
//    filesystem tree (ChimeraX runs a .cxc with the working directory set to the script's folder),
//    so the output folder and its inputs can move together; quoted when they contain spaces or
//    ChimeraX separators.
//  * Models, in a fresh session: #1 the map (transparent grey surface at `map_level`, full
//    resolution), #2 helix.mrc (red surface at 0.5), #3 sheet.mrc (yellow surface at 0.5) — helix red
//    and sheet yellow as in DeepSSETracer — and, with a structure, #4 shown as cartoon, light grey,
//    residues predicted helix red and sheet yellow (`color #4/A:10-25,31 red`).
//  * contour_level(map): mean + 1 standard deviation of the map's voxels, a level at which the
//    secondary structure of a 5-10 Å map shows as tubes and slabs (the script's comment says how to
//    change it).
//  * relative_path(target, dir): `target` as seen from `dir` (lexical, both made absolute first).
#pragma once

#include <string>
#include <vector>

#include "apps/residue_calls.h"
#include "io/grid.h"

namespace sse::app {

struct ChimeraScene {
  std::string map, helix_mask, sheet_mask, structure;  // as the script names them; structure may be ""
  double map_level = 0;
  std::vector<ResidueCall> residues;  // colours of the structure
};

std::string chimerax_script(const ChimeraScene& scene);
double contour_level(const io::Grid& map);
std::string relative_path(const std::string& target, const std::string& dir);

}  // namespace sse::app
