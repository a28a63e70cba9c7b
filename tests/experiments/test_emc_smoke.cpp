// The emc program end to end at a toy scale: one study on generated digits in the npm
// package's JSON format, writing every output file.
#include <gtest/gtest.h>
#include <omp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "experiments/emc/models.h"
#include "experiments/emc/program.h"
#include "experiments/emc/studies.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::emc {
namespace {

namespace fs = std::filesystem;

// 16 images per digit: noise plus a bright 8x8 block whose place depends on the digit.
void write_digits(const fs::path& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(0, 0.3f);
  for (int digit = 0; digit < 10; ++digit) {
    std::ostringstream json;
    json << "{\"data\":[";
    for (int image = 0; image < 16; ++image)
      for (int p = 0; p < 784; ++p) {
        const int row = p / 28, col = p % 28, top = 4 * (digit / 5) + 6, left = 4 * (digit % 5) + 2;
        const bool block = row >= top && row < top + 8 && col >= left && col < left + 8;
        json << (image || p ? "," : "") << (block ? 1.0f : noise(rng));
      }
    json << "]}";
    std::ofstream(dir / (std::to_string(digit) + ".json")) << json.str();
  }
}

Scale toy_scale() {
  Scale s;
  s.name = "toy";
  s.seeds = 1;
  s.image_downsample = 4;
  s.held_out = 20;
  s.max_n = 48;
  s.batch_size = 16;
  s.epochs = 10;
  s.min_steps = 20;
  s.max_steps = 40;
  s.search = {.mode = SearchOptions::Mode::Bisection, .start = 8, .max_n = 0, .tolerance = 0.5, .grid_per_octave = 4};
  s.tune_divisor = 64;
  s.generalisation_n = 32;
  s.mlp_reference = s.data_model = {.arch = "mlp", .widths = {4}};
  s.cnn_reference = {.arch = "cnn", .widths = {2, 4}};
  return s;
}

TEST(EmcSmoke, LabelsStudyWritesEveryOutput) {
  omp_set_num_threads(1);  // toy tensors: threads would only add fork/join cost
  const fs::path root = fs::temp_directory_path() / "ember-emc-smoke";
  fs::remove_all(root);
  write_digits(root / "data" / "mnist");
  Options options{.out = root / "out", .data = root / "data", .seed = 1, .studies = {"labels"}};
  std::ostringstream log;
  run_program(options, toy_scale(), log, "emc --study labels");

  EXPECT_NE(log.str().find("== study labels"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("EMC"), std::string::npos);

  std::ifstream csv(root / "out" / "fits.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("study,model,arch", 0), 0u) << header;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_GT(rows, 8);

  nlohmann::json summary = nlohmann::json::parse(std::ifstream(root / "out" / "summary.json"));
  EXPECT_EQ(summary["measurements"].size(), 8u);  // {MLP, CNN} x 4 label/input conditions
  bool random_labels_judged = false;
  for (const auto& claim : summary["claims"])
    if (claim["claim"] == "Random labels are fitted much less")
      random_labels_judged = claim["verdict"] != "not testable here";
  EXPECT_TRUE(random_labels_judged);

  std::ifstream report_file(root / "out" / "REPORT.md");
  std::stringstream report;
  report << report_file.rdbuf();
  EXPECT_NE(report.str().find("## Verdicts"), std::string::npos);
  EXPECT_NE(report.str().find("the optimizers study was not run"), std::string::npos);
  EXPECT_EQ(fs::exists(root / "out" / "labels_inputs.png"), summary["plots"][2]["drawn"].get<bool>());
  fs::remove_all(root);
}

TEST(EmcSmoke, EveryArchitectureBuildsAndClassifiesImages) {
  const Shape image = {1, 14, 14};
  for (const ModelSpec& spec : {ModelSpec{.arch = "mlp", .widths = {8}}, ModelSpec{.arch = "cnn", .widths = {2, 4}},
                                ModelSpec{.arch = "resnet", .widths = {2, 4}},
                                ModelSpec{.arch = "vit", .widths = {8}, .depth = 1}}) {
    ASSERT_TRUE(model_available(spec.arch)) << spec.name();
    const auto model = build_model(spec, image, 10);
    EXPECT_EQ(model->forward(randn({3, 1, 14, 14})).shape(), (Shape{3, 10})) << spec.name();
    EXPECT_EQ(count_parameters(spec, image, 10), model->num_parameters()) << spec.name();
  }
  EXPECT_THROW(build_model({.arch = "vit", .widths = {8}}, {1, 10, 10}, 10), Error);  // side not a multiple of 7
}

TEST(EmcSmoke, UnknownStudyNamesTheKnownOnes) {
  try {
    study("nope");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown study 'nope' (known: cover, data, labels"), std::string::npos)
        << e.what();
  }
}

TEST(EmcSmoke, MissingDataIsReportedWithTheFetchCommand) {
  Options options{.out = fs::temp_directory_path() / "ember-emc-nodata", .data = "/nonexistent", .studies = {"labels"}};
  std::ostringstream log;
  try {
    run_program(options, toy_scale(), log, "emc");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run experiments/fetch_data.sh"), std::string::npos) << e.what();
  }
  fs::remove_all(options.out);
}

}  // namespace
}  // namespace ember::emc
