// emc: how many samples can a network fit? Measures the effective model complexity of
// networks on our engine and tests the claims of Shwartz-Ziv et al. (arXiv 2406.11463).
#include <iostream>

#include "experiments/emc/program.h"

int main(int argc, char** argv) { return ember::experiments::run_program(ember::emc::emc_program(), argc, argv, std::cout); }
