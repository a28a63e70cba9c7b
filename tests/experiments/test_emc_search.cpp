// The EMC search: exact answers on deterministic probes, and the measured capacity of a linear
// classifier against Cover's theorem (1965): with bias, in d dimensions, random ±1 labels of n
// Gaussian points are linearly separable with probability 1/2 at n = 2(d+1).
#include <gtest/gtest.h>
#include <omp.h>

#include <set>

#include "autograd/ops.h"
#include "experiments/emc/search.h"
#include "experiments/emc/trainer.h"
#include "nn/models/mlp.h"

namespace ember::emc {
namespace {

Probe threshold_probe(int64_t capacity, std::set<int64_t>* probed = nullptr) {
  return [=](int64_t n) {
    if (probed) probed->insert(n);
    return n <= capacity;
  };
}

TEST(EmcSearch, BisectionFindsTheExactThreshold) {
  for (int64_t capacity : {1, 7, 32, 33, 100, 777}) {
    SearchResult r = find_emc(threshold_probe(capacity), {.start = 32, .max_n = 5000, .tolerance = 0});
    EXPECT_EQ(r.emc, capacity);
    EXPECT_EQ(r.first_failure, capacity + 1);
    EXPECT_FALSE(r.censored);
  }
}

TEST(EmcSearch, ToleranceBoundsTheBracket) {
  SearchResult r = find_emc(threshold_probe(1000), {.start = 32, .max_n = 5000, .tolerance = 0.1});
  EXPECT_LE(r.emc, 1000);
  EXPECT_GT(r.first_failure, 1000);
  EXPECT_LE(r.first_failure - r.emc, 0.1 * r.emc + 1);
  SearchResult exact = find_emc(threshold_probe(1000), {.start = 32, .max_n = 5000, .tolerance = 0});
  EXPECT_LT(r.probes, exact.probes);
}

TEST(EmcSearch, CensoredWhenEverythingFits) {
  std::set<int64_t> probed;
  SearchResult r = find_emc(threshold_probe(1 << 20, &probed), {.start = 32, .max_n = 300, .tolerance = 0});
  EXPECT_TRUE(r.censored);
  EXPECT_EQ(r.emc, 300);
  EXPECT_EQ(probed, (std::set<int64_t>{32, 64, 128, 256, 300}));
}

TEST(EmcSearch, NothingFits) {
  SearchResult r = find_emc(threshold_probe(0), {.start = 32, .max_n = 300, .tolerance = 0});
  EXPECT_EQ(r.emc, 0);
  EXPECT_EQ(r.first_failure, 1);
}

TEST(EmcSearch, LogGridStopsAtTheFirstFailure) {
  std::set<int64_t> probed;
  SearchResult r = find_emc(threshold_probe(100, &probed),
                            {.mode = SearchOptions::Mode::LogGrid, .start = 16, .max_n = 5000, .grid_per_octave = 2});
  EXPECT_EQ(r.emc, 91);  // 16 * sqrt(2)^5 = 90.5
  EXPECT_EQ(r.first_failure, 128);
  EXPECT_EQ(*probed.rbegin(), 128);
}

TEST(EmcSearch, LogGridWalksDownWhenTheStartFails) {
  std::set<int64_t> probed;
  SearchResult r = find_emc(threshold_probe(10, &probed),
                            {.mode = SearchOptions::Mode::LogGrid, .start = 32, .max_n = 5000, .grid_per_octave = 1});
  EXPECT_EQ(r.emc, 8);
  EXPECT_EQ(r.first_failure, 16);
  EXPECT_EQ(probed, (std::set<int64_t>{8, 16, 32}));
  EXPECT_TRUE(
      find_emc(threshold_probe(1000), {.mode = SearchOptions::Mode::LogGrid, .start = 32, .max_n = 100}).censored);
}

TEST(EmcSearch, RejectsBadOptions) {
  try {
    find_emc(threshold_probe(10), {.start = 0, .max_n = 10});
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("find_emc: start 0"), std::string::npos) << e.what();
  }
}

// Whether a fresh linear classifier with bias, trained by full-batch gradient descent, fits
// random binary labels of n standard normal points in d dimensions.
bool linear_fits(int64_t n, int64_t d, uint64_t seed) {
  manual_seed(seed * 1000003 + static_cast<uint64_t>(n));
  Tensor x = randn({n, d}, {.dtype = DType::F64});
  Tensor y = randint(0, 2, {n});
  auto model = nn::MLP({.in_features = d, .hidden = {}, .out_features = 2});
  model->to(DType::F64);
  return train_to_fit(*model, x, y, {.optimizer = "gd", .lr = 1.0, .epochs = 2000}).fit();
}

TEST(EmcSearch, RecoversCoversCapacityOfALinearClassifier) {
  omp_set_num_threads(1);  // tiny tensors: threads would only add fork/join cost
  constexpr int seeds = 6;
  for (int64_t d : {10, 20}) {
    double total = 0;
    for (int s = 0; s < seeds; ++s) {
      SearchResult r =
          find_emc([&](int64_t n) { return linear_fits(n, d, s); }, {.start = 8, .max_n = 400, .tolerance = 0.05});
      total += static_cast<double>(r.emc);
    }
    const double expected = 2.0 * (d + 1), measured = total / seeds;
    EXPECT_NEAR(measured / expected, 1.0, 0.3) << "d=" << d << ": measured EMC " << measured << ", Cover " << expected;
  }
}

}  // namespace
}  // namespace ember::emc
