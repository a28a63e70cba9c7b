// hyena: is Hyena a subquadratic drop-in for attention? Tests the claims of Poli et al. 2023
// ("Hyena Hierarchy", arXiv 2302.10866) on speed, associative recall and language modelling.
#include <iostream>

#include "experiments/hyena/program.h"

int main(int argc, char** argv) { return ember::experiments::run_program(ember::hyena::hyena_program(), argc, argv, std::cout); }
