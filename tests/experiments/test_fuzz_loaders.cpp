// A deterministic fuzzer for every loader of outside files: the safetensors reader, checkpoints
// (model + optimizer state), MNIST JSON digits, MNIST IDX and scikit-learn CSVs. Each round
// takes a valid seed (made here, plus the files under tests/fuzz/corpus/<loader>/, which also
// keep every input that once crashed), applies a few random mutations (bit flips, interesting
// numbers and brackets spliced in, chunks cut, duplicated or repeated) and loads the result:
// it must load or throw ember::Error, nothing else. Under `make sanitize` (ASan + UBSan with
// float-cast-overflow) any memory error or undefined behaviour fails the run. The rounds are a
// fixed number, not a time: EMBER_FUZZ_ROUNDS scales them (default 1) for longer local runs.
// A failure prints the round and the mutated input's path; copy it into the corpus.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "autograd/ops.h"
#include "experiments/common/loaders.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "tensor/error.h"

// A mutated header may ask for a large allocation: ASan must return it as bad_alloc (which the
// loader turns into ember::Error) instead of aborting.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace ember::experiments {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus";

// splitmix64: a fixed sequence of mutations on every machine.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

const std::vector<std::string> kTokens = {
    "0", "-1", "1", "255", "256", "65536", "1e39", "-1e39", "1e308", "1e400", "nan", "inf", "-inf", "-0",
    "4294967296", "4611686018427387904", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "[", "]", "{", "}", "[[[[[[[[", "]]]]", "\"", ",", ":", "null", "true", "\"x\"",
    "{\"a\":1}", "[0,0]", "\\u0000", "\xff\xfe", std::string(1, '\0'), "\"__metadata__\"", "\"dtype\"", "\"shape\"",
    "\"data_offsets\"", "\"F32\"", "\"BOOL\"", "\"I64\"", "0.5", "\r\n", "\n", "e", ".", "+"};

std::string mutate(std::string s, Rng& rng) {
  const int n = 1 + static_cast<int>(rng.below(4));
  for (int m = 0; m < n; ++m) {
    const size_t pos = rng.below(s.size() + 1);
    switch (rng.below(8)) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
        break;
      case 1:  // an interesting byte
        if (!s.empty()) s[rng.below(s.size())] = "\x00\xff\x7f\x80 [{\"0-9,"[rng.below(13)];
        break;
      case 2:  // splice a token in
        s.insert(pos, kTokens[rng.below(kTokens.size())]);
        break;
      case 3:  // replace a run of digits (or anything) by a token
      {
        const size_t len = rng.below(std::min<size_t>(s.size() - std::min(pos, s.size()), 24) + 1);
        s.replace(std::min(pos, s.size()), len, kTokens[rng.below(kTokens.size())]);
        break;
      }
      case 4:  // cut a chunk
        s.erase(std::min(pos, s.size()), rng.below(64));
        break;
      case 5:  // duplicate a chunk
      {
        const size_t start = rng.below(s.size() + 1), len = rng.below(64);
        s.insert(pos, s.substr(start, len));
        break;
      }
      case 6:  // repeat a token many times (deep nesting, long arrays)
        for (size_t k = 0, r = 1 + rng.below(3000); k < r; ++k) s.insert(pos, kTokens[20 + rng.below(4)]);
        break;
      default:  // truncate
        s.resize(rng.below(s.size() + 1));
        break;
    }
  }
  return s;
}

// The 8-byte header length of a safetensors file set to match its (mutated) header, so that
// mutations reach the JSON instead of stopping at the length check; a JSON end is searched.
std::string fix_header_length(std::string s, Rng& rng) {
  if (s.size() < 8 || rng.below(3) == 0) return s;
  size_t end = s.rfind('}');
  if (end == std::string::npos || end < 8) return s;
  const uint64_t length = end + 1 - 8;
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  return s;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

std::vector<std::string> corpus(const std::string& loader, std::vector<std::string> seeds) {
  if (fs::is_directory(kCorpus / loader))
    for (const auto& entry : fs::directory_iterator(kCorpus / loader)) seeds.push_back(read_all(entry.path()));
  return seeds;
}

int rounds(int base) {
  const char* scale = std::getenv("EMBER_FUZZ_ROUNDS");
  return base * (scale ? std::max(1, std::atoi(scale)) : 1);
}

class Fuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember-fuzz-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Loads `n` mutants of the seeds with `load`; anything but success or ember::Error fails.
  void fuzz(const std::vector<std::string>& seeds, int n, uint64_t seed, const fs::path& file,
            const std::function<void()>& load, bool safetensors = false) {
    ASSERT_FALSE(seeds.empty());
    Rng rng{seed};
    int errors = 0;
    for (int round = 0; round < n; ++round) {
      std::string input = mutate(seeds[rng.below(seeds.size())], rng);
      if (safetensors) input = fix_header_length(std::move(input), rng);
      write_all(file, input);
      try {
        load();
      } catch (const Error&) {
        ++errors;
      } catch (const std::exception& e) {
        FAIL() << "round " << round << ": " << file << ": a non-ember exception: " << e.what();
      }
    }
    EXPECT_GT(errors, 0);  // the mutations reach the checks
  }
  fs::path dir_;
};

TEST_F(Fuzz, Safetensors) {
  const fs::path p = dir_ / "f.safetensors";
  nn::save_safetensors(p.string(),
                       {{"w", randn({2, 3})}, {"d", randn({2}, {.dtype = DType::F64})}, {"h", randn({3}, {.dtype = DType::BF16})},
                        {"i", arange(0, 3, 1, {.dtype = DType::I64})}, {"b", gt(randn({4}), zeros({4}))}, {"e", zeros({0, 2})}},
                       {{"note", "seed"}});
  const std::vector<std::string> seeds = corpus("safetensors", {read_all(p)});
  fuzz(seeds, rounds(3000), 1, p, [&] { nn::load_safetensors(p.string()); }, true);
}

TEST_F(Fuzz, Checkpoint) {
  manual_seed(0);
  auto model = nn::MLP({.in_features = 3, .hidden = {4}, .out_features = 2});
  Adam opt(model->parameters());
  backward(sum(model->forward(randn({5, 3}))));
  opt.step();
  const fs::path p = dir_ / "c.safetensors";
  nn::save_checkpoint(p.string(), *model, &opt, 1);
  const std::vector<std::string> seeds = corpus("checkpoint", {read_all(p)});
  fuzz(seeds, rounds(1500), 2, p, [&] { nn::load_checkpoint(p.string(), *model, &opt); }, true);
}

TEST_F(Fuzz, TabularCsv) {
  const fs::path p = dir_ / "t.csv";
  const std::vector<std::string> seeds =
      corpus("csv", {"3,2,class_0,class_1,class_2\n1.5,2,0\n-3,4e1,2\r\n5,6,1\n", "0,1,2,3,4\n5,6,7,8,9\n"});
  fuzz(seeds, rounds(3000), 3, p, [&] { load_tabular_csv(p); });
}

TEST_F(Fuzz, MnistJson) {
  std::string image;
  for (int i = 0; i < 784; ++i) image += (i ? "," : "") + std::string(i % 7 ? "0" : "0.5");
  const std::string one = "{\"data\":[" + image + "]}";
  for (int digit = 0; digit < 10; ++digit) write_all(dir_ / (std::to_string(digit) + ".json"), one);
  const std::vector<std::string> seeds = corpus("mnist_json", {one, "{\"data\":[" + image + "," + image + "]}"});
  fuzz(seeds, rounds(400), 4, dir_ / "7.json", [&] { load_mnist_digits(dir_); });
}

TEST_F(Fuzz, MnistIdx) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const std::string images = be32(0x803) + be32(2) + be32(2) + be32(3) + std::string(12, '\x10');
  const std::string labels = be32(0x801) + be32(2) + std::string("\x01\x02", 2);
  write_all(dir_ / "labels", labels);
  const std::vector<std::string> seeds = corpus("idx", {images});
  fuzz(seeds, rounds(1500), 5, dir_ / "images", [&] { load_mnist_idx(dir_ / "images", dir_ / "labels"); });
}

// Every file of the corpus loads or throws ember::Error, unmutated (the regression inputs).
TEST_F(Fuzz, CorpusFilesLoadOrThrow) {
  std::string image;
  for (int i = 0; i < 784; ++i) image += (i ? ",0" : "0");
  for (int digit = 0; digit < 10; ++digit) write_all(dir_ / (std::to_string(digit) + ".json"), "{\"data\":[" + image + "]}");
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  write_all(dir_ / "labels", be32(0x801) + be32(2) + std::string("\x01\x02", 2));
  const std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> loaders = {
      {"safetensors", [](const fs::path& p) { nn::load_safetensors(p.string()); }},
      {"checkpoint", [](const fs::path& p) { nn::load_safetensors(p.string()); }},
      {"csv", [](const fs::path& p) { load_tabular_csv(p); }},
      {"mnist_json", [&](const fs::path&) { load_mnist_digits(dir_); }},
      {"idx", [&](const fs::path& p) { load_mnist_idx(p, dir_ / "labels"); }},
  };
  int files = 0;
  for (const auto& [loader, load] : loaders) {
    for (const std::string& bytes : corpus(loader, {})) {
      const fs::path p = loader == "mnist_json" ? dir_ / "3.json" : dir_ / ("r." + loader);
      write_all(p, bytes);
      ++files;
      try {
        load(p);
      } catch (const Error&) {
      }
    }
  }
  EXPECT_GE(files, 14);
}

}  // namespace
}  // namespace ember::experiments
