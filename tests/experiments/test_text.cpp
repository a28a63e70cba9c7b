// The text corpora on small files the tests write (a Bible in the `bible -f` format, a Brown
// corpus in NLTK's layout): parsing, the fixed split, window sampling and labelled chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "experiments/common/text.h"
#include "tensor/error.h"
#include "tests/experiments/files.h"
#include "tests/testing.h"

namespace ember::experiments {
namespace {

using ::ember::testing::expect_error;

namespace fs = std::filesystem;

class Text : public test_files::ScratchDir {
 protected:
  // 66 books of `verses` verses each; verse v of book b reads "b<b> v<v> text", abbreviations
  // like the program's (some start with a digit).
  fs::path bible(int books = 66, int verses = 2) {
    std::string text;
    for (int b = 0; b < books; ++b)
      for (int v = 1; v <= verses; ++v)
        text += (b % 3 == 0 ? std::to_string(b % 2 + 1) + "Bk" : "Bk") + static_cast<char>('a' + b % 26) + "1:" +
                std::to_string(v) + " b" + std::to_string(b) + " v" + std::to_string(v) + " text\n";
    return write("kjv.txt", text);
  }
  // A Brown corpus of `per_genre` documents in each of three genres.
  fs::path brown(int per_genre) {
    std::string cats;
    const char* genres[] = {"news", "editorial", "humor"};
    for (int g = 0; g < 3; ++g)
      for (int d = 0; d < per_genre; ++d) {
        const std::string id = std::string("c") + static_cast<char>('a' + g) + std::to_string(10 + d);
        cats += id + " " + genres[g] + "\n";
        write(id, "\n\n\tThe/at " + std::string(genres[g]) + "/nn said/vbd ``/`` no/at ''/'' ./.\n" +
                      "It/pps (/( 1-1/2/cd )/) was/bedz ,/, so/rb ./.\n\n\n\tNew/jj paragraph/nn " + id + "/np ./.\n");
      }
    write("cats.txt", cats);
    return dir_;
  }
};


TEST_F(Text, BibleByBook) {
  TextCorpus c = load_bible_kjv(bible());
  ASSERT_EQ(c.documents.size(), 66u);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"old_testament", "new_testament"}));
  EXPECT_EQ(c.documents[0].name, "Genesis");
  EXPECT_EQ(c.documents[8].name, "1 Samuel");
  EXPECT_EQ(c.documents[65].name, "Revelation");
  EXPECT_EQ(c.documents[38].label, 0);  // Malachi
  EXPECT_EQ(c.documents[39].label, 1);  // Matthew
  EXPECT_EQ(c.documents[9].text, "b9 v1 text\nb9 v2 text\n");  // references stripped
}

TEST_F(Text, BibleErrors) {
  expect_error([&] { load_bible_kjv(dir_ / "kjv.txt"); }, "missing (experiments/fetch_data.sh");
  expect_error([&] { load_bible_kjv(write("kjv.txt", "")); }, "kjv.txt is empty");
  expect_error([&] { load_bible_kjv(bible(65)); }, "holds 65 books, not 66");
  expect_error([&] { load_bible_kjv(write("kjv.txt", "Ge1:1 fine\nno reference here\n")); }, "kjv.txt:2: expected");
  expect_error([&] { load_bible_kjv(write("kjv.txt", std::string("Ge1:1 a\0b\n", 10))); }, "NUL byte at offset 7");
  expect_error([&] { load_bible_kjv(write("kjv.txt", "Ge1:1 caf\xC3\n")); }, "malformed UTF-8 at offset 9");
}

TEST_F(Text, BrownPlainText) {
  TextCorpus c = load_brown(brown(2));
  EXPECT_EQ(c.labels, (std::vector<std::string>{"news", "editorial", "humor"}));
  ASSERT_EQ(c.documents.size(), 6u);
  EXPECT_EQ(c.documents[2].name, "cb10");
  EXPECT_EQ(c.documents[2].label, 1);
  EXPECT_EQ(c.documents[2].text,
            "The editorial said \"no\". It (1-1/2) was, so.\nNew paragraph cb10.\n");
}

TEST_F(Text, BrownErrors) {
  expect_error([&] { load_brown(dir_); }, "cats.txt is missing (experiments/fetch_data.sh");
  brown(1);
  fs::remove(dir_ / "cb10");
  expect_error([&] { load_brown(dir_); }, "cb10 is missing");
  write("cb10", "\n\n");
  expect_error([&] { load_brown(dir_); }, "cb10 holds no words");
  write("cats.txt", "ca10 news extra\n");
  expect_error([&] { load_brown(dir_); }, "cats.txt:1: expected");
}

TEST_F(Text, SplitIsFixedByDocumentWithinLabel) {
  TextCorpus c = load_brown(brown(12));
  const auto splits = document_splits(c);
  ASSERT_EQ(splits.size(), 36u);
  for (int g = 0; g < 3; ++g)
    for (int k = 0; k < 12; ++k) {
      const Split want = k % 10 == 1 ? Split::validation : k % 10 == 3 ? Split::test : Split::train;
      EXPECT_EQ(splits[g * 12 + k], want) << g << " " << k;
    }
  // The bytes of each split are its documents, each followed by a blank line, disjoint.
  ByteCorpus b = byte_corpus(c);
  EXPECT_EQ(b.validation, c.documents[1].text + "\n" + c.documents[11].text + "\n" + c.documents[13].text + "\n" +
                              c.documents[23].text + "\n" + c.documents[25].text + "\n" + c.documents[35].text + "\n");
  EXPECT_EQ(b.test, c.documents[3].text + "\n" + c.documents[15].text + "\n" + c.documents[27].text + "\n");
  size_t total = 0;
  for (const auto& d : c.documents) total += d.text.size() + 1;
  EXPECT_EQ(b.train.size() + b.validation.size() + b.test.size(), total);
  EXPECT_EQ(b.train.find("cb11"), std::string::npos);  // a validation document
  EXPECT_NE(b.validation.find("cb11"), std::string::npos);
}

TEST_F(Text, SampledWindowsAreContiguousAndRepeatable) {
  ByteCorpus b = byte_corpus(load_brown(brown(12)));
  const int64_t length = 16;
  Tensor w = sample_windows(b, Split::train, 64, length, 7, 3);
  ASSERT_EQ(w.shape(), (Shape{64, length + 1}));
  const int64_t* t = w.data<int64_t>();
  std::set<size_t> starts;
  for (int64_t i = 0; i < 64; ++i) {
    std::string window;
    for (int64_t j = 0; j <= length; ++j) window += static_cast<char>(t[i * (length + 1) + j]);
    const size_t at = b.train.find(window);
    ASSERT_NE(at, std::string::npos) << "window " << i << " is not a slice of the training bytes";
    starts.insert(at);
  }
  EXPECT_GT(starts.size(), 32u);  // spread over the split, not one place
  Tensor again = sample_windows(b, Split::train, 64, length, 7, 3);
  EXPECT_TRUE(std::equal(t, t + 64 * (length + 1), again.data<int64_t>()));
  Tensor next = sample_windows(b, Split::train, 64, length, 7, 4);
  EXPECT_FALSE(std::equal(t, t + 64 * (length + 1), next.data<int64_t>()));
  expect_error([&] { sample_windows(b, Split::test, 1, static_cast<int64_t>(b.test.size()), 0); },
               "longer than the test split of brown");
}

TEST_F(Text, EvaluationWindowsScoreEveryByteOnce) {
  ByteCorpus b = byte_corpus(load_brown(brown(12)));
  const int64_t length = 50, n = static_cast<int64_t>(b.validation.size());
  ASSERT_NE((n - 1) % length, 0);  // so the last window overlaps
  EvaluationWindows e = evaluation_windows(b, Split::validation, length);
  const int64_t windows = (n - 1 + length - 1) / length;
  ASSERT_EQ(e.tokens.shape(), (Shape{windows, length + 1}));
  ASSERT_EQ(e.scored.shape(), (Shape{windows, length}));
  const int64_t* t = e.tokens.data<int64_t>();
  const float* s = e.scored.data<float>();
  std::string predicted;  // the scored targets, in order, must be the split from its second byte
  for (int64_t k = 0; k < windows; ++k) {
    const int64_t start = std::min(k * length, n - 1 - length);
    for (int64_t j = 0; j <= length; ++j)
      ASSERT_EQ(t[k * (length + 1) + j], static_cast<unsigned char>(b.validation[start + j]));
    for (int64_t j = 0; j < length; ++j)
      if (s[k * length + j] == 1.0f) predicted += static_cast<char>(t[k * (length + 1) + j + 1]);
  }
  EXPECT_EQ(predicted, b.validation.substr(1));
}

TEST_F(Text, ChunksKeepLabelsAndStayInTheirSplit) {
  TextCorpus c = load_brown(brown(12));
  const auto splits = document_splits(c);
  const int64_t length = 8;
  std::set<int64_t> seen[3];
  for (Split s : {Split::train, Split::validation, Split::test}) {
    ByteChunks k = labelled_chunks(c, s, length);
    ASSERT_EQ(k.bytes.size(), static_cast<size_t>(k.size() * length));
    for (int64_t i = 0; i < k.size(); ++i) {
      const auto& doc = c.documents[k.document[i]];
      EXPECT_EQ(splits[k.document[i]], s);
      EXPECT_EQ(k.label[i], doc.label);
      EXPECT_NE(doc.text.find(std::string(k.bytes.begin() + i * length, k.bytes.begin() + (i + 1) * length)),
                std::string::npos);
      seen[static_cast<int>(s)].insert(k.document[i]);
    }
  }
  for (int a = 0; a < 3; ++a)
    for (int b = a + 1; b < 3; ++b)
      for (int64_t d : seen[a]) EXPECT_EQ(seen[b].count(d), 0u) << "document " << d << " in two splits";
  EXPECT_EQ(seen[1].size(), 6u);
  // Document 0's chunks are its text from the start, cut every 8 bytes, at most 2 when capped.
  ByteChunks capped = labelled_chunks(c, Split::train, length, 2);
  ASSERT_EQ(capped.document[0], 0);
  ASSERT_EQ(capped.document[2], 2);
  EXPECT_EQ(std::string(capped.bytes.begin(), capped.bytes.begin() + 16), c.documents[0].text.substr(0, 16));
  auto [tokens, labels] = capped.to_tensors();
  EXPECT_EQ(tokens.shape(), (Shape{capped.size(), length}));
  EXPECT_EQ(tokens.data<int64_t>()[1], 'h');
  EXPECT_EQ(labels.data<int64_t>()[capped.size() - 1], 2);
  expect_error([&] { labelled_chunks(c, Split::test, 100000); }, "no document of the test split of brown holds");
}

}  // namespace
}  // namespace ember::experiments
