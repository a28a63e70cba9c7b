#include "tensor/random.h"

namespace ember {

GeneratorState& default_generator() {
  static GeneratorState state;
  return state;
}

void manual_seed(uint64_t seed) { default_generator() = GeneratorState{seed, 0}; }

GeneratorState next_stream() {
  GeneratorState& g = default_generator();
  return GeneratorState{g.seed, g.offset++};
}

}  // namespace ember
