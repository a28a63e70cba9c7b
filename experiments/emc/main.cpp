// emc: how many samples can a network fit? Measures the effective model complexity of
// networks on our engine and tests the claims of Shwartz-Ziv et al. (arXiv 2406.11463).
#include <CLI/CLI.hpp>
#include <iostream>

#include "experiments/emc/program.h"
#include "experiments/emc/studies.h"
#include "tensor/error.h"

int main(int argc, char** argv) {
  using namespace ember::emc;
  std::string study_help = "Run only these studies (repeatable); all when absent:";
  for (const auto& s : studies()) study_help += "\n  " + s.name + ": " + s.question;

  CLI::App app{
      "emc: effective model complexity — the largest training set a network fits to 100% — measured on "
      "MNIST, tabular data and noise across architectures, activations and optimizers. Writes fits.csv, "
      "summary.json, PNG plots and REPORT.md."};
  Options options;
  bool quick = false, full = false;
  std::string device = "cpu", out = options.out.string(), data = options.data.string();
  auto* quick_flag =
      app.add_flag("--quick", quick, "Quick scale (default): the whole program in under 20 minutes on 2 CPU cores");
  app.add_flag("--full", full, "Full scale: larger models and grids, more seeds (meant for --device cuda)")
      ->excludes(quick_flag);
  app.add_option("--study", options.studies, study_help);
  app.add_option("--out", out, "Output folder")->capture_default_str();
  app.add_option("--data", data, "Data folder filled by experiments/fetch_data.sh")->capture_default_str();
  app.add_option("--seed", options.seed, "Base seed of subsets, labels and initialisations")->capture_default_str();
  app.add_option("--device", device, "cpu or cuda (or cuda:N)")->capture_default_str();
  app.add_option("--threshold", options.threshold, "Training accuracy that counts as fitting")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--log-grid", options.log_grid, "Search n on a log grid instead of doubling then bisection");
  CLI11_PARSE(app, argc, argv);

  try {
    options.out = out;
    options.data = data;
    if (device == "cpu") {
      options.device = ember::Device::cpu();
    } else if (device.rfind("cuda", 0) == 0) {
      options.device = ember::Device::cuda(device.size() > 5 ? std::stoi(device.substr(5)) : 0);
    } else {
      ember::fail("--device: unknown device '", device, "' (cpu, cuda, cuda:N)");
    }
    for (const auto& name : options.studies) study(name);
    std::string command_line = "emc";
    for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
    run_program(options, full ? full_scale() : quick_scale(), std::cout, command_line);
  } catch (const std::exception& e) {
    std::cerr << "emc: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
