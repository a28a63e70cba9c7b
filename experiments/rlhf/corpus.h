#pragma once
// The English text the policies are pre-trained on and prompted with: the King James Bible
// (Debian's bible-kjv-text, put under data/bible/kjv.txt by experiments/fetch_data.sh), split
// into training and validation bytes by experiments/common/text.h's fixed split by book.
#include <cstdint>
#include <filesystem>
#include <string>

#include "tensor/tensor.h"

namespace ember::rlhf {

struct Corpus {
  std::string train, validation;
};

// Reads <data>/bible/kjv.txt. Throws ember::Error naming the file when it is missing, empty,
// corrupt (a NUL byte, malformed UTF-8, not the 66 books) or too short to cut prompts from.
Corpus load_corpus(const std::filesystem::path& data);

// `batch` windows of length + 1 consecutive training bytes, i64 [batch, length + 1], starts
// drawn from (seed, step): the pre-training batches.
Tensor training_windows(const Corpus& corpus, int64_t batch, int64_t length, uint64_t seed, uint64_t step);

// `count` prompts of `length` validation bytes, each starting right after a space (so a prompt
// begins with a word), drawn from `seed`: i64 [count, length].
Tensor prompts(const Corpus& corpus, int64_t count, int64_t length, uint64_t seed);

}  // namespace ember::rlhf
