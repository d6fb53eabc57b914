// io/secondary.h — per-residue secondary-structure classes (background/other, helix, sheet).
//
// Contract:
//  * Codes are in DSSP's alphabet ('H','G','I','E','B','T','S','P',' '); STRIDE's are mapped onto
//    it ('b' -> 'B', 'C' -> ' '). SsMapping turns a code into a class: by default H, G, I -> helix
//    and E, B -> sheet, everything else -> background ("other").
//  * chain_secondary_structure() picks, in order of preference: (1) the STRIDE or DSSP output file
//    in SsOptions::ss_file; (2) HELIX/SHEET records or _struct_conf/_struct_sheet_range, when the
//    model has any (then a residue outside every range is "other"); (3) the built-in DSSP.
//    The returned codes and classes are aligned with chain.residues.
//  * read_ss_file() autodetects DSSP classic format ("  #  RESIDUE" table) or STRIDE ("ASG" lines)
//    and throws IoError naming the file otherwise. Residues the file does not list are loops.
//    Both formats carry a one-character chain id, so only such chains can be matched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/dssp.h"
#include "io/structure.h"

namespace sse::io {

enum class Sse : std::uint8_t { background = 0, helix = 1, sheet = 2 };
constexpr int kNumClasses = 3;
const char* sse_name(Sse c);

struct SsMapping {
  std::string helix = "HGI";
  std::string sheet = "EB";
  Sse operator()(char code) const;
};

// Codes read from a DSSP or STRIDE file, keyed by (author chain id, residue id).
struct SsFile {
  std::string path;
  std::string format;  // "dssp" or "stride"
  std::map<std::pair<std::string, std::pair<int, char>>, char> codes;
  char code(const std::string& chain, const ResidueId& id) const;  // ' ' when absent
};
SsFile read_ss_file(const std::string& path);

enum class SsSource { file, records, builtin_dssp };
const char* ss_source_name(SsSource s);

struct SsOptions {
  std::string ss_file;        // optional STRIDE/DSSP output
  bool use_records = true;    // use HELIX/SHEET records when the model has them
  SsMapping mapping;
  DsspOptions dssp;
};

struct ChainSs {
  SsSource source = SsSource::builtin_dssp;
  std::vector<char> codes;   // per residue of the chain
  std::vector<Sse> classes;  // mapping(codes)
};

std::vector<char> codes_from_records(const Model& model, const Chain& chain);
std::vector<char> codes_from_file(const SsFile& file, const Chain& chain);
ChainSs chain_secondary_structure(const Model& model, const std::string& chain_id,
                                  const SsOptions& options = {});
std::vector<Sse> classify(const std::vector<char>& codes, const SsMapping& mapping);

// Number of Cα atoms of each class (the weights of the study's Table II averages).
struct CaCounts {
  long helix = 0, sheet = 0;
};
CaCounts count_ca(const Chain& chain, const std::vector<Sse>& residue_classes);

}  // namespace sse::io
