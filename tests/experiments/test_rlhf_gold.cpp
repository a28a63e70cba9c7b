// rlhf's gold reward on fixed strings, the Bradley-Terry annotator, and bad input (missing or
// corrupt corpus, empty prompts).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "experiments/rlhf/corpus.h"
#include "experiments/rlhf/gold.h"
#include "experiments/rlhf/preferences.h"
#include "tensor/error.h"

using namespace ember;
using namespace ember::rlhf;
namespace fs = std::filesystem;

namespace {
GoldReward toy_gold() { return GoldReward({"the", "lord", "said"}); }
}  // namespace

TEST(RlhfGold, FixedStrings) {
  const auto gold = toy_gold();
  // All 11 letters known, a sentence end, no repeats, vowels 4/11.
  const auto p = gold.parts("the lord said.");
  EXPECT_DOUBLE_EQ(p.words, 1);
  EXPECT_DOUBLE_EQ(p.sentence_end, 1);
  EXPECT_DOUBLE_EQ(p.repetition, 0);
  EXPECT_NEAR(p.vowel_gap, 0.38 - 4.0 / 11, 1e-12);
  EXPECT_NEAR(p.total, 2.5 - 2 * (0.38 - 4.0 / 11), 1e-12);
  // Unknown two-letter words without vowels: only the vowel gap.
  EXPECT_NEAR(gold("xq xq xq"), -0.76, 1e-12);
  // Two of three long words repeat an earlier one; vowels 3/9.
  EXPECT_NEAR(gold("the the the"), 2 - 1.5 * 2.0 / 3 - 2 * (0.38 - 1.0 / 3), 1e-12);
  // A control byte is junk (1 of 4 bytes); "." after a space is no sentence end.
  EXPECT_NEAR(gold(std::string("the\x01")), 2 - 2 * (0.38 - 1.0 / 3) - 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(gold(" ."), 0);
  EXPECT_DOUBLE_EQ(gold(""), 0);
  // Case does not matter.
  EXPECT_DOUBLE_EQ(gold("THE Lord"), gold("the lord"));
}

TEST(RlhfGold, VocabularyFromText) {
  const auto gold = GoldReward::from_text("and and and the the lord", 2);
  EXPECT_EQ(gold.vocabulary_size(), 2u);  // "and", "the"
  EXPECT_DOUBLE_EQ(gold.parts("and lord").words, 3.0 / 7);
  EXPECT_THROW(GoldReward::from_text("a b c", 2), Error);
}

TEST(RlhfGold, Annotator) {
  EXPECT_NEAR(preference_probability(1, 0, 0.5), 1 / (1 + std::exp(-2.0)), 1e-12);
  EXPECT_DOUBLE_EQ(preference_probability(0.3, 0.3, 1), 0.5);
  EXPECT_THROW(preference_probability(1, 0, 0), Error);
  std::mt19937_64 rng(1);
  int a = 0;
  for (int i = 0; i < 4000; ++i) a += annotate(1, 0, 0.5, rng);
  EXPECT_NEAR(a / 4000.0, 0.8808, 0.02);
}

class RlhfCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ember_rlhf_" + std::to_string(::getpid()));
    fs::create_directories(dir / "bible");
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const std::string& text) { std::ofstream(dir / "bible" / "kjv.txt", std::ios::binary) << text; }
  fs::path dir;
};

TEST_F(RlhfCorpus, MissingCorruptAndShort) {
  fs::remove_all(dir / "bible");
  try {
    load_corpus(dir);
    FAIL() << "a missing corpus must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  fs::create_directories(dir / "bible");
  write(std::string("Ge1:1 In the beginning\nGe1:2 And\0the earth\n", 42));
  try {
    load_corpus(dir);
    FAIL() << "a NUL byte must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NUL byte"), std::string::npos);
  }
  write("Ge1:1 In the beginning\n");
  EXPECT_THROW(load_corpus(dir), Error);
}

TEST(RlhfPrompts, StartAtWords) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "And God saw the light, that it was good.\n";
  const Corpus corpus{text, text};
  const auto tokens = prompts(corpus, 5, 8, 3).to_vector<int64_t>();
  ASSERT_EQ(tokens.size(), 40u);
  for (int p = 0; p < 5; ++p) EXPECT_NE(tokens[p * 8], ' ');
  EXPECT_EQ(prompts(corpus, 5, 8, 3).to_vector<int64_t>(), tokens);  // same seed, same prompts
  EXPECT_THROW(prompts(corpus, 0, 8, 3), Error);  // no prompts
  EXPECT_THROW(prompts(corpus, 5, 0, 3), Error);  // empty prompts
  EXPECT_THROW(encode({}), Error);
  EXPECT_THROW(encode({"ab", "abc"}), Error);
}
