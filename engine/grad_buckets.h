// engine/grad_buckets.h — data-parallel gradient reduction: the parameters' gradients summed over
// the ranks of a dist::Comm in a few large buckets, each started as soon as backward has produced
// all of its gradients, so that its transfer overlaps the backward of the layers before it.
//
// Contract:
//  * Buckets take the parameters in reverse order (the order backward finishes them: the last layer
//    first), each filled up to `bucket_bytes` (a parameter is never split; one larger than that is a
//    bucket alone). A bucket is one contiguous float tensor on the parameters' device.
//  * watch() returns a GradReadyHook: during the backward passes it covers, a bucket whose every
//    parameter has reported its final gradient is packed (copied into the bucket) and its sum
//    started. Buckets start in index order on every rank (one that completes before an earlier one
//    waits for it), so all ranks issue the same collectives in the same order.
//  * finish() starts the buckets not started yet, waits for all, and sets each parameter's grad() to
//    its slice of the summed bucket (a view: valid until the next finish()). A parameter without a
//    gradient contributes zeros. Sums, not means: the losses are already shares of the global batch.
//  * stats() reports how long finish() waited (the part of the transfer backward did not hide) and
//    how many buckets started during backward.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/distributed.h"
#include "engine/tensor.h"

namespace sse {

class GradBuckets {
 public:
  static constexpr std::size_t kDefaultBytes = std::size_t{4} << 20;

  GradBuckets(std::shared_ptr<dist::Comm> comm, std::vector<Tensor> params, std::size_t bucket_bytes = kDefaultBytes);
  GradBuckets(const GradBuckets&) = delete;
  GradBuckets& operator=(const GradBuckets&) = delete;

  std::unique_ptr<GradReadyHook> watch();
  void finish();

  struct Stats {
    double wait_seconds = 0.0;   // total time finish() spent waiting for transfers
    long long started_early = 0;  // buckets started during backward (overlapped)
    long long started = 0;        // all buckets started
  };
  const Stats& stats() const { return stats_; }
  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<std::size_t> params;  // indices into params_
    Tensor flat;
    std::size_t waiting = 0;          // parameters not reported yet in this pass
    std::unique_ptr<dist::Pending> pending;
  };
  void ready(const Tensor& leaf);
  void start(Bucket& b);
  void start_ready_in_order();
  void reset();

  std::shared_ptr<dist::Comm> comm_;
  std::vector<Tensor> params_;
  std::vector<std::size_t> bucket_of_, offset_of_;  // per parameter
  std::unordered_map<const TensorImpl*, std::size_t> index_;
  std::vector<Bucket> buckets_;
  std::size_t next_ = 0;  // the first bucket not started
  Stats stats_;
};

}  // namespace sse
