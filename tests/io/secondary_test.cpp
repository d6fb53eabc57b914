// Secondary structure: DSSP/STRIDE output files, records, the built-in DSSP, and its agreement with
// Debian's mkdssp (the oracle; skipped when mkdssp is absent).
#include "io/secondary.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "io/dssp.h"
#include "io/error.h"
#include "io/file_util.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

TEST(SsMapping, DefaultAndCustom) {
  const SsMapping m;
  for (char c : std::string("HGI")) EXPECT_EQ(m(c), Sse::helix);
  for (char c : std::string("EB")) EXPECT_EQ(m(c), Sse::sheet);
  for (char c : std::string(" TSP")) EXPECT_EQ(m(c), Sse::background);
  const SsMapping strict{"H", "E"};
  EXPECT_EQ(strict('G'), Sse::background);
  EXPECT_EQ(strict('B'), Sse::background);
}

TEST(SsFile, ReadsStrideAsgLines) {
  test::ScratchDir dir("ss");
  write_file_atomically(dir.file("x.stride"),
      "REM  STRIDE output\n"
      "ASG  MET A    1    1    C          Coil    360.00    150.67     215.6      1ABC\n"
      "ASG  ALA A    2    2    H    AlphaHelix    -60.00    -45.00      10.0      1ABC\n"
      "ASG  GLY A   2A    3    G      310Helix    -60.00    -45.00      10.0      1ABC\n"
      "ASG  VAL -    7    4    b        Bridge   -120.00    130.00      10.0      1ABC\n");
  const SsFile f = read_ss_file(dir.file("x.stride"));
  EXPECT_EQ(f.format, "stride");
  EXPECT_EQ(f.code("A", {1, ' '}), ' ');
  EXPECT_EQ(f.code("A", {2, ' '}), 'H');
  EXPECT_EQ(f.code("A", {2, 'A'}), 'G');
  EXPECT_EQ(f.code(" ", {7, ' '}), 'B');
  EXPECT_EQ(f.code("A", {99, ' '}), ' ');
}

TEST(SsFile, RejectsOtherFiles) {
  try {
    read_ss_file(data("real/3491_5mdx_L/L_fitted.pdb.gz"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("neither DSSP"), std::string::npos);
  }
}

TEST(SecondaryStructure, SourcePreferenceFileThenRecordsThenDssp) {
  const Model m = read_model(data("real/3491_5mdx_L/L_fitted.pdb.gz"));
  const ChainSs rec = chain_secondary_structure(m, "L");
  EXPECT_EQ(rec.source, SsSource::records);
  SsOptions no_records;
  no_records.use_records = false;
  const ChainSs dssp = chain_secondary_structure(m, "L", no_records);
  EXPECT_EQ(dssp.source, SsSource::builtin_dssp);
  ASSERT_EQ(dssp.classes.size(), m.chain("L").residues.size());
  // The HELIX record spans 14-38; DSSP must find a helix there too (a sanity check, not the oracle).
  int helix_in_record = 0;
  for (std::size_t i = 0; i < dssp.classes.size(); ++i)
    if (rec.classes[i] == Sse::helix && dssp.classes[i] == Sse::helix) ++helix_in_record;
  EXPECT_GE(helix_in_record, 20);

  test::ScratchDir dir("ss");
  write_file_atomically(dir.file("l.stride"),
                        "ASG  GLN L    3    1    E        Strand      0.00      0.00       0.0      XXXX\n");
  SsOptions with_file;
  with_file.ss_file = dir.file("l.stride");
  const ChainSs file = chain_secondary_structure(m, "L", with_file);
  EXPECT_EQ(file.source, SsSource::file);
  EXPECT_EQ(file.classes[0], Sse::sheet);
  for (std::size_t i = 1; i < file.classes.size(); ++i) EXPECT_EQ(file.classes[i], Sse::background);
}

// ---- the built-in DSSP against mkdssp ----------------------------------------------------------

bool have_mkdssp() { return std::system("mkdssp --version >/dev/null 2>&1") == 0; }

// mkdssp 4.2 refuses PDB files that do not start with HEADER: prepend one when missing. Everything
// else is kept (SEQRES makes mkdssp treat HETATM MSE as part of the chain, as we do), up to the
// end of the first model (read_model uses the first model only).
std::string mkdssp_input(const std::string& pdb_text) {
  std::string out;
  if (pdb_text.rfind("HEADER", 0) != 0) {
    out = "HEADER    X                                       01-JAN-00   XXXX";
    out.resize(80, ' ');
    out += "\n";
  }
  for (const std::string& l : split_lines(pdb_text)) {
    if (l.rfind("ENDMDL", 0) == 0) break;
    if (l.rfind("MODEL", 0) != 0 && l.rfind("END", 0) != 0) out += l + "\n";
  }
  return out + "END\n";
}

struct Agreement {
  long residues = 0, same3 = 0, same8 = 0;
  long helix = 0, sheet = 0;  // mkdssp's counts, to show the comparison is not vacuous
};

// Empty when mkdssp rejects the file (it refuses some legal PDB files, e.g. very large ones).
std::optional<Agreement> compare_with_mkdssp(const std::string& pdb, const test::ScratchDir& dir) {
  const std::string stem = std::filesystem::path(pdb).stem().stem().string();
  const std::string in = dir.file(stem + ".pdb"), out = dir.file(stem + ".dssp");
  write_file_atomically(in, mkdssp_input(read_text_file(pdb)));
  const std::string cmd = "mkdssp --output-format dssp " + in + " " + out + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return std::nullopt;
  const SsFile oracle = read_ss_file(out);
  const Model model = read_model(pdb);
  const auto ours = dssp_assign(model);
  const SsMapping map3;
  Agreement a;
  for (std::size_t c = 0; c < model.chains.size(); ++c) {
    const Chain& chain = model.chains[c];
    const std::vector<char> theirs = codes_from_file(oracle, chain);
    for (std::size_t r = 0; r < chain.residues.size(); ++r) {
      if (!chain.residues[r].has_backbone) continue;
      const char t = theirs[r] == 'P' ? ' ' : theirs[r];  // PPII is not assigned in-process
      ++a.residues;
      a.helix += map3(t) == Sse::helix;
      a.sheet += map3(t) == Sse::sheet;
      a.same3 += map3(ours[c][r]) == map3(t);
      a.same8 += ours[c][r] == t;
    }
  }
  return a;
}

// SSE_DSSP_ORACLE_DIR may name another folder of PDB/mmCIF files (searched recursively) to
// measure the agreement on more models by hand; the committed set is the default.
TEST(BuiltinDssp, AgreesWithMkdsspOnCommittedModels) {
  if (!have_mkdssp()) GTEST_SKIP() << "mkdssp not installed";
  const char* env = std::getenv("SSE_DSSP_ORACLE_DIR");
  const std::string folder = env ? env : data("dssp");
  test::ScratchDir dir("dssp");
  Agreement total;
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           folder, std::filesystem::directory_options::follow_directory_symlink)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.find(".pdb") == std::string::npos) continue;
    std::optional<Agreement> got;
    try {
      got = compare_with_mkdssp(e.path().string(), dir);
    } catch (const IoError& err) {
      if (!env) throw;
      std::cout << "  " << name << ": unreadable (" << err.what() << "), not counted\n";
      continue;
    }
    if (!got) {
      std::cout << "  " << name << ": mkdssp refused it, not counted\n";
      if (!env) ADD_FAILURE() << "mkdssp failed on committed model " << name;
      continue;
    }
    const Agreement& a = *got;
    if (a.same3 != a.residues || env)
      std::cout << "  " << name << ": " << a.same3 << "/" << a.residues << " three-class, "
                << a.same8 << " eight-state\n";
    total.residues += a.residues;
    total.same3 += a.same3;
    total.same8 += a.same8;
    total.helix += a.helix;
    total.sheet += a.sheet;
    ++files;
  }
  EXPECT_GT(total.helix, total.residues / 10);
  EXPECT_GT(total.sheet, total.residues / 10);
  const double p3 = 100.0 * double(total.same3) / double(total.residues);
  const double p8 = 100.0 * double(total.same8) / double(total.residues);
  std::cout << "built-in DSSP vs mkdssp: " << files << " models, " << total.residues
            << " residues (mkdssp: " << total.helix << " helix, " << total.sheet
            << " sheet), three-class agreement " << p3 << " %, eight-state " << p8 << " %\n";
  EXPECT_GE(files, 20);
  EXPECT_GE(p3, 95.0);
}

}  // namespace
}  // namespace sse::io
