// The hyena experiment's associative recall generator (after safari's generate_assoc_recall).
#include <gtest/gtest.h>

#include <set>

#include "experiments/hyena/recall_data.h"
#include "tensor/error.h"

using namespace ember::hyena;

TEST(HyenaRecall, TokenLayoutFollowsTheReference) {
  const RecallTask task{.vocab_size = 10, .input_seq_len = 8};
  EXPECT_EQ(task.num_keys(), 4);
  EXPECT_EQ(task.num_values(), 4);
  EXPECT_EQ(task.copy_prefix(), 8);
  EXPECT_EQ(task.noop(), 9);
  EXPECT_EQ(task.example_length(), 11);  // 4 pairs, prefix, key, value
  EXPECT_EQ(task.model_length(), 10);
  EXPECT_EQ((RecallTask{.vocab_size = 10, .input_seq_len = 9}).example_length(), 11);  // odd lengths round down
}

TEST(HyenaRecall, AnswersOfHandMadeSequences) {
  const RecallTask task{.vocab_size = 10, .input_seq_len = 6};
  // keys 0..3, values 4..7, prefix 8: pairs (2,5) (0,7) (3,4), query 0 -> 7
  EXPECT_EQ(recall_answer(task, {2, 5, 0, 7, 3, 4, 8, 0, 7}), 7);
  EXPECT_EQ(recall_answer(task, {2, 5, 0, 7, 3, 4, 8, 3, 4}), 4);
  EXPECT_EQ(recall_answer(task, {2, 5, 0, 7, 3, 4, 8, 1, 4}), task.noop());  // key 1 absent
  EXPECT_THROW(recall_answer(task, {2, 5, 8, 2, 5}), ember::Error);
}

TEST(HyenaRecall, GeneratedExamplesAreConsistent) {
  const RecallTask task{.vocab_size = 30, .input_seq_len = 40};
  uint64_t rng = 7;
  for (int i = 0; i < 200; ++i) {
    const std::vector<int64_t> e = recall_example(task, rng);
    ASSERT_EQ(static_cast<int64_t>(e.size()), task.example_length());
    // keys at even positions, values at odd ones, each key always with the same value
    std::vector<int64_t> value_of(static_cast<size_t>(task.num_keys()), -1);
    for (size_t p = 0; p + 3 < e.size(); p += 2) {
      ASSERT_GE(e[p], 0);
      ASSERT_LT(e[p], task.num_keys());
      ASSERT_GE(e[p + 1], task.num_keys());
      ASSERT_LT(e[p + 1], task.copy_prefix());
      auto& v = value_of[static_cast<size_t>(e[p])];
      ASSERT_TRUE(v == -1 || v == e[p + 1]);
      v = e[p + 1];
    }
    EXPECT_EQ(e[e.size() - 3], task.copy_prefix());
    // the query's value is always present and is the last token
    EXPECT_NE(recall_answer(task, e), task.noop());
    EXPECT_EQ(recall_answer(task, e), e.back());
  }
}

TEST(HyenaRecall, SplitIsDistinctDisjointAndDeterministic) {
  const RecallTask task{.vocab_size = 10, .input_seq_len = 8};
  const RecallSplit a = recall_split(task, 300, 100, 3), b = recall_split(task, 300, 100, 3);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, recall_split(task, 300, 100, 4).train);
  ASSERT_EQ(a.n_train(), 300);
  ASSERT_EQ(a.n_test(), 100);
  std::set<std::vector<int64_t>> train, test;
  for (int64_t i = 0; i < a.n_train(); ++i)
    train.insert(std::vector<int64_t>(a.train.begin() + i * a.length, a.train.begin() + (i + 1) * a.length));
  for (int64_t i = 0; i < a.n_test(); ++i) {
    std::vector<int64_t> e(a.test.begin() + i * a.length, a.test.begin() + (i + 1) * a.length);
    EXPECT_EQ(train.count(e), 0u);
    test.insert(e);
  }
  EXPECT_EQ(train.size(), 300u);
  EXPECT_EQ(test.size(), 100u);
}

TEST(HyenaRecall, BadTasksAreRefused) {
  EXPECT_THROW(check_task({.vocab_size = 3, .input_seq_len = 8}), ember::Error);
  EXPECT_THROW(check_task({.vocab_size = 10, .input_seq_len = 1}), ember::Error);
  // vocabulary 4, one pair: 1 key x 1 value -> a single distinct example
  EXPECT_THROW(recall_split({.vocab_size = 4, .input_seq_len = 2}, 2, 2, 0), ember::Error);
}
