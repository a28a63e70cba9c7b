#include "experiments/emc/program.h"

#include "experiments/emc/report.h"
#include "experiments/emc/studies.h"

namespace ember::emc {

experiments::Program emc_program() {
  experiments::Program p;
  p.info = {.name = "emc",
            .title = "how many samples can a network fit?",
            .source = "Shwartz-Ziv, Goldblum, Bansal, Bruss, LeCun & Wilson, *Just How Flexible are Neural Networks "
                      "in Practice?* (arXiv 2406.11463)",
            .description = "Measures the effective model complexity (EMC: the largest training set a network fits "
                           "to 100% training accuracy) on MNIST, tabular data and noise, across architectures, "
                           "activations and optimizers, with budgets in epochs (equal for every optimizer) and "
                           "failures counted only once training has converged.",
            .studies = study_infos(),
            .mode_help = {"cover, labels (random labels, Gaussian inputs), activation, optimizers on a 490-parameter "
                          "MLP at 7x7, 5 seeds, 3000 epochs a probe (4 to 6 minutes as 2 shards on 2 cores)",
                          "every study, 5 seeds, 3000 epochs a probe, as 16 single-threaded shards (the CNN and ViT "
                          "measurements dominate; see README.md for the estimate)",
                          "larger models, 14x14 and 28x28 digits, 8 seeds, 10000 epochs (GPU, in shards)"}};
  p.plan = plan_jobs;
  p.report = fill_report;
  return p;
}

}  // namespace ember::emc
