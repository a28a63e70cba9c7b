#pragma once
// The safetensors file format (huggingface/safetensors), so that PyTorch, JAX and the Hugging
// Face tools read our weights and we read theirs. Layout: an 8-byte little-endian header length
// N; N bytes of JSON, padded with spaces to a multiple of 8, mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__" object of
// strings; then the raw little-endian tensor bytes, offsets counted from the data section.
#include <map>
#include <string>

#include "nn/module.h"

namespace ember::nn {

using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in file order, on the CPU
  Metadata metadata;
};

// Writes `tensors` (any device, any layout) atomically: a temporary file beside `path` is
// written, flushed to disk and renamed over `path`, so a crash never leaves half a file.
// As the reference writer does, tensors are laid out largest element size first, then by
// name, so every tensor's bytes are aligned to its element size.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Reads and validates the whole file before returning: file size against the header, the
// header's JSON, known dtypes, shape x element size equal to each byte range, byte ranges
// that tile the data section exactly (no overlap, no gap), bool bytes that are 0 or 1.
// Throws an ember::Error naming the file and the problem.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace ember::nn
