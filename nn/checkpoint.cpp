// Checkpoints join nn and optim, the one place in nn/ that includes an optim header.
#include "nn/checkpoint.h"

#include <charconv>
#include <optional>

#include "optim/optimizer.h"

namespace ember::nn {
namespace {

const std::string kOptimPrefix = "optim.";

template <typename... Parts>
[[noreturn]] void checkpoint_error(const std::string& path, const Parts&... parts) {
  fail("load_checkpoint: '", path, "': ", parts...);
}

// The whole of `text` as an integer of type T, or nothing.
template <typename T>
std::optional<T> parse_integer(const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

template <typename T>
T metadata_integer(const std::string& path, const Metadata& metadata, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end())
    checkpoint_error(path, "__metadata__ has no '", key, "' (not a file written by save_checkpoint?)");
  const std::optional<T> value = parse_integer<T>(it->second);
  if (!value) checkpoint_error(path, "__metadata__ '", key, "' is '", it->second, "', not an integer");
  return *value;
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer, int64_t step,
                     const Metadata& extra) {
  for (const char* key : {kStepKey, kRngSeedKey, kRngOffsetKey})
    check(!extra.contains(key), "save_checkpoint: '", path, "': metadata key '", key, "' is reserved for the checkpoint");
  NamedTensors tensors;
  for (const auto& [name, t] : model.state_dict()) {
    check(!name.starts_with(kOptimPrefix), "save_checkpoint: '", path, "': model tensor '", name,
          "' clashes with the optimizer's names (", kOptimPrefix, "...)");
    tensors.emplace_back(name, t);
  }
  if (optimizer != nullptr)
    for (const auto& [name, t] : optimizer->state_tensors()) tensors.emplace_back(kOptimPrefix + name, t);
  Metadata metadata = extra;
  const GeneratorState& rng = default_generator();
  metadata[kStepKey] = std::to_string(step);
  metadata[kRngSeedKey] = std::to_string(rng.seed);
  metadata[kRngOffsetKey] = std::to_string(rng.offset);
  save_safetensors(path, tensors, metadata);
}

CheckpointInfo load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer) {
  SafetensorsFile file = load_safetensors(path);
  CheckpointInfo info{.step = metadata_integer<int64_t>(path, file.metadata, kStepKey),
                      .rng = {metadata_integer<uint64_t>(path, file.metadata, kRngSeedKey),
                              metadata_integer<uint64_t>(path, file.metadata, kRngOffsetKey)},
                      .metadata = std::move(file.metadata)};
  StateDict model_state;
  NamedTensors optimizer_state;
  for (auto& [name, t] : file.tensors) {
    if (name.starts_with(kOptimPrefix))
      optimizer_state.emplace_back(name.substr(kOptimPrefix.size()), std::move(t));
    else
      model_state.emplace(name, std::move(t));
  }
  // Everything is checked before anything changes: the model's keys, shapes and dtypes, then
  // the optimizer's whole state.
  try {
    model.check_state_dict(model_state);
  } catch (const Error& e) {
    checkpoint_error(path, e.what());
  }
  if (optimizer != nullptr) {
    if (optimizer_state.empty())
      checkpoint_error(path, "the file holds no optimizer state ('optim.step_count' is missing)");
    try {  // the whole state, before the model or the optimizer changes
      optimizer->check_state_tensors(optimizer_state);
    } catch (const Error& e) {
      checkpoint_error(path, "optimizer state (", kOptimPrefix, "...): ", e.what());
    }
  }
  model.load_state_dict(model_state);
  if (optimizer != nullptr) optimizer->load_state_tensors(optimizer_state);
  default_generator() = info.rng;
  return info;
}

}  // namespace ember::nn
