// Ranks as threads (contract in tests/support/thread_comm.h).
#include "tests/support/thread_comm.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sse::test {
namespace {

struct Broken : std::runtime_error {
  Broken() : std::runtime_error("another rank failed") {}
};

struct Group {
  explicit Group(int n) : n(n), slots(static_cast<std::size_t>(n)) {}
  const int n;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
  bool broken = false;
  std::vector<std::vector<double>> slots;

  void barrier() {
    std::unique_lock<std::mutex> lock(mu);
    if (broken) throw Broken();
    const long gen = generation;
    if (++arrived == n) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    cv.wait(lock, [&] { return generation != gen || broken; });
    if (broken) throw Broken();
  }
  void breaks() {
    std::lock_guard<std::mutex> lock(mu);
    broken = true;
    cv.notify_all();
  }
};

class ThreadComm final : public dist::Comm {
 public:
  ThreadComm(Group& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.n; }
  int local_rank() const override { return rank_; }
  std::string transport() const override { return "threads"; }

  void allgather(const double* mine, std::size_t n, double* all) override {
    g_.slots[static_cast<std::size_t>(rank_)].assign(mine, mine + n);
    g_.barrier();
    for (int r = 0; r < g_.n; ++r)
      std::copy(g_.slots[static_cast<std::size_t>(r)].begin(), g_.slots[static_cast<std::size_t>(r)].end(),
                all + static_cast<std::size_t>(r) * n);
    g_.barrier();  // nobody overwrites a slot before everyone has read it
  }

  std::unique_ptr<dist::Pending> allreduce_sum_async(const Tensor& t) override {
    const std::vector<float> v = t.to_vector<float>();
    const std::vector<double> mine(v.begin(), v.end());
    std::vector<double> all(mine.size() * static_cast<std::size_t>(g_.n));
    allgather(mine.data(), mine.size(), all.data());
    std::vector<float> sum(v.size(), 0.0f);
    for (int r = 0; r < g_.n; ++r)
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += static_cast<float>(all[static_cast<std::size_t>(r) * v.size() + i]);
    Tensor(t).copy_(Tensor::from_vector(sum, t.shape(), t.device()));
    struct Done final : dist::Pending {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }

  void barrier() override { g_.barrier(); }
  [[noreturn]] void abort(int code) override {
    g_.breaks();
    throw std::runtime_error("rank " + std::to_string(rank_) + " aborted with " + std::to_string(code));
  }

 private:
  Group& g_;
  int rank_;
};

}  // namespace

void run_ranks(int n, const std::function<void(dist::Comm&)>& body) {
  Group group(n);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        ThreadComm comm(group, r);
        body(comm);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
        group.breaks();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {  // the cause first, not a rank that merely saw it
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Broken&) {
      continue;
    }
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace sse::test
