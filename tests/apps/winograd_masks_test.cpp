// The Winograd convolution changes no prediction that matters: the shipped model (models/default.ckpt)
// on the real chains committed for the io tests (tests/data/io/real: EMD-3491 chains L and X,
// EMD-6149 chain X, 5.0-5.3 Å) and on the shipped example map, with the direct 3×3×3 convolution
// (ConvWinograd::Off, the reference) and with Winograd — the measured rule (Auto) and F(4,3)³ on every
// layer it can run (F4, the least accurate). The bar: the same masks on ≥ 99.9 % of voxels.
// Probabilities may differ by float rounding only; a voxel's class flips only where two classes tie
// within that rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/inference.h"
#include "apps/model_io.h"
#include "io/map.h"
#include "kernels/conv3d.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

struct Prediction {
  Probabilities p;
  Masks masks;
};

Prediction predict(net::UNet3d& net, const io::Grid& input, cpu::ConvWinograd mode) {
  cpu::set_conv_winograd(mode);
  Prediction r;
  r.p = predict_probabilities(net, input, TileOptions{}, Device::cpu(), Reporter::silent());
  r.masks = masks_from(r.p);
  cpu::set_conv_winograd(cpu::ConvWinograd::Auto);
  return r;
}

TEST(WinogradMasks, RealChainsKeepTheirMasks) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  GTEST_SKIP() << "about 8 CPU-seconds optimized; the kernels' own tests run under the sanitizers";
#endif
  if (!cpu::conv_avx2_supported()) GTEST_SKIP() << "no AVX2+FMA: no Winograd on this CPU";
  LoadedModel model = load_model(repo_path("models/default.ckpt"), Device::cpu());
  const std::vector<std::string> maps{repo_path("tests/data/io/real/3491_5mdx_L/L-1.0APIX.mrc.gz"),
                                      repo_path("tests/data/io/real/3491_5mdx_X/X-1.0APIX.mrc.gz"),
                                      repo_path("tests/data/io/real/6149_3j8g_X/X-1.0APIX.mrc.gz"), example_map()};
  for (const std::string& path : maps) {
    const io::Grid input = prepare_input(io::read_map(path));
    const Prediction direct = predict(*model.net, input, cpu::ConvWinograd::Off);
    for (const cpu::ConvWinograd mode : {cpu::ConvWinograd::Auto, cpu::ConvWinograd::F4}) {
      const Prediction wino = predict(*model.net, input, mode);
      std::size_t same = 0, n = direct.masks.helix.data.size();
      double dp = 0;
      for (std::size_t i = 0; i < n; ++i) {
        same += direct.masks.helix.data[i] == wino.masks.helix.data[i] &&
                direct.masks.sheet.data[i] == wino.masks.sheet.data[i];
        dp = std::max({dp, std::fabs(double(direct.p.helix.data[i]) - wino.p.helix.data[i]),
                       std::fabs(double(direct.p.sheet.data[i]) - wino.p.sheet.data[i])});
      }
      const double agree = static_cast<double>(same) / static_cast<double>(n);
      std::printf("%s, %s: masks equal on %zu of %zu voxels (%.5f %%), largest probability difference %.1e\n",
                  fs::path(path).filename().c_str(), mode == cpu::ConvWinograd::Auto ? "auto" : "F(4,3)", same, n,
                  100.0 * agree, dp);
      EXPECT_GE(agree, 0.999) << path;
      EXPECT_LT(dp, 1e-3) << path << ": probabilities moved by more than rounding";
    }
  }
}

}  // namespace
}  // namespace sse::app::test
