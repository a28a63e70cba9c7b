#include "experiments/hyena/recall_data.h"

#include <set>

#include "tensor/error.h"

namespace ember::hyena {
namespace {

// splitmix64: a small, fully specified generator, so the data are the same on every platform.
uint64_t next(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
int64_t below(uint64_t& s, int64_t n) { return static_cast<int64_t>(next(s) % static_cast<uint64_t>(n)); }

}  // namespace

void check_task(const RecallTask& task) {
  check(task.vocab_size >= 4, "recall task: vocab_size ", task.vocab_size,
        " must be at least 4 (a key, a value, the copy prefix and the no-op)");
  check(task.input_seq_len >= 2, "recall task: input_seq_len ", task.input_seq_len, " must hold one key-value pair (>= 2)");
}

std::vector<int64_t> recall_example(const RecallTask& task, uint64_t& rng) {
  check_task(task);
  const int64_t keys = task.num_keys(), values = task.num_values();
  std::vector<int64_t> map(static_cast<size_t>(keys));
  for (auto& v : map) v = keys + below(rng, values);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(task.example_length()));
  std::vector<int64_t> present;
  std::vector<bool> seen(static_cast<size_t>(keys), false);
  for (int64_t i = 0; i < task.input_seq_len / 2; ++i) {
    const int64_t k = below(rng, keys);
    out.push_back(k);
    out.push_back(map[static_cast<size_t>(k)]);
    if (!seen[static_cast<size_t>(k)]) present.push_back(k), seen[static_cast<size_t>(k)] = true;
  }
  // allow_dot = false: the query is a key of the listed pairs, so its value is always present.
  const int64_t query = present[static_cast<size_t>(below(rng, static_cast<int64_t>(present.size())))];
  out.push_back(task.copy_prefix());
  out.push_back(query);
  out.push_back(map[static_cast<size_t>(query)]);
  return out;
}

RecallSplit recall_split(const RecallTask& task, int64_t n_train, int64_t n_test, uint64_t seed) {
  check_task(task);
  check(n_train >= 1 && n_test >= 1, "recall task: need at least one training and one test example, got ", n_train,
        " and ", n_test);
  RecallSplit split;
  split.length = task.example_length();
  uint64_t rng = seed * 0x2545F4914F6CDD1DULL + 17;
  std::set<std::vector<int64_t>> train_set, test_set;
  // Each attempt adds at most one example; a task with too few distinct examples stops here.
  const int64_t attempts = 50 * (n_train + n_test) + 1000;
  for (int64_t a = 0; a < attempts && static_cast<int64_t>(test_set.size()) < n_test; ++a) {
    std::vector<int64_t> e = recall_example(task, rng);
    if (static_cast<int64_t>(train_set.size()) < n_train) {
      if (train_set.insert(e).second) split.train.insert(split.train.end(), e.begin(), e.end());
    } else if (!train_set.count(e) && test_set.insert(e).second) {
      split.test.insert(split.test.end(), e.begin(), e.end());
    }
  }
  check(static_cast<int64_t>(test_set.size()) == n_test, "recall task: vocabulary ", task.vocab_size, " and length ",
        task.input_seq_len, " have too few distinct examples for ", n_train, " training and ", n_test, " test examples");
  return split;
}

int64_t recall_answer(const RecallTask& task, const std::vector<int64_t>& example) {
  check(static_cast<int64_t>(example.size()) == task.example_length(), "recall_answer: example of ", example.size(),
        " tokens, expected ", task.example_length());
  const int64_t query = example[example.size() - 2];
  for (size_t i = 0; i + 1 < example.size() - 3; i += 2)
    if (example[i] == query) return example[i + 1];
  return task.noop();
}

}  // namespace ember::hyena
