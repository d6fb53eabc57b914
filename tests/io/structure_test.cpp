// Atomic models: PDB and mmCIF through gemmi, chain selection, Cα per residue, SS records.
#include "io/structure.h"

#include <gtest/gtest.h>

#include "io/error.h"
#include "io/secondary.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

TEST(Structure, ReadsChainResiduesAndHelixRecordFromPdb) {
  const Model m = read_model(data("real/3491_5mdx_L/L_fitted.pdb.gz"));
  const Chain& l = m.chain("L");
  EXPECT_EQ(l.residues.size(), 36u);
  std::vector<int> owner;
  EXPECT_EQ(l.ca_positions(&owner).size(), 36u);
  EXPECT_EQ(l.atoms.size(), 302u);  // every ATOM record of the file is a heavy atom of chain L
  EXPECT_EQ(l.residues[0].id.num, 3);
  EXPECT_EQ(l.residues[0].name, "GLN");
  EXPECT_EQ(l.residues[0].ca.x, 258.078);
  EXPECT_EQ(l.residues[0].ca.z, 239.167);
  ASSERT_EQ(m.helix_records.size(), 1u);
  EXPECT_EQ(m.helix_records[0].chain, "L");
  EXPECT_EQ(m.helix_records[0].first.num, 14);
  EXPECT_EQ(m.helix_records[0].last.num, 38);
  EXPECT_TRUE(m.sheet_records.empty());
}

TEST(Structure, PdbAndMmcifGiveTheSameModel) {
  if (!mmcif_supported()) GTEST_SKIP() << "built without PEGTL: no mmCIF";
  const Model p = read_model(data("real/6149_3j8g_X/X_fitted.pdb.gz"));
  const Model c = read_model(data("real/6149_3j8g_X/X_fitted.cif.gz"));
  const Chain& a = p.chain("X");
  const Chain& b = c.chain("X");
  ASSERT_EQ(a.residues.size(), b.residues.size());
  for (std::size_t i = 0; i < a.residues.size(); ++i) {
    EXPECT_EQ(a.residues[i].id, b.residues[i].id);
    EXPECT_EQ(a.residues[i].name, b.residues[i].name);
    EXPECT_EQ(dist(a.residues[i].ca, b.residues[i].ca), 0.0);
  }
  EXPECT_EQ(p.helix_records.size(), 12u);
  EXPECT_EQ(p.sheet_records.size(), 15u);
  EXPECT_EQ(codes_from_records(p, a), codes_from_records(c, b));
}

TEST(Structure, MmcifHelixFromStructConf) {
  if (!mmcif_supported()) GTEST_SKIP() << "built without PEGTL: no mmCIF";
  const Model m = read_model(data("format/5i55.cif.gz"));
  const Chain& a = m.chain("A");
  ASSERT_EQ(m.helix_records.size(), 1u);
  const std::vector<char> codes = codes_from_records(m, a);
  for (std::size_t i = 0; i < a.residues.size(); ++i) {
    const int n = a.residues[i].id.num;
    EXPECT_EQ(codes[i], (n >= 2 && n <= 20) ? 'H' : ' ') << n;
  }
}

TEST(Structure, MissingChainListsTheChainsThatExist) {
  const Model m = read_model(data("real/3491_5mdx_X/X_fitted.pdb.gz"));
  try {
    m.chain("Q");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no chain 'Q' (chains: X)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("X_fitted.pdb.gz"), std::string::npos);
  }
}

TEST(Structure, UnreadableFilesThrowIoError) {
  test::ScratchDir dir("bad");
  EXPECT_THROW(read_model(dir.file("nothing.pdb")), IoError);
  EXPECT_THROW(read_model(data("synthetic/mode2.mrc")), IoError);
}

}  // namespace
}  // namespace sse::io
