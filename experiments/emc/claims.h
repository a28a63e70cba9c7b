#pragma once
// The claims of "Just How Flexible are Neural Networks in Practice?" (Shwartz-Ziv et al.,
// arXiv 2406.11463) that the studies test, each with the document's statement, our number and
// a verdict, read from the lab's measurements.
#include <string>
#include <vector>

#include "experiments/emc/lab.h"

namespace ember::emc {

struct Claim {
  std::string study;     // the study that tests it
  std::string claim;     // the claim in a few words
  std::string document;  // what the document says
  std::string ours;      // what we measured
  std::string verdict;   // "supported", "not supported" or "not testable here"
  std::string why;
};

std::vector<Claim> evaluate_claims(const Lab& lab);

}  // namespace ember::emc
