// `sseunet reproduce` without training: the grid's names and the requests it refuses (the whole
// pipeline runs in reproduce_slow_test.cpp).
#include <gtest/gtest.h>

#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

TEST(Reproduce, ListsTheGridAndRefusesBadRequests) {
  Scratch s;
  const RunResult list = sseunet("reproduce --list --losses fce_dl,ce --gammas 2,5", s.path());
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(list.out, "ce\nfce_dl_g2\nfce_dl_g5\n");
  EXPECT_EQ(sseunet("reproduce --list", s.path()).out,
            "ce\nfce_g1\nfce_g2\nfce_g5\nfce_g8\ndl\nce_dl\nfce_dl_g1\nfce_dl_g2\nfce_dl_g5\nfce_dl_g8\n");
  EXPECT_EQ(sseunet("reproduce --quick --only fce_g3 -o q", s.path()).code, 2);
  EXPECT_EQ(sseunet("reproduce -o q --losses bce", s.path()).code, 2);
  EXPECT_EQ(sseunet("reproduce -o q", s.path()).code, 2);  // no manifest
  const RunResult none = sseunet("reproduce -o q --report", s.path());
  EXPECT_EQ(none.code, 1);
  EXPECT_TRUE(one_line(none.err)) << none.err;
  // A manifest without validation rows: γ could only be chosen on the test rows, which is refused.
  std::ofstream(s.path("m.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                 << io_data("real/3491_5mdx_X/X-1.0APIX.mrc.gz") << "\t"
                                 << io_data("real/3491_5mdx_X/X_fitted.pdb.gz") << "\tX\t5.3\ttrain\n";
  const RunResult noval = sseunet("reproduce -m m.tsv -o q -q", s.path());
  EXPECT_EQ(noval.code, 1);
  EXPECT_NE(noval.err.find("no rows with split val"), std::string::npos) << noval.err;
  EXPECT_FALSE(fs::exists(s.path("q")));
}

}  // namespace
}  // namespace sse::app::test
