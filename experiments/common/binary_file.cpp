#include "experiments/common/binary_file.h"

#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace ember::experiments {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  check(in.good(), file.string(), ": cannot open");
  std::ostringstream body;
  body << in.rdbuf();
  return body.str();
}

uint32_t read_be32(const std::string& bytes, size_t offset, const std::filesystem::path& file) {
  check(offset + 4 <= bytes.size(), file.string(), ": truncated header (", bytes.size(), " bytes)");
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return v;
}

}  // namespace ember::experiments
