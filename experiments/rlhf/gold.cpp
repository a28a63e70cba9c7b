#include "experiments/rlhf/gold.h"

#include <cctype>
#include <cmath>
#include <map>
#include <vector>

#include "tensor/error.h"

namespace ember::rlhf {

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> words;
  std::string w;
  for (char c : s) {
    if (is_letter(c)) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      words.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

}  // namespace

GoldReward::GoldReward(std::unordered_set<std::string> vocabulary) : vocabulary_(std::move(vocabulary)) {
  check(!vocabulary_.empty(), "rlhf: the gold reward needs a non-empty vocabulary");
}

GoldReward GoldReward::from_text(const std::string& text, int min_count) {
  std::map<std::string, int> counts;
  for (auto& w : words_of(text)) ++counts[w];
  std::unordered_set<std::string> vocabulary;
  for (const auto& [w, n] : counts)
    if (n >= min_count) vocabulary.insert(w);
  return GoldReward(std::move(vocabulary));
}

GoldParts GoldReward::parts(std::string_view s) const {
  GoldParts p;
  if (s.empty()) return p;
  int64_t letters = 0, vowels = 0, junk = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_letter(c)) {
      ++letters;
      const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      vowels += (l == 'a' || l == 'e' || l == 'i' || l == 'o' || l == 'u');
    }
    const auto u = static_cast<unsigned char>(c);
    if (!(u == '\n' || (u >= 32 && u < 127))) ++junk;
    if ((c == '.' || c == '?' || c == '!') && i > 0 && is_letter(s[i - 1])) p.sentence_end = 1;
  }
  const auto words = words_of(s);
  int64_t known_letters = 0, long_words = 0, repeats = 0;
  std::unordered_set<std::string> seen;
  for (const auto& w : words) {
    if (vocabulary_.count(w)) known_letters += static_cast<int64_t>(w.size());
    if (w.size() >= 3) {
      ++long_words;
      if (!seen.insert(w).second) ++repeats;
    }
  }
  if (letters > 0) {
    p.words = static_cast<double>(known_letters) / static_cast<double>(letters);
    p.vowel_gap = std::abs(static_cast<double>(vowels) / static_cast<double>(letters) - 0.38);
  }
  if (long_words > 0) p.repetition = static_cast<double>(repeats) / static_cast<double>(long_words);
  p.junk = static_cast<double>(junk) / static_cast<double>(s.size());
  p.total = 2.0 * p.words + 0.5 * p.sentence_end - 1.5 * p.repetition - 2.0 * p.vowel_gap - 2.0 * p.junk;
  return p;
}

double preference_probability(double gold_a, double gold_b, double temperature) {
  check(temperature > 0, "rlhf: the annotator's temperature must be positive, got ", temperature);
  return 1.0 / (1.0 + std::exp(-(gold_a - gold_b) / temperature));
}

bool annotate(double gold_a, double gold_b, double temperature, std::mt19937_64& rng) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < preference_probability(gold_a, gold_b, temperature);
}

}  // namespace ember::rlhf
