#include "experiments/rlhf/corpus.h"

#include <algorithm>
#include <random>
#include <vector>

#include "experiments/common/text.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::rlhf {

Corpus load_corpus(const std::filesystem::path& data) {
  // text.h checks the file (missing, NUL bytes, malformed UTF-8, the 66 books) and splits by book.
  const auto bytes = experiments::byte_corpus(experiments::load_bible_kjv(data / "bible" / "kjv.txt"));
  Corpus corpus{bytes.train, bytes.validation};
  check(corpus.train.size() > 4096 && corpus.validation.size() > 1024, "rlhf: the corpus in ", data.string(),
        " is too short (", corpus.train.size() + corpus.validation.size(), " bytes) to train on and prompt from");
  return corpus;
}

Tensor training_windows(const Corpus& corpus, int64_t batch, int64_t length, uint64_t seed, uint64_t step) {
  check(static_cast<int64_t>(corpus.train.size()) > length + 1, "rlhf: training text shorter than a window");
  std::mt19937_64 rng(seed * 1000003ULL + step);
  std::uniform_int_distribution<size_t> start(0, corpus.train.size() - static_cast<size_t>(length) - 2);
  std::vector<int64_t> tokens;
  tokens.reserve(static_cast<size_t>(batch * (length + 1)));
  for (int64_t b = 0; b < batch; ++b) {
    const size_t s = start(rng);
    for (int64_t i = 0; i <= length; ++i) tokens.push_back(static_cast<uint8_t>(corpus.train[s + i]));
  }
  return from_vector(tokens, {batch, length + 1});
}

Tensor prompts(const Corpus& corpus, int64_t count, int64_t length, uint64_t seed) {
  check(count >= 1 && length >= 1, "rlhf: prompts need count >= 1 and length >= 1, got ", count, " and ", length);
  const std::string& text = corpus.validation;
  check(static_cast<int64_t>(text.size()) > 4 * length, "rlhf: validation text too short for prompts of ", length,
        " bytes");
  std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ULL);
  std::uniform_int_distribution<size_t> start(0, text.size() - static_cast<size_t>(2 * length) - 1);
  // A start runs on to the next space; verses are short, so one comes well before the window's end.
  std::vector<int64_t> tokens;
  for (int64_t p = 0; p < count; ++p) {
    size_t s = start(rng);
    while (s + length < text.size() && text[s] != ' ') ++s;  // start at a word
    ++s;
    s = std::min(s, text.size() - static_cast<size_t>(length));
    for (int64_t i = 0; i < length; ++i) tokens.push_back(static_cast<uint8_t>(text[s + i]));
  }
  return from_vector(tokens, {count, length});
}

}  // namespace ember::rlhf
