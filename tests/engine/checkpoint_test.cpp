// The checkpoint file: exact round trip, atomic writes, and a clear refusal of truncated, corrupted,
// foreign and future-version files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/checkpoint.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

namespace fs = std::filesystem;

class CheckpointFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sse_ckpt_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "a.ckpt").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  Checkpoint sample() const {
    Checkpoint ck;
    ck.meta["step"] = 42;
    ck.meta["model"] = {{"width", 4}};
    ck.tensors.emplace_back("w", test::uniform(Shape{3, 5}, 1));
    ck.tensors.emplace_back("labels", Tensor::from_vector(std::vector<std::int32_t>{1, 2, 3}, Shape{3}));
    ck.tensors.emplace_back("scalar", Tensor::full(Shape{}, 7.0f));
    return ck;
  }
  std::vector<char> bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::vector<char>& b) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  std::string load_error() const {
    try {
      load_checkpoint(path_);
    } catch (const CheckpointError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(CheckpointFile, RoundTripIsExact) {
  const Checkpoint ck = sample();
  save_checkpoint(path_, ck);
  const Checkpoint back = load_checkpoint(path_);
  EXPECT_EQ(back.meta["step"], 42);
  EXPECT_EQ(back.meta["model"]["width"], 4);
  ASSERT_EQ(back.tensors.size(), 3u);
  EXPECT_EQ(back.find("w").to_vector<float>(), ck.find("w").to_vector<float>());
  EXPECT_EQ(back.find("labels").to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(back.find("scalar").shape(), Shape{});
  EXPECT_FALSE(back.find("nope").defined());
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "a.ckpt");  // no temp left
}

TEST_F(CheckpointFile, RefusesTruncatedCorruptedForeignAndNewer) {
  save_checkpoint(path_, sample());
  const std::vector<char> good = bytes();
  write(std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
  EXPECT_NE(load_error().find("truncated"), std::string::npos) << load_error();
  std::vector<char> flipped = good;
  flipped[flipped.size() - 20] ^= 0x10;  // inside the tensor data
  write(flipped);
  EXPECT_NE(load_error().find("checksum"), std::string::npos) << load_error();
  write(std::vector<char>{'M', 'A', 'P', ' ', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21});
  EXPECT_NE(load_error().find("not an sseunet checkpoint"), std::string::npos) << load_error();
  std::vector<char> newer = good;
  newer[8] = 9;
  write(newer);
  EXPECT_NE(load_error().find("version 9"), std::string::npos) << load_error();
  fs::remove(path_);
  EXPECT_NE(load_error().find("cannot open"), std::string::npos) << load_error();
}

TEST_F(CheckpointFile, UnwritableDirectoryFailsCleanly) {
  EXPECT_THROW(save_checkpoint((dir_ / "missing" / "x.ckpt").string(), sample()), CheckpointError);
}

}  // namespace
}  // namespace sse
