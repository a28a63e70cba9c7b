// hybrid: do CNN-Transformer hybrids scale better than pure Transformers? See README.md.
#include <iostream>

#include "experiments/hybrid/program.h"

int main(int argc, char** argv) { return ember::experiments::run_program(ember::hybrid::program(), argc, argv, std::cout); }
