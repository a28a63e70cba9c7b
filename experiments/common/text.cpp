// The fixed split of a text corpus, its bytes per split, and the samples drawn from them.
#include <algorithm>

#include "experiments/common/text.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::experiments {

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::validation: return "validation";
    case Split::test: return "test";
  }
  return "?";
}

std::vector<Split> document_splits(const TextCorpus& corpus) {
  std::vector<int64_t> seen(corpus.labels.size(), 0);  // documents of each label so far
  std::vector<Split> splits;
  for (const auto& doc : corpus.documents) {
    check(doc.label >= 0 && doc.label < static_cast<int64_t>(corpus.labels.size()), "document_splits: ", corpus.name,
          ": document ", doc.name, " has label ", doc.label, " of ", corpus.labels.size());
    const int64_t k = seen[doc.label]++ % 10;
    splits.push_back(k == 1 ? Split::validation : k == 3 ? Split::test : Split::train);
  }
  return splits;
}

const std::string& ByteCorpus::bytes(Split s) const {
  return s == Split::train ? train : s == Split::validation ? validation : test;
}

ByteCorpus byte_corpus(const TextCorpus& corpus) {
  ByteCorpus out{.name = corpus.name, .train = {}, .validation = {}, .test = {}};
  const auto splits = document_splits(corpus);
  for (size_t i = 0; i < splits.size(); ++i) {
    auto& bytes = splits[i] == Split::train ? out.train : splits[i] == Split::validation ? out.validation : out.test;
    bytes += corpus.documents[i].text;
    bytes += '\n';
  }
  return out;
}

namespace {

// The split's bytes, checked to hold a window of length + 1 bytes.
const std::string& window_source(const ByteCorpus& corpus, Split split, int64_t length, const char* who) {
  const std::string& bytes = corpus.bytes(split);
  check(length > 0, who, ": length ", length, " must be positive");
  check(length + 1 <= static_cast<int64_t>(bytes.size()), who, ": a window of ", length + 1,
        " bytes is longer than the ", split_name(split), " split of ", corpus.name, " (", bytes.size(), " bytes)");
  return bytes;
}

void copy_window(const std::string& bytes, int64_t start, int64_t count, int64_t* out) {
  for (int64_t j = 0; j < count; ++j) out[j] = static_cast<unsigned char>(bytes[start + j]);
}

}  // namespace

Tensor sample_windows(const ByteCorpus& corpus, Split split, int64_t batch, int64_t length, uint64_t seed,
                      uint64_t step) {
  const std::string& bytes = window_source(corpus, split, length, "sample_windows");
  check(batch > 0, "sample_windows: batch ", batch, " must be positive");
  const auto starts = static_cast<uint64_t>(bytes.size()) - static_cast<uint64_t>(length);  // choices of start
  std::vector<int64_t> tokens(batch * (length + 1));
  for (int64_t i = 0; i < batch; ++i) {
    // 64 random bits from Philox: modulo bias is below starts / 2^64, nothing for a corpus.
    const Philox4 r = philox4x32(static_cast<uint64_t>(i), step, seed);
    const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
    copy_window(bytes, static_cast<int64_t>(bits % starts), length + 1, tokens.data() + i * (length + 1));
  }
  return from_vector(tokens, {batch, length + 1});
}

EvaluationWindows evaluation_windows(const ByteCorpus& corpus, Split split, int64_t length) {
  const std::string& bytes = window_source(corpus, split, length, "evaluation_windows");
  const int64_t targets = static_cast<int64_t>(bytes.size()) - 1, n = (targets + length - 1) / length;
  std::vector<int64_t> tokens(n * (length + 1));
  std::vector<float> scored(n * length, 1.0f);
  for (int64_t k = 0; k < n; ++k) {
    // The last window ends at the split's end; its targets before k * length were scored already.
    const int64_t start = std::min(k * length, targets - length);
    copy_window(bytes, start, length + 1, tokens.data() + k * (length + 1));
    std::fill_n(scored.begin() + k * length, k * length - start, 0.0f);
  }
  return {.tokens = from_vector(tokens, {n, length + 1}), .scored = from_vector(scored, {n, length})};
}

std::pair<Tensor, Tensor> ByteChunks::to_tensors() const {
  std::vector<int64_t> tokens(bytes.begin(), bytes.end());
  return {from_vector(tokens, {size(), length}), from_vector(label, {size()})};
}

ByteChunks labelled_chunks(const TextCorpus& corpus, Split split, int64_t length, int64_t max_per_document) {
  check(length > 0, "labelled_chunks: length ", length, " must be positive");
  check(max_per_document >= 0, "labelled_chunks: max_per_document ", max_per_document, " must be >= 0");
  ByteChunks out{.length = length, .labels = corpus.labels, .bytes = {}, .label = {}, .document = {}};
  const auto splits = document_splits(corpus);
  for (size_t i = 0; i < splits.size(); ++i) {
    if (splits[i] != split) continue;
    const std::string& text = corpus.documents[i].text;
    int64_t count = static_cast<int64_t>(text.size()) / length;
    if (max_per_document > 0) count = std::min(count, max_per_document);
    for (int64_t c = 0; c < count; ++c) {
      out.bytes.insert(out.bytes.end(), text.begin() + c * length, text.begin() + (c + 1) * length);
      out.label.push_back(corpus.documents[i].label);
      out.document.push_back(static_cast<int64_t>(i));
    }
  }
  check(out.size() > 0, "labelled_chunks: no document of the ", split_name(split), " split of ", corpus.name,
        " holds ", length, " bytes");
  return out;
}

}  // namespace ember::experiments
