#pragma once
// The recall study: 2-layer sequence models (mixers.h) trained on the associative recall task
// (recall_data.h) as in the reference: AdamW, lr 5e-4, weight decay 0.1, linear warm-up and
// decay, next-token loss on every position; scored by accuracy on the last token of the held-out
// test examples. One job per (length, vocabulary, model, seed).
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/hyena/recall_data.h"
#include "experiments/hyena/train.h"

namespace ember::hyena {

struct RecallScale {
  std::vector<RecallTask> tasks;
  std::vector<std::string> kinds = {"hyena", "attention", "longconv", "hyena-explicit"};
  int seeds = 5;
  int64_t d_model = 64, n_layers = 2, n_train = 2000, n_test = 500;
  // The reference's recall configuration (hyena-131k-30vs.yaml): 5 positional features and
  // Sin frequency 10, sharper filters than the operator's defaults.
  nn::HyenaOptions hyena = {.emb_dim = 5, .w = 10};
  TrainOptions train;
  // Attention beyond this length is recorded as not run (its time grows with T^2); the
  // paper's attention ran out of memory at 30K and beyond.
  int64_t attention_max_length = 1 << 30;
};

std::vector<experiments::Job> recall_jobs(const experiments::RunOptions& options, const RecallScale& scale);

// Test accuracy on the last token, over batches of `batch` examples.
double recall_accuracy(nn::CausalLM& model, const RecallSplit& split, int64_t batch, Device device);

// Claims 2a-2c and the table in the form of the paper's Table 4.2.
void recall_report(const std::vector<experiments::Record>& rows, const RecallScale& scale, experiments::Report& report);

}  // namespace ember::hyena
