#pragma once
// Counting floating-point operations, as PyTorch's FlopCounterMode: a FlopCounter counts every
// op that the thread which made it runs while it is alive, forward and backward, by op family
// and by module. The op files call count_flops() where an op runs once whatever the device (the
// autograd op layer, before or after the backend call), so counts are the same on CPU and CUDA.
// Backwards written in terms of other ops are counted as those ops; fused backward kernels
// count themselves explicitly.
//
// Counting rules (one FLOP = one add, multiply, compare, or one transcendental function):
//   matmul        2 m n k per product, times the (broadcast) batch. linear = matmul + bias add.
//                 Backward: the two products it runs (2 m n k each).
//   conv          2 x output elements x kernel volume x in_channels / groups; the bias add in the
//                 kernel is counted as elementwise (1 per output element). Backward data and
//                 backward weight cost the same as the forward product each; the bias gradient is
//                 a reduce (1 per output element).
//   attention     per (batch x head), with S the number of scores counted: QK^T 2 S D, PV 2 S Dv,
//                 softmax 5 per score (the scaling folded in). Causal counts the visible scores
//                 only (key j <= query i): the kernels on both devices skip key blocks wholly
//                 above the diagonal and compute the diagonal blocks whole, so this is what the
//                 algorithm needs, within one block per query block of what runs. A bool mask does
//                 not shrink S (the kernels compute the hidden scores). Dropout is not counted.
//                 Backward: recomputed QK^T 2 S D, probabilities 2 per score, dV = P^T dO 2 S Dv,
//                 dP = dO V^T 2 S Dv, dS = P (dP - delta) 2 per score, dQ = dS K 2 S D,
//                 dK = dS^T Q 2 S D, delta = rowsum(dO o O) 2 Tq Dv.
//   fft_conv      n = the smallest 2^a 3^b 5^c 7^d >= L + K - 1 (the CPU's length; CUDA pads to
//                 an even one >= 8, a few percent apart at most); a real transform of length n
//                 (forward or inverse) 5 n log2 n; a complex multiply 6 (with accumulation 8) over
//                 the n / 2 + 1 bins. Forward: transforms of the B C inputs and C filters, B C
//                 products, B C inverses, skip term D u 2 per element. Backward: transforms of the
//                 B C gradients; du: B C products with the filter spectra and B C inverses, plus
//                 D g 2 per element; dk: B C accumulated products and C inverses; dD: 2 per
//                 element; the u and k transforms again when the backend kept none (the CPU's).
//   elementwise   binary ops (arithmetic, compare, max/min, pow) 1 per output element, in place or
//                 not; unary ops per element as unary_flops() below (e.g. relu 1, exp 1,
//                 sigmoid 4, gelu 5 (erf) / 9 (tanh), its derivative 10 / 15); where, copies,
//                 views, gathers and fills 0; index_add and scatter_add 1 per source element.
//   reduce        1 per input element (sum, max, min, argmax, argmin); mean = sum + a scale.
//   softmax       forward 5 per element (max, subtract, exp, sum, divide; log_softmax likewise),
//                 backward 4 per element.
//   norm          layer_norm forward 5 per element (mean, centre, square + sum, scale) + 1 with a
//                 weight + 1 with a bias; backward 8 per element for dx + 2 for dw + 1 for db.
//                 batch_norm and group_norm are built of ops, so they count as elementwise/reduce.
//   cross_entropy forward 4 per logit (max, subtract, exp, sum; + 1 with label smoothing),
//                 backward 4 per logit; the reduction over rows is a reduce.
//   pool          max: window size per output element, backward 1 per output element; avg:
//                 window size + 1 (the divide) per output element, adaptive avg 1 per input + 1 per
//                 output element, backward the same as the forward.
// Not counted: fused optimizer steps (they are not ops of the model), random numbers.
//
// Modules: nn's Module::operator() opens a FlopModuleScope with the module's dotted path while
// a counter is active (a module called through forward() directly is folded into its caller);
// the outermost module called is the path "". An op counts towards its module and every
// enclosing one. The graph node an op records carries that path, and the backward engine opens
// it again while the node's backward runs, so backward FLOPs are attributed to the module whose
// forward recorded them (the engine's own gradient sums are not in any module).
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "backends/backend.h"

namespace ember {

class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  double total() const;
  double forward_total() const;
  double backward_total() const;  // ops run inside backward()
  // Op family ("matmul", "conv", "attention", "fft_conv", "elementwise", "reduce", "norm",
  // "softmax", "cross_entropy", "pool") -> FLOPs.
  std::map<std::string, double> by_op() const;
  // Dotted module path -> FLOPs of its ops, its children's included; "" is the outermost module.
  std::map<std::string, double> by_module() const;
  void reset();
  // A readable breakdown: totals, then by op family, then by module (indented by depth).
  std::string table() const;

  // What count_flops() calls; `module` is null outside any module.
  void add(const char* op, double flops, bool backward, const std::string* module);

 private:
  mutable std::mutex mutex_;  // totals may be read from another thread while this one counts
  double forward_ = 0, backward_ = 0;
  std::map<std::string, double> by_op_, by_module_;
};

// Whether a FlopCounter is alive on this thread: the one check an op pays when none is.
bool counting_flops();
// Adds `flops` of family `op` to every counter alive on this thread.
void count_flops(const char* op, double flops);

// FLOPs per element of the elementwise kernels.
double unary_flops(UnaryOp op);
double binary_flops(BinaryOp op);

// A module's dotted path, shared by the graph nodes its ops record.
using FlopModulePath = std::shared_ptr<const std::string>;
// The innermost open module scope's path on this thread (null outside any).
FlopModulePath current_flop_module();

// Attributes the ops of its lifetime to `path` (null: to no module).
class FlopModuleScope {
 public:
  explicit FlopModuleScope(FlopModulePath path);
  ~FlopModuleScope();
  FlopModuleScope(const FlopModuleScope&) = delete;
  FlopModuleScope& operator=(const FlopModuleScope&) = delete;
};

// The backward engine's: ops of its lifetime count as backward.
class FlopBackwardScope {
 public:
  FlopBackwardScope();
  ~FlopBackwardScope();
  FlopBackwardScope(const FlopBackwardScope&) = delete;
  FlopBackwardScope& operator=(const FlopBackwardScope&) = delete;

 private:
  bool previous_;
};

}  // namespace ember
