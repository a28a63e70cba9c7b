// The cuFFT plan cache of the FFT long convolution (see fft_plan.h). Plans are made once per
// (length, batch, transform type) under a mutex and never destroyed, like the backend's context:
// a training run meets a handful of shapes. Each plan runs on the backend's stream with cuFFT's
// own allocation switched off; its work area is a pool tensor allocated just before the
// execution and freed just after it (stream-ordered, so the memory returns to the pool only once
// the transform has run).
#include "backends/cuda/fft_plan.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "backends/cuda/context.h"
#include "tensor/creation.h"

namespace ember::cuda {
namespace {

struct Plan {
  cufftHandle handle = 0;
  size_t work_bytes = 0;
};

bool is_forward(cufftType type) { return type == CUFFT_R2C || type == CUFFT_D2Z; }

// A batched 1-d plan over the padded in-place layout: the real side's rows are pitch reals
// apart, the complex side's n / 2 + 1 complex numbers (the same bytes).
Plan make_plan(cufftType type, int64_t n, int64_t batch) {
  Plan plan;
  CUFFT_CHECK(cufftCreate(&plan.handle));
  // A failure after cufftCreate destroys the half-made plan, then reports the call and sizes.
  const auto checked = [&](cufftResult result, const char* call) {
    if (result == CUFFT_SUCCESS) return;
    cufftDestroy(plan.handle);
    fail("cuFFT error: ", cufft_result_name(result), " (", call, ") planning ", batch, " transforms of length ", n,
         ", type ", static_cast<int>(type));
  };
  long long length = n, real_pitch = fft_row_pitch(n), half = n / 2 + 1;
  long long in_embed = is_forward(type) ? real_pitch : half, out_embed = is_forward(type) ? half : real_pitch;
  checked(cufftSetAutoAllocation(plan.handle, 0), "cufftSetAutoAllocation");
  checked(cufftMakePlanMany64(plan.handle, 1, &length, &in_embed, 1, in_embed, &out_embed, 1, out_embed, type, batch,
                              &plan.work_bytes),
          "cufftMakePlanMany64");
  checked(cufftSetStream(plan.handle, stream()), "cufftSetStream");
  return plan;
}

void execute(cufftType type, void* rows, int64_t n, int64_t batch) {
  if (batch == 0) return;
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, cufftType>, Plan> plans;
  std::lock_guard lock(mutex);  // the plan's work area is set per execution
  auto it = plans.find({n, batch, type});
  if (it == plans.end()) it = plans.emplace(std::tuple{n, batch, type}, make_plan(type, n, batch)).first;
  const Plan& plan = it->second;
  Tensor work;
  if (plan.work_bytes > 0) {
    work = empty({static_cast<int64_t>((plan.work_bytes + 7) / 8)}, {.dtype = DType::F64, .device = Device::cuda()});
    CUFFT_CHECK(cufftSetWorkArea(plan.handle, work.data_ptr()));
  }
  switch (type) {
    case CUFFT_R2C:
      CUFFT_CHECK(cufftExecR2C(plan.handle, static_cast<cufftReal*>(rows), static_cast<cufftComplex*>(rows)));
      break;
    case CUFFT_C2R:
      CUFFT_CHECK(cufftExecC2R(plan.handle, static_cast<cufftComplex*>(rows), static_cast<cufftReal*>(rows)));
      break;
    case CUFFT_D2Z:
      CUFFT_CHECK(cufftExecD2Z(plan.handle, static_cast<cufftDoubleReal*>(rows), static_cast<cufftDoubleComplex*>(rows)));
      break;
    case CUFFT_Z2D:
      CUFFT_CHECK(cufftExecZ2D(plan.handle, static_cast<cufftDoubleComplex*>(rows), static_cast<cufftDoubleReal*>(rows)));
      break;
    default:
      fail("fft_conv: unexpected cuFFT transform type ", static_cast<int>(type));
  }
}

}  // namespace

const char* cufft_result_name(cufftResult result) {
  switch (result) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "an unknown cuFFT error";  // codes this list does not name (they vary by version)
  }
}

int64_t fft_fast_length(int64_t n) {
  for (int64_t m = std::max<int64_t>(n, 8) + (std::max<int64_t>(n, 8) % 2);; m += 2) {
    int64_t r = m;
    for (int64_t p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

void fft_forward(float* rows, int64_t n, int64_t batch) { execute(CUFFT_R2C, rows, n, batch); }
void fft_forward(double* rows, int64_t n, int64_t batch) { execute(CUFFT_D2Z, rows, n, batch); }
void fft_inverse(float* rows, int64_t n, int64_t batch) { execute(CUFFT_C2R, rows, n, batch); }
void fft_inverse(double* rows, int64_t n, int64_t batch) { execute(CUFFT_Z2D, rows, n, batch); }

}  // namespace ember::cuda
