// io/structure.cpp — see structure.h. The only file of io/ that includes gemmi's model readers.
#include "io/structure.h"

// gemmi's CIF parser needs PEGTL (Debian tao-pegtl-dev), which gemmi-dev does not pull in. Without
// it PDB files still work and mmCIF files are refused with a message saying what to install.
#if __has_include(<tao/pegtl.hpp>)
#include <gemmi/mmread.hpp>
#define SSE_IO_HAVE_MMCIF 1
#else
#include <gemmi/pdb.hpp>
#define SSE_IO_HAVE_MMCIF 0
#endif

#include <algorithm>
#include <cctype>

#include "io/error.h"
#include "io/file_util.h"

namespace sse::io {
namespace {

Vec3 to_vec(const gemmi::Position& p) { return {p.x, p.y, p.z}; }

ResidueId to_id(const gemmi::SeqId& s) {
  return {s.num.has_value() ? int(s.num) : 0, s.icode == '\0' ? ' ' : s.icode};
}

// First alternate conformation listed in the residue; '\0' if none.
char first_altloc(const gemmi::Residue& r) {
  for (const gemmi::Atom& a : r.atoms)
    if (a.altloc != '\0') return a.altloc;
  return '\0';
}

void add_residue(const gemmi::Residue& gr, Chain& chain) {
  if (!chain.residues.empty() && chain.residues.back().id == to_id(gr.seqid)) return;
  Residue r;
  r.id = to_id(gr.seqid);
  r.name = gr.name;
  bool has[4] = {false, false, false, false};  // N CA C O
  const char alt = first_altloc(gr);
  for (const gemmi::Atom& a : gr.atoms) {
    if (a.is_hydrogen() || (a.altloc != '\0' && a.altloc != alt)) continue;
    const Vec3 p = to_vec(a.pos);
    chain.atoms.push_back(p);
    chain.elements.push_back(std::uint8_t(a.element.atomic_number()));
    chain.occupancies.push_back(a.occ);
    if (a.name == "N" && !has[0]) { r.n = p; has[0] = true; }
    if (a.name == "CA" && !has[1]) { r.ca = p; has[1] = true; }
    if (a.name == "C" && !has[2]) { r.c = p; has[2] = true; }
    if (a.name == "O" && !has[3]) { r.o = p; has[3] = true; }
  }
  r.has_ca = has[1];
  r.has_backbone = has[0] && has[1] && has[2] && has[3];
  chain.residues.push_back(std::move(r));
}

Chain& chain_named(Model& m, const std::string& id) {
  for (Chain& c : m.chains)
    if (c.id == id) return c;
  Chain c;
  c.id = id;
  m.chains.push_back(std::move(c));
  return m.chains.back();
}

ResidueRange to_range(const gemmi::AtomAddress& a, const gemmi::AtomAddress& b) {
  return {a.chain_name, to_id(a.res_id.seqid), to_id(b.res_id.seqid)};
}

Model convert(const gemmi::Structure& st, const std::string& path) {
  Model m;
  m.path = path;
  if (st.models.empty()) throw file_error(path, "no atoms in the model file");
  for (const gemmi::Chain& gc : st.models[0].chains) {
    Chain& c = chain_named(m, gc.name);
    for (const gemmi::Residue& gr : gc.residues)
      if (!gr.is_water()) add_residue(gr, c);
  }
  for (const gemmi::Helix& h : st.helices) m.helix_records.push_back(to_range(h.start, h.end));
  for (const gemmi::Sheet& s : st.sheets)
    for (const gemmi::Sheet::Strand& t : s.strands) m.sheet_records.push_back(to_range(t.start, t.end));
  return m;
}

[[maybe_unused]] bool looks_like_cif(const std::vector<char>& bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && (std::isspace(static_cast<unsigned char>(bytes[i])) || bytes[i] == '#')) {
    if (bytes[i] == '#') while (i < bytes.size() && bytes[i] != '\n') ++i;
    else ++i;
  }
  return bytes.size() - i >= 5 && std::string(&bytes[i], 5) == "data_";
}

}  // namespace

std::vector<Vec3> Chain::ca_positions(std::vector<int>* residue_index) const {
  std::vector<Vec3> out;
  if (residue_index) residue_index->clear();
  for (std::size_t i = 0; i < residues.size(); ++i) {
    if (!residues[i].has_ca) continue;
    out.push_back(residues[i].ca);
    if (residue_index) residue_index->push_back(int(i));
  }
  return out;
}

const Chain* Model::find_chain(const std::string& id) const {
  for (const Chain& c : chains)
    if (c.id == id) return &c;
  return nullptr;
}

const Chain& Model::chain(const std::string& id) const {
  if (const Chain* c = find_chain(id)) return *c;
  std::string have;
  for (const Chain& c : chains) have += (have.empty() ? "" : ", ") + c.id;
  throw file_error(path, "no chain '" + id + "' (chains: " + have + ")");
}

bool mmcif_supported() { return SSE_IO_HAVE_MMCIF; }

Model read_model(const std::string& path) {
  std::vector<char> bytes = read_file_bytes(path);
  gemmi::Structure st;
  try {
#if SSE_IO_HAVE_MMCIF
    st = gemmi::read_structure_from_char_array(bytes.data(), bytes.size(), path);
#else
    if (looks_like_cif(bytes))
      throw file_error(path, "mmCIF support was not compiled in (install tao-pegtl-dev and rebuild)");
    st = gemmi::read_pdb_from_memory(bytes.data(), bytes.size(), path);
#endif
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw file_error(path, std::string("cannot read as PDB or mmCIF: ") + e.what());
  }
  Model m = convert(st, path);
  if (std::none_of(m.chains.begin(), m.chains.end(), [](const Chain& c) { return !c.atoms.empty(); }))
    throw file_error(path, "no atoms in the model file");
  return m;
}

}  // namespace sse::io
