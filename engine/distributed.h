// engine/distributed.h — the processes ("ranks") of one data-parallel run and the few collectives
// that training needs.
//
// A Comm is the group of ranks 0..size−1 that train one model together. Implementations:
//  * single_process(): rank 0 of 1; every collective is the identity. What a build without MPI, or
//    a run not started by a launcher, gets.
//  * MPI (engine/distributed_mpi.cpp, builds with MPI): what from_environment() makes when mpirun,
//    mpiexec or srun started this process as one of several ranks (their environment says so).
//    Host memory goes through MPI. CUDA tensors go through NCCL in a real CUDA build that found
//    NCCL (one NCCL communicator over the ranks, its unique id broadcast over MPI), otherwise they
//    are staged through host memory.
//  * tests/support/thread_comm.h: ranks as threads of one process, for in-process tests.
//
// Collective contract (MPI's): every rank calls the same collectives in the same order. Results are
// the same on every rank, bit for bit: allgather copies, and sum() adds the ranks' values in rank
// order on each rank. allreduce_sum_async() uses the transport's own reduction (MPI_Iallreduce,
// ncclAllReduce), whose association order depends on its algorithm but not on the rank that
// receives the result; train::Trainer checks that the ranks' weights agree at every checkpoint.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "engine/tensor.h"

namespace sse::dist {

// A started reduction; wait() completes it.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void wait() = 0;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // This rank's index among the ranks on its node: the GPU it takes.
  virtual int local_rank() const = 0;
  // "single", "mpi", "mpi+nccl", "threads".
  virtual std::string transport() const = 0;
  // True for every Comm but single_process(): training takes the data-parallel path (gradient
  // buckets, synchronized batch norm) even with one rank, so `mpirun -np 1` checks that path — on a
  // machine with one GPU, the NCCL path — against a plain run.
  bool parallel() const { return transport() != "single"; }

  // Prepares the transport for this rank's tensors on `dev` (NCCL: its communicator). Collective.
  virtual void bind_device(Device) {}
  // all[r·n .. r·n + n) = rank r's `mine` (n doubles of host memory), on every rank.
  virtual void allgather(const double* mine, std::size_t n, double* all) = 0;
  // Starts replacing the contiguous float tensor `t` (host or CUDA) by its sum over the ranks; the
  // tensor must stay alive and untouched until wait(). On a CUDA tensor wait() orders the engine's
  // stream after the reduction (the host does not block).
  virtual std::unique_ptr<Pending> allreduce_sum_async(const Tensor& t) = 0;
  // Lets started reductions advance (MPI moves data only inside its calls); cheap, call it often.
  virtual void progress() {}
  virtual void barrier() = 0;
  // Ends every rank's process with exit status `code`: what a rank that failed does, since its peers
  // may be waiting in a collective it will never join.
  [[noreturn]] virtual void abort(int code) = 0;

  // In place: v[i] = Σ over ranks of v[i], added in rank order on every rank (identical results).
  void sum(double* v, std::size_t n);
  double sum(double v);
  // True on every rank when `v` is true on any rank.
  bool any(bool v);
  // Throws EngineError naming `what` when the ranks' `v` differ (e.g. their data set sizes).
  void check_same(double v, const std::string& what);
};

std::shared_ptr<Comm> single_process();

// The number of ranks a launcher started (OMPI_COMM_WORLD_SIZE, PMI_SIZE, or under srun
// SLURM_STEP_NUM_TASKS), 1 when none did. Read from the environment, before MPI starts,
// so that every rank can refuse a bad configuration the same way without a collective.
int launcher_size();
// This rank's number by the same variables (0 when no launcher): who prints errors before MPI starts.
int launcher_rank();
// True in builds with MPI.
bool mpi_compiled();
// MPI (started here, finalized when the last reference goes) when a launcher started this process:
// mpirun/mpiexec with any number of ranks (OMPI_COMM_WORLD_SIZE or PMI_SIZE set), srun with more than
// one task (a one-task step, e.g. an interactive shell, stays a plain process); else single_process(). A build without MPI started as several ranks throws EngineError: each rank would
// train a model of its own.
std::shared_ptr<Comm> from_environment();

}  // namespace sse::dist
