#pragma once
// What the data-loader tests share: a fresh folder per test (expect_error is tests/testing.h's).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ember::experiments::test_files {

// Each test gets <tmp>/ember-<suite>-<test>, emptied before and removed after it.
class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("ember-" + std::string(info->test_suite_name()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  std::filesystem::path dir_;
};

}  // namespace ember::experiments::test_files
