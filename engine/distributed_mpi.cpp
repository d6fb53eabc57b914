// The MPI transport of engine/distributed.h (built with MPI), with NCCL for CUDA tensors in a real
// CUDA build that found it.
//
// Two duplicates of MPI_COMM_WORLD keep the blocking small collectives (allgather, barrier) apart
// from the non-blocking gradient reductions, which may be in flight across them. Errors come back
// as EngineError (MPI_ERRORS_RETURN) so the caller can report them before it aborts the job.
// MPI_THREAD_FUNNELED: only the thread that trains calls MPI (OpenMP workers never do).
// The C API only: Open MPI's and MPICH's mpi.h otherwise pull in their deprecated C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "engine/distributed.h"

#if SSE_WITH_NCCL
#include <nccl.h>

#include "engine/cuda_context.h"
#include "kernels/cuda/cuda_common.cuh"
#endif

namespace sse::dist {
namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw EngineError(std::string(call) + ": " + std::string(msg, static_cast<std::size_t>(len)));
}

int count_of(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) throw EngineError(std::string(what) + ": too many elements for MPI");
  return static_cast<int>(n);
}

// A non-blocking reduction of host memory; `staged` (when defined) is the host copy of a CUDA
// tensor, copied back into `target` by wait().
class MpiPending final : public Pending {
 public:
  MpiPending(MPI_Request req, Tensor target, Tensor staged)
      : req_(req), target_(std::move(target)), staged_(std::move(staged)) {}
  ~MpiPending() override {
    if (req_ != MPI_REQUEST_NULL) MPI_Wait(&req_, MPI_STATUS_IGNORE);  // never leave MPI writing into freed memory
  }
  void wait() override {
    check(MPI_Wait(&req_, MPI_STATUS_IGNORE), "MPI_Wait");
    if (staged_.defined()) target_.copy_(staged_);
  }

 private:
  MPI_Request req_;
  Tensor target_, staged_;
};

#if SSE_WITH_NCCL
void nccl_check(ncclResult_t r, const char* call) {
  if (r != ncclSuccess) throw EngineError(std::string(call) + ": " + ncclGetErrorString(r));
}

// A reduction on the NCCL stream; wait() makes the engine's stream wait for it.
class NcclPending final : public Pending {
 public:
  NcclPending(cudaEvent_t done, cudaStream_t compute) : done_(done), compute_(compute) {}
  ~NcclPending() override { cudaEventDestroy(done_); }
  void wait() override { SSE_CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0)); }

 private:
  cudaEvent_t done_;
  cudaStream_t compute_;
};
#endif

class MpiComm final : public Comm {
 public:
  MpiComm() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    check(MPI_Comm_dup(MPI_COMM_WORLD, &small_), "MPI_Comm_dup");
    check(MPI_Comm_dup(MPI_COMM_WORLD, &grads_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(small_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(grads_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(small_, &rank_);
    MPI_Comm_size(small_, &size_);
    MPI_Comm node;  // the ranks sharing this node's memory: the local rank picks the GPU
    check(MPI_Comm_split_type(small_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_free(&node);
  }

  ~MpiComm() override {
#if SSE_WITH_NCCL
    if (nccl_) ncclCommDestroy(nccl_);
    if (nccl_stream_) cudaStreamDestroy(nccl_stream_);
#endif
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Comm_free(&small_);
    MPI_Comm_free(&grads_);
    if (owns_) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string transport() const override {
#if SSE_WITH_NCCL
    if (nccl_) return "mpi+nccl";
#endif
    return "mpi";
  }

  void allgather(const double* mine, std::size_t n, double* all) override {
    const int c = count_of(n, "allgather");
    check(MPI_Allgather(mine, c, MPI_DOUBLE, all, c, MPI_DOUBLE, small_), "MPI_Allgather");
  }

  std::unique_ptr<Pending> allreduce_sum_async(const Tensor& t) override {
    check_dtype("allreduce_sum_async", t, DType::F32);
    const int c = count_of(static_cast<std::size_t>(t.numel()), "allreduce_sum_async");
    if (t.is_cuda()) {
#if SSE_WITH_NCCL
      return nccl_allreduce(t);
#else
      Tensor host = t.to(Device::cpu());  // no NCCL: staged through host memory
      return start(host.raw(), c, t, host);
#endif
    }
    return start(t.raw(), c, t, Tensor());
  }

  void progress() override {
    int flag = 0;  // any call into MPI runs its progress engine; a probe is the cheapest one
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, grads_, &flag, MPI_STATUS_IGNORE);
  }

  void barrier() override { check(MPI_Barrier(small_), "MPI_Barrier"); }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
  }

  void bind_device(Device dev) override {
#if SSE_WITH_NCCL
    bind_nccl(dev);
#else
    (void)dev;
#endif
  }

#if SSE_WITH_NCCL
  // One NCCL communicator over the ranks on `dev`; rank 0's unique id reaches the others over MPI.
  void bind_nccl(Device dev) {
    if (nccl_ || !dev.is_cuda()) return;
    ncclUniqueId id;
    if (rank_ == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    check(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, small_), "MPI_Bcast");
    SSE_CUDA_CHECK(cudaSetDevice(dev.index));
    nccl_check(ncclCommInitRank(&nccl_, size_, id, rank_), "ncclCommInitRank");
    SSE_CUDA_CHECK(cudaStreamCreateWithFlags(&nccl_stream_, cudaStreamNonBlocking));
  }
#endif

 private:
  std::unique_ptr<Pending> start(void* data, int count, const Tensor& target, const Tensor& staged) {
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, grads_, &req), "MPI_Iallreduce");
    return std::make_unique<MpiPending>(req, target, staged);
  }

#if SSE_WITH_NCCL
  // The reduction waits for the engine's stream to produce the tensor, runs on the NCCL stream, and
  // the engine's stream waits for it in wait(): backward kernels keep running meanwhile.
  std::unique_ptr<Pending> nccl_allreduce(const Tensor& t) {
    bind_nccl(t.device());
    const cudaStream_t compute = cuda_stream(t.device());
    cudaEvent_t ready = nullptr, done = nullptr;
    SSE_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    SSE_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    SSE_CUDA_CHECK(cudaEventRecord(ready, compute));
    SSE_CUDA_CHECK(cudaStreamWaitEvent(nccl_stream_, ready, 0));
    SSE_CUDA_CHECK(cudaEventDestroy(ready));  // released once the wait above has happened
    nccl_check(ncclAllReduce(t.raw(), t.raw(), static_cast<std::size_t>(t.numel()), ncclFloat, ncclSum, nccl_,
                             nccl_stream_),
               "ncclAllReduce");
    SSE_CUDA_CHECK(cudaEventRecord(done, nccl_stream_));
    return std::make_unique<NcclPending>(done, compute);
  }

  ncclComm_t nccl_ = nullptr;
  cudaStream_t nccl_stream_ = nullptr;
#endif

  MPI_Comm small_ = MPI_COMM_NULL, grads_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_ = false;
};

}  // namespace

std::shared_ptr<Comm> make_mpi_comm() { return std::make_shared<MpiComm>(); }

}  // namespace sse::dist
