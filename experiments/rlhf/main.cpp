// rlhf: simulated RLHF on hybrids and Transformers. See README.md.
#include <iostream>

#include "experiments/common/program.h"
#include "experiments/rlhf/studies.h"

int main(int argc, char** argv) {
  return ember::experiments::run_program(ember::rlhf::rlhf_program(), argc, argv, std::cout);
}
