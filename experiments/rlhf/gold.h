#pragma once
// The hidden "gold" reward that stands in for human judgement: a fixed, documented function of a
// continuation's bytes that a small model can learn only approximately (it needs a vocabulary).
// Every preference label is a noisy Bradley-Terry draw from it, so the true quality of any text
// (a policy's sample, an adversarial edit) can be measured exactly.
//
// gold(s) = 2.0 * words          fraction of letters that belong to vocabulary words
//         + 0.5 * sentence_end   1 when s holds '.', '?' or '!' right after a letter, else 0
//         - 1.5 * repetition     of the words of 3+ letters, the fraction that repeat an earlier one
//         - 2.0 * vowel_gap      |fraction of letters that are vowels (aeiou) - 0.38|
//         - 2.0 * junk           fraction of bytes that are not printable ASCII, space or newline
// Words are maximal runs of ASCII letters, compared in lower case. The vocabulary is every word
// seen at least `min_count` times in the training text.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>

namespace ember::rlhf {

struct GoldParts {
  double words = 0, sentence_end = 0, repetition = 0, vowel_gap = 0, junk = 0, total = 0;
};

class GoldReward {
 public:
  explicit GoldReward(std::unordered_set<std::string> vocabulary);
  // The words of `text` seen at least min_count times.
  static GoldReward from_text(const std::string& text, int min_count = 3);

  GoldParts parts(std::string_view s) const;
  double operator()(std::string_view s) const { return parts(s).total; }
  size_t vocabulary_size() const { return vocabulary_.size(); }

 private:
  std::unordered_set<std::string> vocabulary_;
};

// The simulated annotator: prefers a over b with probability sigmoid((gold_a - gold_b) / temperature)
// (Bradley-Terry), so near-ties are labelled at random, as human labels are noisy.
double preference_probability(double gold_a, double gold_b, double temperature);
// True when the annotator prefers a; one uniform draw from rng.
bool annotate(double gold_a, double gold_b, double temperature, std::mt19937_64& rng);

}  // namespace ember::rlhf
