// The single-process Comm, the collectives every Comm derives from allgather, and the choice of
// transport from the environment (contract in engine/distributed.h).
#include "engine/distributed.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace sse::dist {

#if SSE_WITH_MPI
std::shared_ptr<Comm> make_mpi_comm();  // engine/distributed_mpi.cpp
#endif

namespace {

class SingleProcess final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string transport() const override { return "single"; }
  void allgather(const double* mine, std::size_t n, double* all) override {
    if (n > 0) std::memmove(all, mine, n * sizeof(double));
  }
  std::unique_ptr<Pending> allreduce_sum_async(const Tensor&) override {
    struct Done final : Pending {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

// The first of these variables that is set, as an integer; -1 when none is.
int env_int(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = std::getenv(n)) return std::atoi(v);
  return -1;
}

// srun sets the SLURM_STEP_* variables for the tasks of a job step; a batch script (which may run
// one sseunet without srun) has the job's SLURM_NTASKS but is not a step of them.
bool under_srun() { return std::getenv("SLURM_STEP_ID") != nullptr; }

}  // namespace

void Comm::sum(double* v, std::size_t n) {
  if (size() == 1 || n == 0) return;
  std::vector<double> all(n * static_cast<std::size_t>(size()));
  allgather(v, n, all.data());
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int r = 0; r < size(); ++r) s += all[static_cast<std::size_t>(r) * n + i];
    v[i] = s;
  }
}

double Comm::sum(double v) {
  sum(&v, 1);
  return v;
}

bool Comm::any(bool v) { return sum(v ? 1.0 : 0.0) > 0.0; }

void Comm::check_same(double v, const std::string& what) {
  if (size() == 1) return;
  std::vector<double> all(static_cast<std::size_t>(size()));
  allgather(&v, 1, all.data());
  for (int r = 1; r < size(); ++r)
    if (all[static_cast<std::size_t>(r)] != all[0])
      throw EngineError("ranks disagree on " + what + ": rank 0 has " + std::to_string(all[0]) + ", rank " +
                        std::to_string(r) + " has " + std::to_string(all[static_cast<std::size_t>(r)]));
}

std::shared_ptr<Comm> single_process() { return std::make_shared<SingleProcess>(); }

int launcher_size() {
  int n = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
  if (n < 1 && under_srun()) n = env_int({"SLURM_STEP_NUM_TASKS"});  // the job step's, not the job's
  return n > 1 ? n : 1;
}

int launcher_rank() {
  int r = env_int({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"});
  if (r < 0 && under_srun()) r = env_int({"SLURM_PROCID"});
  return r > 0 ? r : 0;
}

bool mpi_compiled() { return SSE_WITH_MPI; }

std::shared_ptr<Comm> from_environment() {
  const bool launched = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) >= 1 || launcher_size() > 1;
  if (!launched) return single_process();
#if SSE_WITH_MPI
  return make_mpi_comm();
#else
  throw EngineError("started as " + std::to_string(launcher_size()) +
                    " ranks, but this sseunet was built without MPI (each rank would train alone): rebuild "
                    "with MPI (Debian: libopenmpi-dev openmpi-bin) or run one process");
#endif
}

}  // namespace sse::dist
