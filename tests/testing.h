#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "autograd/ops.h"

namespace ember::testing {

// Every test starts from a seed derived from its own name: a random draw that fails, fails on
// every run and in any order of tests, instead of now and then.
class SeedEachTest : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    manual_seed(std::hash<std::string>{}(std::string(info.test_suite_name()) + "." + info.name()));
  }
};
inline const bool seed_each_test = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new SeedEachTest);
  return true;
}();

// A random f64 leaf that requires grad.
inline Tensor leaf(const Shape& shape, double scale = 1.0) {
  return (randn(shape, {.dtype = DType::F64}) * scale).set_requires_grad();
}

// A random f64 leaf whose layout is non-contiguous: the transpose of a [.., b, a] buffer.
inline Tensor transposed_leaf(const Shape& shape) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  Tensor base = randn(swapped, {.dtype = DType::F64});
  return detach(transpose(base, -1, -2)).set_requires_grad();
}

// A positive f64 leaf (for log, sqrt, pow, division).
inline Tensor positive_leaf(const Shape& shape) {
  return (rand(shape, {.dtype = DType::F64}) + 0.5).set_requires_grad();
}

// Expects f() to throw ember::Error whose message contains `text`, or each of `parts` (the op
// or file, the shapes, what is wrong): an input that is refused is refused with a message that
// says why. expect_error(f, "text") or expect_error(f, {"op", "shape"}).
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected ember::Error containing '" << *parts.begin() << "'";
  } catch (const Error& e) {
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}
template <typename F>
void expect_error(F&& f, const std::string& text) {
  expect_error(f, std::initializer_list<std::string>{text});
}

}  // namespace ember::testing

#define EXPECT_GRADCHECK(f, ...)                                  \
  do {                                                            \
    auto _r = ::ember::gradcheck((f), __VA_ARGS__);               \
    EXPECT_TRUE(_r.ok) << _r.message;                             \
  } while (0)

// Shampoo's inverse roots need LAPACK; a build without it (such as the GPU machine's) skips them.
#ifdef EMBER_HAVE_LAPACKE
#define SKIP_WITHOUT_LAPACK() (void)0
#else
#define SKIP_WITHOUT_LAPACK() GTEST_SKIP() << "built without LAPACK (liblapacke-dev)"
#endif
