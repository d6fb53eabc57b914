// io/structure.h — atomic models (PDB or mmCIF, optionally gzipped) reduced to what io/ needs.
//
// Contract:
//  * read_model() reads the first model of a PDB or mmCIF file through gemmi (format detected from
//    the content). Chains are grouped by author chain id (PDB column 22, mmCIF auth_asym_id);
//    pieces of one chain that gemmi keeps apart (polymer, ligands, waters) are merged in file order.
//  * Hydrogens are dropped, and of alternate conformations only the first one listed is kept
//    (gemmi's and PyMOL's convention; mkdssp 4.2 happens to keep the last, see io/README.md).
//    Of residues sharing a sequence id (microheterogeneity) the first is kept.
//  * Residue carries its Cα (when present) and, for DSSP, its backbone N, CA, C, O (complete only
//    when all four are present). Chain::atoms holds every kept heavy atom (for zones and map
//    simulation); Chain::elements and Chain::occupancies run parallel to it (same index).
//  * HELIX/SHEET records (PDB) or _struct_conf/_struct_sheet_range (mmCIF) are returned as ranges
//    of author residue ids; io/secondary.h turns them into per-residue classes.
//  * A missing or unparsable file throws IoError naming the file; Model::chain() throws IoError
//    listing the chains that do exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/grid.h"

namespace sse::io {

struct ResidueId {
  int num = 0;
  char icode = ' ';
  bool operator==(const ResidueId& o) const { return num == o.num && icode == o.icode; }
  bool operator!=(const ResidueId& o) const { return !(*this == o); }
};

struct Residue {
  ResidueId id;
  std::string name;       // e.g. "ALA"
  bool has_ca = false;
  Vec3 ca;
  bool has_backbone = false;  // N, CA, C and O all present
  Vec3 n, c, o;
};

struct Chain {
  std::string id;  // author chain id
  std::vector<Residue> residues;
  std::vector<Vec3> atoms;  // all kept heavy atoms of the chain
  // Parallel to atoms: atomic number (gemmi's element, inferred from the atom name when the element
  // column is blank; 0 when unknown) and occupancy as written. Used by io/simulate.h.
  std::vector<std::uint8_t> elements;
  std::vector<float> occupancies;

  // Cα positions of residues that have one, and the residue index each belongs to.
  std::vector<Vec3> ca_positions(std::vector<int>* residue_index = nullptr) const;
};

struct ResidueRange {
  std::string chain;
  ResidueId first, last;
};

struct Model {
  std::string path;
  std::vector<Chain> chains;
  std::vector<ResidueRange> helix_records;  // HELIX / _struct_conf (HELX_P...)
  std::vector<ResidueRange> sheet_records;  // SHEET / _struct_sheet_range

  const Chain* find_chain(const std::string& id) const;
  const Chain& chain(const std::string& id) const;  // throws IoError if absent
  bool has_ss_records() const { return !helix_records.empty() || !sheet_records.empty(); }
};

Model read_model(const std::string& path);
// False when built without PEGTL: mmCIF files are then refused with a clear IoError.
bool mmcif_supported();

}  // namespace sse::io
