// io/simulate_set.cpp — see simulate_set.h.
#include "io/simulate_set.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "io/dna_decoy.h"
#include "io/error.h"
#include "io/file_util.h"
#include "kernels/philox.h"

namespace sse::io {
namespace {

namespace fs = std::filesystem;
using Metadata = std::vector<std::pair<std::string, std::string>>;

std::string model_stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".gz", ".pdb", ".ent", ".cif", ".mmcif"})
    if (ends_with(name, ext)) name.resize(name.size() - std::strlen(ext));
  return name;
}

// Everything that determines a simulated sample's content.
std::string source_key(const std::string& model_path, const std::string& chain, std::uint64_t seed,
                       const SimulatedSetOptions& o) {
  return "v" + std::to_string(Sample::kVersion) + "|simulated|" + file_stamp(model_path) + "|" + chain + "|seed " +
         std::to_string(seed) + "|sigma " + exact_number(o.simulate.sigma_factor) + "," +
         exact_number(o.simulate.cutoff_sigmas) + "," + std::to_string(o.simulate.weight_by_occupancy) + "," +
         std::to_string(o.neighbours) + "|" + realism_key(o.realism) + "|" + options_key(o.build) +
         (o.context == SampleContext::box ? "|context box" : "");  // (zone: caches built before it stay valid)
}

// The sample lattice around the chain: wide enough for the zone and its margin, and for the
// density of the chain's atoms to be complete.
GridGeometry sample_lattice(const Chain& chain, const SimulateOptions& sim, const BuildOptions& b) {
  const double voxel = std::max({b.voxel.x, b.voxel.y, b.voxel.z});
  const double padding = std::max(sim.cutoff_sigmas * sim.sigma(), b.zone.radius) + b.zone.margin * voxel;
  // b carries the sample's drawn radius: the lattice covers exactly its zone.
  return lattice_around(chain.atoms, b.voxel, padding);
}

Metadata draw_metadata(const Model& model, const std::string& chain, const RealismDraw& d,
                       const SimulatedSetOptions& o) {
  return {{"map", "simulated"},
          {"model", model.path},
          {"chain", chain},
          {"resolution", exact_number(d.resolution)},
          {"split", split_name(o.split)},
          {"seed", std::to_string(d.seed)},
          {"sigma_factor", exact_number(o.simulate.sigma_factor)},
          {"cutoff_sigmas", exact_number(o.simulate.cutoff_sigmas)},
          {"bfactor", exact_number(d.bfactor)},
          {"scale", exact_number(d.scale)},
          {"snr", exact_number(d.snr)},
          {"noise_sigma", exact_number(d.noise_sigma)},
          {"neighbours", o.neighbours ? "1" : "0"},
          {"context", context_name(o.context)},
          {"zone_radius", exact_number(with_drawn_zone(o.build, d).zone.radius)},
          {"local_bfactor", exact_number(d.local_bfactor)}};
}

// A duplex of `blocks` × 12 bp placed beside the chain, clear of every atom of the model; empty when
// no placement is clear (the sample then has none, and says so: dna_base_pairs 0).
DnaDecoy dna_beside(const Model& model, const Chain& chain, int blocks, std::uint64_t seed) {
  std::vector<Vec3> occupied;
  for (const Chain& c : model.chains) occupied.insert(occupied.end(), c.atoms.begin(), c.atoms.end());
  // Nucleosomal DNA turns ~ 4.5° per base-pair step (~ 55° per 12 bp), free DNA far less.
  constexpr double kMaxBendDegrees = 45;
  return place_beside(build_duplex(blocks, kMaxBendDegrees, seed), chain, PointIndex(std::move(occupied), 4.0), seed);
}

WeightedAtoms duplex_atoms(const DnaDecoy& dna) {
  WeightedAtoms w;
  w.positions = dna.atoms;
  for (std::uint8_t z : dna.elements) w.weights.push_back(float(z));
  return w;
}

ChainSs chain_classes(const Model& model, const std::string& chain, const SimulatedSetOptions& o) {
  SsOptions ss = o.build.ss;
  ss.ss_file.clear();
  return chain_secondary_structure(model, chain, ss);
}

// Box context: every chain with a Cα as one chain (residues in model order) and its residues'
// classes, each chain's as chain_classes gives them.
std::pair<Chain, std::vector<Sse>> every_chain(const Model& model, const SimulatedSetOptions& o) {
  std::pair<Chain, std::vector<Sse>> all;
  for (const Chain& c : model.chains) {
    if (std::none_of(c.residues.begin(), c.residues.end(), [](const Residue& r) { return r.has_ca; })) continue;
    const ChainSs ss = chain_classes(model, c.id, o);
    all.first.residues.insert(all.first.residues.end(), c.residues.begin(), c.residues.end());
    all.second.insert(all.second.end(), ss.classes.begin(), ss.classes.end());
  }
  return all;
}

// The samples of one chain; `classes` is computed only when some sample needs building.
void build_chain(const Model& model, const std::string& chain, const SimulatedSetOptions& o,
                 std::vector<SimulatedBuildResult>& results) {
  std::vector<ChainSs> classes;
  for (int k = 0; k < o.samples_per_chain; ++k) {
    SimulatedBuildResult r{model.path, chain, k, BuildStatus::failed, simulated_sample_path(model.path, chain, k, o),
                           ""};
    const std::uint64_t seed = sample_seed(model.path, chain, k, o.seed);
    try {
      if (sample_up_to_date(r.sample_path, source_key(model.path, chain, seed, o))) {
        r.status = BuildStatus::skipped;
      } else {
        if (classes.empty()) classes.push_back(chain_classes(model, chain, o));
        write_sample(r.sample_path, simulate_sample(model, chain, classes[0], seed, o));
        r.status = BuildStatus::built;
      }
    } catch (const IoError& e) {
      r.message = "chain " + chain + ", sample " + std::to_string(k) + ": " + e.what();
    }
    results.push_back(std::move(r));
  }
}

// The chains a source asks for; throws IoError naming the file when there are none.
std::vector<std::string> source_chains(const Model& model, const SimulatedSource& s, int min_residues) {
  if (!s.chain.empty()) {
    model.chain(s.chain);  // throws, listing the chains that exist
    return {s.chain};
  }
  std::vector<std::string> chains = protein_chains(model, min_residues);
  if (chains.empty())
    throw file_error(model.path, "no protein chain (no chain has " + std::to_string(min_residues) +
                                     " or more residues with a CA atom)");
  return chains;
}

}  // namespace

BuildOptions with_drawn_zone(const BuildOptions& build, const RealismDraw& draw) {
  BuildOptions b = build;
  if (draw.zone_radius > 0) b.zone.radius = draw.zone_radius;
  return b;
}

double widest_zone(const BuildOptions& build, const Realism& realism) {
  return realism.radius_max > 0 ? realism.radius_max : build.zone.radius;
}

std::string realism_key(const Realism& r) {
  std::ostringstream s;
  s << "res " << exact_number(r.res_min) << "," << exact_number(r.res_max) << "|snr " << exact_number(r.snr_min)
    << "," << exact_number(r.snr_max) << "," << exact_number(r.noise_correlation) << "|b "
    << exact_number(r.bfactor_min) << "," << exact_number(r.bfactor_max) << "|scale " << exact_number(r.scale_min)
    << "," << exact_number(r.scale_max);
  if (r.radius_max > 0) s << "|zone " << exact_number(r.radius_min) << "," << exact_number(r.radius_max);
  if (r.local_bfactor_max > 0) s << "|local b " << exact_number(r.local_bfactor_max);
  if (r.dna_fraction > 0) s << "|dna " << exact_number(r.dna_fraction) << "," << r.dna_blocks_max;
  return s.str();  // (no part for options left off: caches built before them stay valid)
}

std::uint64_t sample_seed(const std::string& model_path, const std::string& chain, int index, std::uint64_t seed) {
  // Philox keyed by the set's seed, on a counter made from the sample's identity: independent
  // streams for every (file name, chain, k) without a hand-made mixing function.
  const std::uint64_t id = fnv1a(fs::path(model_path).filename().string() + "|" + chain + "|" + std::to_string(index));
  return (std::uint64_t(philox_word(seed, id, 0)) << 32) | philox_word(seed, id, 1);
}

const char* context_name(SampleContext c) { return c == SampleContext::box ? "box" : "zone"; }

std::vector<std::string> protein_chains(const Model& model, int min_residues) {
  std::vector<std::string> out;
  for (const Chain& c : model.chains) {
    const long with_ca = std::count_if(c.residues.begin(), c.residues.end(), [](const Residue& r) { return r.has_ca; });
    if (with_ca >= min_residues) out.push_back(c.id);
  }
  return out;
}

Sample simulate_sample(const Model& model, const std::string& chain_id, const ChainSs& ss, std::uint64_t seed,
                       const SimulatedSetOptions& o) {
  const Chain& chain = model.chain(chain_id);
  if (chain.atoms.empty()) throw file_error(model.path, "chain '" + chain_id + "' has no atoms to simulate");
  const RealismDraw draw = draw_realism(o.realism, o.simulate.sigma_factor, seed);
  SimulateOptions sim = o.simulate;
  sim.resolution = draw.resolution;
  const BuildOptions build = with_drawn_zone(o.build, draw);
  // A duplex joins the zone (its atoms count as the chain's for the zone and the lattice, not for
  // the labels, which come from the chain's Cα: the duplex is background).
  const DnaDecoy dna = draw.dna_blocks > 0 ? dna_beside(model, chain, draw.dna_blocks, seed) : DnaDecoy{};
  Chain zone_chain = chain;
  zone_chain.atoms.insert(zone_chain.atoms.end(), dna.atoms.begin(), dna.atoms.end());
  zone_chain.elements.insert(zone_chain.elements.end(), dna.elements.begin(), dna.elements.end());
  Grid clean = simulate_onto(model, o.neighbours ? "" : chain_id, sample_lattice(zone_chain, sim, build), sim);
  if (!dna.empty()) add_gaussians(duplex_atoms(dna), sim.sigma(), sim.cutoff_sigmas, clean);
  Sample s;
  if (o.context == SampleContext::zone) {
    s = chain_sample(add_realism(clean, draw), zone_chain, ss, build);
  } else {
    BuildOptions box = build;
    box.zone.zero_outside = false;
    const auto [all, classes] = every_chain(model, o);
    s = chain_sample(add_realism(clean, draw), zone_chain, ss, box, ZoneLabels{&all, &classes});
  }
  Metadata meta = draw_metadata(model, chain_id, draw, o);
  meta.emplace_back("dna_base_pairs", std::to_string(dna.base_pairs));
  meta.insert(meta.end(), s.metadata.begin(), s.metadata.end());
  meta.emplace_back("source", source_key(model.path, chain_id, seed, o));
  meta.emplace_back("written_by", "sseunet " SSEUNET_VERSION);
  s.metadata = std::move(meta);
  return s;
}

Sample simulate_sample(const std::string& model_path, const std::string& chain, std::uint64_t seed,
                       const SimulatedSetOptions& o) {
  const Model model = read_model(model_path);
  return simulate_sample(model, chain, chain_classes(model, chain, o), seed, o);
}

std::string simulated_sample_path(const std::string& model_path, const std::string& chain, int index,
                                  const SimulatedSetOptions& o) {
  const std::string hash = short_hash(model_path + "|" + chain + "|" + std::to_string(index));
  const std::string name = model_stem(model_path) + "_" + chain + "_s" + std::to_string(index) + "_" + hash;
  return (fs::path(o.build.cache_dir) / (name + ".sample")).string();
}

std::vector<SimulatedBuildResult> build_simulated(const std::vector<SimulatedSource>& sources,
                                                  const SimulatedSetOptions& o) {
  if (o.build.cache_dir.empty()) throw std::invalid_argument("build_simulated: no cache directory");
  if (o.samples_per_chain < 1) throw std::invalid_argument("build_simulated: samples_per_chain must be >= 1");
  draw_realism(o.realism, o.simulate.sigma_factor, 0);  // refuses bad ranges before any file is read
  fs::create_directories(o.build.cache_dir);
  std::vector<SimulatedBuildResult> results;
  for (const SimulatedSource& src : sources) {
    try {
      const Model model = read_model(src.model);
      for (const std::string& chain : source_chains(model, src, o.min_residues)) build_chain(model, chain, o, results);
    } catch (const IoError& e) {
      results.push_back({src.model, src.chain, -1, BuildStatus::failed, "", e.what()});
    }
  }
  return results;
}

}  // namespace sse::io
