// Gradient buckets summed over the ranks while backward runs (contract in engine/grad_buckets.h).
#include "engine/grad_buckets.h"

#include <chrono>

#include "engine/ops.h"
#include "engine/profiler.h"

namespace sse {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

GradBuckets::GradBuckets(std::shared_ptr<dist::Comm> comm, std::vector<Tensor> params, std::size_t bucket_bytes)
    : comm_(std::move(comm)), params_(std::move(params)) {
  bucket_of_.resize(params_.size());
  offset_of_.resize(params_.size());
  std::vector<index_t> sizes;
  std::size_t bytes = 0;
  for (std::size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    check_dtype("GradBuckets", p, DType::F32);
    if (p.device() != params_.front().device()) fail("GradBuckets", "parameters on different devices");
    if (buckets_.empty() || (bytes > 0 && bytes + p.nbytes() > bucket_bytes)) {
      buckets_.emplace_back();
      sizes.push_back(0);
      bytes = 0;
    }
    bucket_of_[k] = buckets_.size() - 1;
    offset_of_[k] = static_cast<std::size_t>(sizes.back());
    buckets_.back().params.push_back(k);
    sizes.back() += p.numel();
    bytes += p.nbytes();
    index_[p.impl_ptr().get()] = k;
  }
  for (std::size_t b = 0; b < buckets_.size(); ++b)
    buckets_[b].flat = Tensor::zeros(Shape{sizes[b]}, DType::F32, params_.front().device());
  reset();
}

void GradBuckets::reset() {
  for (Bucket& b : buckets_) b.waiting = b.params.size();
  next_ = 0;
}

std::unique_ptr<GradReadyHook> GradBuckets::watch() {
  return std::make_unique<GradReadyHook>([this](const Tensor& leaf) { ready(leaf); });
}

void GradBuckets::ready(const Tensor& leaf) {
  const auto it = index_.find(leaf.impl_ptr().get());
  if (it == index_.end()) return;  // a leaf that is not one of ours
  Bucket& b = buckets_[bucket_of_[it->second]];
  if (b.waiting > 0) --b.waiting;
  const long long before = stats_.started;
  start_ready_in_order();
  stats_.started_early += stats_.started - before;
  comm_->progress();
}

void GradBuckets::start_ready_in_order() {
  while (next_ < buckets_.size() && buckets_[next_].waiting == 0) start(buckets_[next_++]);
}

void GradBuckets::start(Bucket& b) {
  OpScope scope("grad_allreduce_start", b.flat.device());
  for (std::size_t k : b.params) {
    const Tensor& p = params_[k];
    Tensor slot = b.flat.slice_batch(static_cast<index_t>(offset_of_[k]), static_cast<index_t>(offset_of_[k]) + p.numel())
                      .reshape(p.shape());
    // Kernels on the parameters' stream, not Tensor::copy_ (which waits for the device): on a GPU
    // the rest of backward keeps running while the bucket is packed and sent.
    slot.fill_(0.0f);
    const Tensor g = p.grad();
    if (g.defined()) ops::add_(slot, g);
  }
  b.pending = comm_->allreduce_sum_async(b.flat);
  ++stats_.started;
}

void GradBuckets::finish() {
  for (Bucket& b : buckets_) b.waiting = 0;
  start_ready_in_order();
  const double t0 = now_s();
  {
    OpScope scope("grad_allreduce_wait", params_.front().device());
    for (Bucket& b : buckets_) {
      b.pending->wait();
      b.pending.reset();
    }
  }
  stats_.wait_seconds += now_s() - t0;
  for (std::size_t k = 0; k < params_.size(); ++k) {
    Tensor& p = params_[k];
    const Bucket& b = buckets_[bucket_of_[k]];
    p.set_grad(b.flat.slice_batch(static_cast<index_t>(offset_of_[k]), static_cast<index_t>(offset_of_[k]) + p.numel())
                   .reshape(p.shape()));
  }
  reset();
}

}  // namespace sse
