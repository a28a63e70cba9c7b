#pragma once
// Reading whole files for the loaders, with errors that name the file.
#include <cstdint>
#include <filesystem>
#include <string>

namespace ember::experiments {

std::string read_file(const std::filesystem::path& file);

// The big-endian unsigned 32-bit integer at `offset` of `bytes` (checked against its size).
uint32_t read_be32(const std::string& bytes, size_t offset, const std::filesystem::path& file);

}  // namespace ember::experiments
