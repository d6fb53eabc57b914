// tests/support/thread_comm.h — N ranks as threads of one process: a dist::Comm for in-process tests
// of data-parallel code (the exactness contract, checked without MPI and under the sanitizers).
//
// Collectives meet at a barrier of the group. allreduce_sum_async() is complete on return (no
// overlap) and adds in float in rank order, as MPI_SUM on MPI_FLOAT does for two ranks. A rank that
// throws breaks the group: the others' next collective throws too, so a test fails instead of hanging.
#pragma once

#include <functional>

#include "engine/distributed.h"

namespace sse::test {

// Runs body(comm) on n threads, one rank each; rethrows the first rank's exception.
void run_ranks(int n, const std::function<void(dist::Comm&)>& body);

}  // namespace sse::test
