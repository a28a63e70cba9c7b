#pragma once
// Training checkpoints as safetensors files: the model's state_dict under its own names (so
// PyTorch's safetensors.torch.load_file hands a matching PyTorch model its weights as they are),
// the optimizer's state under "optim.<name>", and the training step and the random generator's
// state in __metadata__, so that a resumed run continues bit for bit.
#include <cstdint>
#include <string>

#include "nn/module.h"
#include "nn/safetensors.h"
#include "tensor/random.h"

namespace ember {
class Optimizer;
}

namespace ember::nn {

// The __metadata__ keys a checkpoint reserves.
inline constexpr const char* kStepKey = "step";
inline constexpr const char* kRngSeedKey = "rng_seed";
inline constexpr const char* kRngOffsetKey = "rng_offset";

struct CheckpointInfo {
  int64_t step = 0;
  GeneratorState rng;
  Metadata metadata;  // all of __metadata__, the reserved keys included
};

// Saves the model, the optimizer's state (when given), `step`, the default generator's state
// and `extra` metadata (which must not use the reserved keys), atomically.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer = nullptr,
                     int64_t step = 0, const Metadata& extra = {});

// Loads a checkpoint into `model` (and `optimizer`, when given; the file's optimizer state is
// ignored otherwise) and restores the default generator. Everything is checked before anything
// is written: the file (see load_safetensors), the metadata, every model tensor present with
// the model's shape and no unexpected one, the optimizer's state present and well-formed. On a
// problem it throws one ember::Error naming the file and leaves model, optimizer and generator
// untouched. Floating tensors convert to the model's dtype, as load_state_dict does.
CheckpointInfo load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr);

}  // namespace ember::nn
