// CudaBackend::matmul through cuBLAS: f32 (TF32 on the tensor cores when switched on), f64,
// and bf16 with f32 accumulation. cuBLAS is column-major; a row-major [M, N] output is the
// column-major N x M matrix out^T = c^T a^T, so c goes first. Transposed views are read in
// place (one of their last two strides is 1); a stride-0 batch broadcasts.
#include <climits>
#include <optional>

#include "backends/cuda/context.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_device.h"
#include "tensor/creation.h"

namespace ember {
namespace {

void check_cublas(cublasStatus_t status, const char* call) {
  check(status == CUBLAS_STATUS_SUCCESS, "matmul: ", call, " failed: ", cublasGetStatusString(status));
}

// A [B, R, C] operand as cuBLAS reads its transpose, the C x R column-major matrix.
struct Operand {
  const void* data;
  cublasOperation_t op;  // N: stored as that C x R matrix (row-major); T: stored as R x C (column-major)
  int64_t ld, batch_stride;
};

// nullopt when neither of the last two strides is 1, or rows overlap.
std::optional<Operand> operand_of(const Tensor& t) {
  const int64_t rows = t.size(1), cols = t.size(2);
  int64_t row_stride = t.stride(1), col_stride = t.stride(2);
  // Strides of size-1 dims address nothing; give them the values of a dense layout.
  if (cols == 1) col_stride = 1;
  if (rows == 1) row_stride = col_stride == 1 ? cols : 1;
  if (col_stride == 1 && row_stride >= cols) return Operand{t.data_ptr(), CUBLAS_OP_N, row_stride, t.stride(0)};
  if (row_stride == 1 && col_stride >= rows) return Operand{t.data_ptr(), CUBLAS_OP_T, col_stride, t.stride(0)};
  return std::nullopt;
}

struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
};

GemmTypes gemm_types(DType dtype) {
  switch (dtype) {
    case DType::F32: return {CUDA_R_32F, cuda_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
    case DType::F64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F};
    case DType::BF16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
    default: fail("matmul: expected a floating dtype (f32, f64, bf16), got ", dtype);
  }
}

int as_int(int64_t v, const Tensor& a, const Tensor& c) {
  check(v <= INT_MAX, "matmul: ", a.shape(), " x ", c.shape(), ": a size or stride above 2^31 - 1 is not supported on CUDA");
  return static_cast<int>(v);
}

}  // namespace

void CudaBackend::matmul(const Tensor& a, const Tensor& c, const Tensor& out) {
  cuda::check_on_device("matmul", {&a, &c, &out});
  check(a.dtype() == c.dtype() && a.dtype() == out.dtype(), "matmul: dtypes differ: ", a.dtype(), ", ", c.dtype(),
        " -> ", out.dtype());
  check(out.is_contiguous(), "matmul: output must be contiguous");
  const GemmTypes types = gemm_types(a.dtype());
  const int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a.size(2);
  if (out.numel() == 0) return;
  if (k == 0) return fill(out, 0);
  // A layout cuBLAS cannot read (no unit stride) is copied into a contiguous one first.
  auto readable = [&](const Tensor& t) {
    if (operand_of(t)) return t;
    Tensor dense = empty(t.shape(), {.dtype = t.dtype(), .device = t.device()});
    copy(t, dense);
    return dense;
  };
  const Tensor a_read = readable(a), c_read = readable(c);
  const Operand first = *operand_of(c_read), second = *operand_of(a_read);
  const double alpha64 = 1, beta64 = 0;
  const float alpha32 = 1, beta32 = 0;
  const bool f64 = a.dtype() == DType::F64;
  const void* alpha = f64 ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta = f64 ? static_cast<const void*>(&beta64) : &beta32;
  check_cublas(cublasGemmStridedBatchedEx(cuda::cublas(), first.op, second.op, as_int(n, a, c), as_int(m, a, c),
                                          as_int(k, a, c), alpha, first.data, types.data, as_int(first.ld, a, c),
                                          first.batch_stride, second.data, types.data, as_int(second.ld, a, c),
                                          second.batch_stride, beta, out.data_ptr(), types.data, as_int(n, a, c),
                                          m * n, as_int(batch, a, c), types.compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmStridedBatchedEx");
}

}  // namespace ember
