// io/secondary.cpp — see secondary.h.
#include "io/secondary.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "io/error.h"
#include "io/file_util.h"

namespace sse::io {
namespace {

using Key = std::pair<std::string, std::pair<int, char>>;

Key key_of(const std::string& chain, const ResidueId& id) { return {chain, {id.num, id.icode}}; }

// "123" or "123A" -> residue id; false if not a number.
bool parse_residue_number(const std::string& s, ResidueId& id) {
  if (s.empty()) return false;
  std::size_t used = 0;
  try {
    id.num = std::stoi(s, &used);
  } catch (const std::exception&) {
    return false;
  }
  if (used == s.size()) id.icode = ' ';
  else if (used + 1 == s.size() && std::isalpha(static_cast<unsigned char>(s[used]))) id.icode = s[used];
  else return false;
  return true;
}

char stride_to_dssp(char c) {
  if (c == 'b') return 'B';
  if (c == 'C') return ' ';
  return c;
}

// STRIDE "ASG" line: ASG <res> <chain> <number[icode]> <ordinal> <code> ...; '-' is a blank chain.
void parse_stride(const std::vector<std::string>& lines, SsFile& f) {
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (lines[n].rfind("ASG ", 0) != 0) continue;
    std::istringstream in(lines[n]);
    std::string tag, res, chain, number, ordinal, code;
    ResidueId id;
    if (!(in >> tag >> res >> chain >> number >> ordinal >> code) || code.size() != 1 ||
        !parse_residue_number(number, id))
      throw file_error(f.path, "line " + std::to_string(n + 1) + ": malformed STRIDE ASG line");
    f.codes[key_of(chain == "-" ? " " : chain, id)] = stride_to_dssp(code[0]);
  }
}

// DSSP classic: after the "  #  RESIDUE" header, number in columns 6-10, insertion code in 11,
// chain in 12, amino acid in 14 ('!' marks a break line), structure in 17.
void parse_dssp(const std::vector<std::string>& lines, std::size_t header, SsFile& f) {
  for (std::size_t n = header + 1; n < lines.size(); ++n) {
    const std::string& l = lines[n];
    if (l.size() < 17 || l[13] == '!') continue;
    ResidueId id;
    std::string number = l.substr(5, 5);
    number.erase(0, number.find_first_not_of(' '));
    if (!parse_residue_number(number, id))
      throw file_error(f.path, "line " + std::to_string(n + 1) + ": malformed DSSP residue line");
    id.icode = l[10];
    f.codes[key_of(std::string(1, l[11]), id)] = l[16];
  }
}

bool same_id(const Residue& r, const ResidueId& id) { return r.id == id; }

// Residues first..last of a record, by position in the chain when both ends are present, else by
// (number, insertion code) order.
template <class F>
void for_each_in_range(const Chain& chain, const ResidueRange& range, F&& f) {
  const auto& rs = chain.residues;
  auto a = std::find_if(rs.begin(), rs.end(), [&](const Residue& r) { return same_id(r, range.first); });
  auto b = std::find_if(rs.begin(), rs.end(), [&](const Residue& r) { return same_id(r, range.last); });
  if (a != rs.end() && b != rs.end() && a <= b) {
    for (auto it = a; it <= b; ++it) f(std::size_t(it - rs.begin()));
    return;
  }
  const auto order = [](const ResidueId& x) { return std::make_pair(x.num, x.icode); };
  for (std::size_t i = 0; i < rs.size(); ++i)
    if (order(rs[i].id) >= order(range.first) && order(rs[i].id) <= order(range.last)) f(i);
}

}  // namespace

const char* sse_name(Sse c) {
  switch (c) {
    case Sse::helix: return "helix";
    case Sse::sheet: return "sheet";
    default: return "other";
  }
}

Sse SsMapping::operator()(char code) const {
  if (code != ' ' && helix.find(code) != std::string::npos) return Sse::helix;
  if (code != ' ' && sheet.find(code) != std::string::npos) return Sse::sheet;
  return Sse::background;
}

char SsFile::code(const std::string& chain, const ResidueId& id) const {
  auto it = codes.find(key_of(chain, id));
  return it == codes.end() ? ' ' : it->second;
}

SsFile read_ss_file(const std::string& path) {
  SsFile f;
  f.path = path;
  const std::vector<std::string> lines = split_lines(read_text_file(path));
  for (std::size_t n = 0; n < lines.size(); ++n)
    if (lines[n].rfind("  #  RESIDUE", 0) == 0) {
      f.format = "dssp";
      parse_dssp(lines, n, f);
      return f;
    }
  if (std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("ASG ", 0) == 0; })) {
    f.format = "stride";
    parse_stride(lines, f);
    return f;
  }
  throw file_error(path, "neither DSSP (no '  #  RESIDUE' table) nor STRIDE (no ASG lines) output");
}

const char* ss_source_name(SsSource s) {
  switch (s) {
    case SsSource::file: return "file";
    case SsSource::records: return "records";
    default: return "dssp";
  }
}

std::vector<char> codes_from_records(const Model& model, const Chain& chain) {
  std::vector<char> codes(chain.residues.size(), ' ');
  // Sheets first, helices over them: a residue in both kinds of record is a helix, as in DSSP.
  for (const ResidueRange& r : model.sheet_records)
    if (r.chain == chain.id) for_each_in_range(chain, r, [&](std::size_t i) { codes[i] = 'E'; });
  for (const ResidueRange& r : model.helix_records)
    if (r.chain == chain.id) for_each_in_range(chain, r, [&](std::size_t i) { codes[i] = 'H'; });
  return codes;
}

std::vector<char> codes_from_file(const SsFile& file, const Chain& chain) {
  std::vector<char> codes;
  codes.reserve(chain.residues.size());
  for (const Residue& r : chain.residues) codes.push_back(file.code(chain.id, r.id));
  return codes;
}

std::vector<Sse> classify(const std::vector<char>& codes, const SsMapping& mapping) {
  std::vector<Sse> out;
  out.reserve(codes.size());
  for (char c : codes) out.push_back(mapping(c));
  return out;
}

CaCounts count_ca(const Chain& chain, const std::vector<Sse>& residue_classes) {
  CaCounts n;
  for (std::size_t i = 0; i < chain.residues.size(); ++i) {
    if (!chain.residues[i].has_ca) continue;
    n.helix += residue_classes.at(i) == Sse::helix;
    n.sheet += residue_classes.at(i) == Sse::sheet;
  }
  return n;
}

ChainSs chain_secondary_structure(const Model& model, const std::string& chain_id,
                                  const SsOptions& options) {
  const Chain& chain = model.chain(chain_id);
  ChainSs out;
  if (!options.ss_file.empty()) {
    out.source = SsSource::file;
    out.codes = codes_from_file(read_ss_file(options.ss_file), chain);
  } else if (options.use_records && model.has_ss_records()) {
    out.source = SsSource::records;
    out.codes = codes_from_records(model, chain);
  } else {
    out.source = SsSource::builtin_dssp;
    const auto all = dssp_assign(model, options.dssp);
    out.codes = all[std::size_t(&chain - model.chains.data())];
  }
  out.classes = classify(out.codes, options.mapping);
  return out;
}

}  // namespace sse::io
