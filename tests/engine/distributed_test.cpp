// The data-parallel pieces of the engine with ranks as threads (tests/support/thread_comm.h): the
// single-process Comm, rank-order sums, gradient buckets (sums, order, overlap with backward), and
// synchronized batch norm against one process on the whole batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <mutex>

#include "engine/distributed.h"
#include "engine/grad_buckets.h"
#include "engine/ops.h"
#include "tests/support/test_util.h"
#include "tests/support/thread_comm.h"

namespace sse {
namespace {

TEST(Distributed, SingleProcessIsTheIdentity) {
  auto c = dist::single_process();
  EXPECT_EQ(c->rank(), 0);
  EXPECT_EQ(c->size(), 1);
  EXPECT_EQ(c->sum(2.5), 2.5);
  EXPECT_TRUE(c->any(true));
  EXPECT_FALSE(c->any(false));
  Tensor t = Tensor::full(Shape{3}, 2.0f);
  c->allreduce_sum_async(t)->wait();
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(3, 2.0f));
  c->check_same(1.0, "anything");
}

TEST(Distributed, WithoutALauncherThereIsOneRank) {
  // ctest does not start tests through mpirun (the MPI tests do that themselves).
  EXPECT_EQ(dist::launcher_size(), 1);
  EXPECT_EQ(dist::from_environment()->size(), 1);
}

// Sets environment variables for the scope of a test, restoring their absence after.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [k, v] : vars) {
      names_.push_back(k);
      setenv(k, v, 1);
    }
  }
  ~ScopedEnv() {
    for (const char* k : names_) unsetenv(k);
  }

 private:
  std::vector<const char*> names_;
};

TEST(Distributed, TheLauncherIsReadFromTheEnvironment) {
  {
    ScopedEnv e{{"OMPI_COMM_WORLD_SIZE", "3"}, {"OMPI_COMM_WORLD_RANK", "2"}};  // mpirun
    EXPECT_EQ(dist::launcher_size(), 3);
    EXPECT_EQ(dist::launcher_rank(), 2);
  }
  {
    ScopedEnv e{{"SLURM_STEP_ID", "0"}, {"SLURM_STEP_NUM_TASKS", "8"}, {"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}};
    EXPECT_EQ(dist::launcher_size(), 8);  // srun: the step's tasks
    EXPECT_EQ(dist::launcher_rank(), 5);
  }
  {
    ScopedEnv e{{"SLURM_NTASKS", "16"}, {"SLURM_PROCID", "0"}};  // a batch script, not a step of 16
    EXPECT_EQ(dist::launcher_size(), 1);
  }
  EXPECT_EQ(dist::launcher_size(), 1);
}

TEST(Distributed, SumsAddInRankOrderAndAgree) {
  std::mutex mu;
  std::vector<double> seen;
  test::run_ranks(3, [&](dist::Comm& c) {
    // 1e16 + 1 − 1e16: the order decides the result; every rank must get the same one.
    const double mine[3] = {1e16, 1.0, -1e16};
    const double s = c.sum(mine[c.rank()]);
    EXPECT_EQ(c.any(c.rank() == 2), true);
    EXPECT_EQ(c.any(false), false);
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(s);
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (1e16 + 1.0) + -1e16);
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(seen[2], seen[0]);
}

TEST(Distributed, CheckSameNamesTheDisagreement) {
  EXPECT_THROW(test::run_ranks(2, [](dist::Comm& c) { c.check_same(c.rank() == 0 ? 4.0 : 5.0, "the data set size"); }),
               EngineError);
  test::run_ranks(2, [](dist::Comm& c) { c.check_same(7.0, "a constant"); });
}

class Buckets : public ::testing::TestWithParam<Device> {};

// Five parameters of uneven sizes in buckets of at most 1200 bytes (several buckets, one parameter
// larger than a bucket). Rank r's gradient of parameter k is (r + 1)·(k + 1)·(index + 1); the sums
// over 3 ranks are 6·(k + 1)·(index + 1), exact in float. Parameter 2 gets no gradient: zeros.
TEST_P(Buckets, SumGradientsOverTheRanksDuringBackward) {
  const Device dev = GetParam();
  const std::vector<index_t> sizes{10, 300, 7, 1000, 50};
  std::mutex mu;
  test::run_ranks(3, [&](dist::Comm& comm) {
    std::vector<Tensor> params;
    for (index_t n : sizes) params.push_back(Tensor::zeros(Shape{n}, DType::F32, dev).set_requires_grad(true));
    GradBuckets buckets(std::shared_ptr<dist::Comm>(&comm, [](dist::Comm*) {}), params, 1200);
    EXPECT_GE(buckets.buckets(), 3u);
    for (int step = 0; step < 2; ++step) {  // twice: the buckets are reused
      for (Tensor& p : params) p.zero_grad();
      Tensor loss = Tensor::zeros(Shape{}, DType::F32, dev);
      for (std::size_t k = 0; k < sizes.size(); ++k) {
        if (k == 2) continue;
        std::vector<float> w(static_cast<std::size_t>(sizes[k]));
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = float((comm.rank() + 1) * (k + 1) * (i + 1));
        loss = ops::add(loss, ops::sum(ops::mul(params[k], Tensor::from_vector(w, Shape{sizes[k]}, dev))));
      }
      {
        const auto hook = buckets.watch();
        loss.backward();
      }
      buckets.finish();
      for (std::size_t k = 0; k < sizes.size(); ++k) {
        const std::vector<float> g = params[k].grad().to_vector<float>();
        for (std::size_t i = 0; i < g.size(); ++i)
          ASSERT_EQ(g[i], k == 2 ? 0.0f : float(6 * (k + 1) * (i + 1))) << "param " << k << " at " << i;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    // The bucket of the last parameters is complete before backward reaches the first ones.
    EXPECT_GT(buckets.stats().started_early, 0);
    EXPECT_EQ(buckets.stats().started, 2 * static_cast<long long>(buckets.buckets()));
  });
}

// CPU only: ranks as threads would share one device's stream and kernel workspaces, which ranks as
// processes never do; the GPU pieces are tested at the kernel level (tests/kernels/cuda_layers_test).
INSTANTIATE_TEST_SUITE_P(Devices, Buckets, ::testing::Values(Device::cpu()), test::device_name);

class SyncBn : public ::testing::TestWithParam<Device> {};

struct BnRun {
  std::vector<float> y, dx, dgamma, dbeta, running_mean, running_var;
};

// Train-mode batch norm (with the fused ReLU when `relu`, its output stored as `out`) on rows [b, e)
// of x with loss Σ y·w: outputs (as floats), input gradient, γ/β gradients and the updated running
// statistics.
BnRun bn_part(const Tensor& x_all, const Tensor& w_all, index_t b, index_t e, Device dev, bool relu,
              DType out = DType::F32) {
  const index_t c = x_all.dim(1);
  Tensor x = x_all.slice_batch(b, e).to(dev).clone().set_requires_grad(true);
  Tensor gamma = test::uniform(Shape{c}, 3, 0.5f, 1.5f, dev).set_requires_grad(true);
  Tensor beta = test::uniform(Shape{c}, 4, -0.5f, 0.5f, dev).set_requires_grad(true);
  Tensor rm = test::uniform(Shape{c}, 5, -0.1f, 0.1f, dev), rv = test::uniform(Shape{c}, 6, 0.9f, 1.1f, dev);
  Tensor y = ops::to_dtype(ops::batch_norm(x, gamma, beta, rm, rv, true, {}, relu, out), DType::F32);
  ops::sum(ops::mul(y, w_all.slice_batch(b, e).to(dev))).backward();
  return {y.to_vector<float>(),          x.grad().to_vector<float>(), gamma.grad().to_vector<float>(),
          beta.grad().to_vector<float>(), rm.to_vector<float>(),       rv.to_vector<float>()};
}

std::vector<float> rows(const std::vector<float>& v, index_t per, index_t b, index_t e) {
  return std::vector<float>(v.begin() + b * per, v.begin() + e * per);
}

// Three ranks holding 1, 2 and 1 of 4 images compute what one process computes on all 4. Values far
// from zero mean (offset 3) make the merge of the parts' moments matter. Tolerance: float rounding of
// sums over 96 values per channel in another order, ~1e-5 relative. With and without the fused ReLU
// (its mask from each rank's values and the merged statistics).
void expect_ranks_match_one_process(Device dev, bool relu) {
  SCOPED_TRACE(relu ? "relu" : "no relu");
  const Shape s{4, 3, 2, 3, 4};
  const index_t per = s.tail(1);
  const Tensor x = test::uniform(s, 1, 2.0f, 4.0f), w = test::uniform(s, 2);
  const BnRun whole = bn_part(x, w, 0, 4, dev, relu);
  const index_t bounds[4] = {0, 1, 3, 4};
  std::vector<BnRun> parts(3);
  test::run_ranks(3, [&](dist::Comm& comm) {
    ops::SyncBatchNorm sync(comm);
    parts[static_cast<std::size_t>(comm.rank())] =
        bn_part(x, w, bounds[comm.rank()], bounds[comm.rank() + 1], dev, relu);
  });
  std::vector<float> dgamma(3, 0.0f), dbeta(3, 0.0f);
  for (int r = 0; r < 3; ++r) {
    const BnRun& p = parts[static_cast<std::size_t>(r)];
    EXPECT_TRUE(test::all_close(p.y, rows(whole.y, per, bounds[r], bounds[r + 1]), 1e-5)) << "rank " << r;
    EXPECT_TRUE(test::all_close(p.dx, rows(whole.dx, per, bounds[r], bounds[r + 1]), 1e-5)) << "rank " << r;
    EXPECT_TRUE(test::all_close(p.running_mean, whole.running_mean, 1e-6)) << "rank " << r;
    EXPECT_TRUE(test::all_close(p.running_var, whole.running_var, 1e-6)) << "rank " << r;
    EXPECT_EQ(p.running_mean, parts[0].running_mean);  // bit for bit the same on every rank
    for (std::size_t k = 0; k < 3; ++k) {
      dgamma[k] += p.dgamma[k];
      dbeta[k] += p.dbeta[k];
    }
  }
  EXPECT_TRUE(test::all_close(dgamma, whole.dgamma, 1e-5));
  EXPECT_TRUE(test::all_close(dbeta, whole.dbeta, 1e-5));
}

TEST_P(SyncBn, RanksHoldingPartsOfTheBatchMatchOneProcess) {
  expect_ranks_match_one_process(GetParam(), false);
  expect_ranks_match_one_process(GetParam(), true);
}

// bf16 activations: each rank's synchronized output stored as bfloat16 is its float output rounded
// once, bit for bit, and the gradients are those of the float run (the output's type never reaches
// the backward).
TEST_P(SyncBn, Bf16OutputIsTheFloatOutputRounded) {
  const Shape s{4, 3, 2, 3, 4};
  const Tensor x = test::uniform(s, 1, 2.0f, 4.0f), w = test::uniform(s, 2);
  const index_t bounds[3] = {0, 1, 4};
  std::vector<BnRun> f32(2), b16(2);
  test::run_ranks(2, [&](dist::Comm& comm) {
    ops::SyncBatchNorm sync(comm);
    const std::size_t r = static_cast<std::size_t>(comm.rank());
    f32[r] = bn_part(x, w, bounds[r], bounds[r + 1], GetParam(), true);
    b16[r] = bn_part(x, w, bounds[r], bounds[r + 1], GetParam(), true, DType::BF16);
  });
  for (std::size_t r = 0; r < 2; ++r) {
    std::vector<float> rounded;
    for (float v : f32[r].y) rounded.push_back(round_bf16(v));
    EXPECT_EQ(b16[r].y, rounded) << "rank " << r;
    EXPECT_EQ(b16[r].dx, f32[r].dx) << "rank " << r;
    EXPECT_EQ(b16[r].dgamma, f32[r].dgamma) << "rank " << r;
    EXPECT_EQ(b16[r].running_var, f32[r].running_var) << "rank " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, SyncBn, ::testing::Values(Device::cpu()), test::device_name);  // as Buckets

}  // namespace
}  // namespace sse
