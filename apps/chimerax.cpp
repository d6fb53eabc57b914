// The ChimeraX view script (contract in apps/chimerax.h).
#include "apps/chimerax.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

namespace sse::app {

namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& path) {
  return path.find_first_of(" \t;#\"'") == std::string::npos ? path : "\"" + path + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool plain_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// "10-25,31,40A": consecutive plain residue numbers merge into ranges; insertion codes and negative
// numbers stay single.
std::string residue_list(const std::vector<std::string>& numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    if (plain_number(numbers[i]))
      while (j + 1 < numbers.size() && plain_number(numbers[j + 1]) &&
             std::stol(numbers[j + 1]) == std::stol(numbers[j]) + 1)
        ++j;
    out += (out.empty() ? "" : ",") + numbers[i] + (j > i ? "-" + numbers[j] : "");
    i = j + 1;
  }
  return out;
}

// One `color` command per chain and class: "color #4/A:10-25,31 red".
std::string colour_commands(const std::vector<ResidueCall>& calls) {
  std::string out;
  for (const auto& [cls, colour] : {std::pair<const char*, const char*>{"helix", "red"}, {"sheet", "yellow"}}) {
    std::map<std::string, std::vector<std::string>> by_chain;  // sorted chains: a stable script
    for (const ResidueCall& c : calls)
      if (c.predicted == cls) by_chain[c.chain].push_back(c.number);
    for (const auto& [chain, numbers] : by_chain)
      out += "color #4/" + chain + ":" + residue_list(numbers) + " " + colour + "\n";
  }
  return out;
}

}  // namespace

double contour_level(const io::Grid& map) {
  double sum = 0, sum2 = 0;
  for (float v : map.data) {
    sum += v;
    sum2 += double(v) * v;
  }
  const double n = double(std::max<std::size_t>(1, map.data.size()));
  const double mean = sum / n;
  return mean + std::sqrt(std::max(0.0, sum2 / n - mean * mean));
}

std::string relative_path(const std::string& target, const std::string& dir) {
  const fs::path t = fs::absolute(target).lexically_normal(), d = fs::absolute(dir).lexically_normal();
  const fs::path rel = t.lexically_relative(d);
  return rel.empty() ? t.string() : rel.string();
}

std::string chimerax_script(const ChimeraScene& s) {
  std::string out =
      "# ChimeraX view of an sseunet prediction: open this file in a new ChimeraX session\n"
      "# (chimerax view.cxc, or File > Open). Paths are relative to this file's folder.\n"
      "# #1 map, #2 helix mask (red), #3 sheet mask (yellow)" +
      std::string(s.structure.empty() ? "" : ", #4 model coloured by predicted class") +
      ".\n"
      "# The map's level is its mean + 1 SD; change it with: volume #1 level <value>\n";
  out += "open " + quoted(s.map) + "\n";
  out += "volume #1 style surface level " + number(s.map_level) + " color gray transparency 0.65 step 1\n";
  out += "open " + quoted(s.helix_mask) + "\n";
  out += "volume #2 style surface level 0.5 color red step 1\n";
  out += "open " + quoted(s.sheet_mask) + "\n";
  out += "volume #3 style surface level 0.5 color yellow step 1\n";
  if (!s.structure.empty()) {
    out += "open " + quoted(s.structure) + "\n";
    out += "hide #4 atoms\nshow #4 cartoons\ncolor #4 lightgray\n";
    out += colour_commands(s.residues);
  }
  out += "view\n";
  return out;
}

}  // namespace sse::app
