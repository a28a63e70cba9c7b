// Convolution: oneDNN primitives for f32, created once per geometry and cached, with oneDNN
// free to pick its fastest (blocked) layouts; the caller's plain NCHW operands are reordered
// to and from them. Other dtypes, empty operands and builds without oneDNN take the loops of
// conv_fallback.cpp.
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backends/cpu/conv_fallback.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/dense.h"
#include "tensor/creation.h"

namespace ember {
namespace {

enum class Pass { Forward, BackwardData, BackwardWeight };

// The shapes of one convolution: x [N,C,H,W], w [O,C/groups,KH,KW], y [N,O,OH,OW].
struct ConvShapes {
  const Shape &x, &w, &y;
};

#ifdef EMBER_HAVE_DNNL
using dnnl::memory;

// One argument of a primitive: the caller's plain layout, the one the primitive chose, and
// the reorder between them (plain -> chosen for inputs, chosen -> plain for outputs).
struct Operand {
  int arg;
  bool output;
  memory::desc plain, chosen;
  std::optional<dnnl::reorder> reorder;
};

struct Plan {
  dnnl::primitive primitive;
  memory::desc scratchpad;
  std::vector<Operand> operands;  // in the order execute() receives their pointers
};

Operand operand(int arg, bool output, const memory::desc& plain, const memory::desc& chosen) {
  Operand op{arg, output, plain, chosen, std::nullopt};
  if (plain != chosen) {
    dnnl::engine& e = cpu::dnnl_engine();
    op.reorder = output ? dnnl::reorder(dnnl::reorder::primitive_desc(e, chosen, e, plain))
                        : dnnl::reorder(dnnl::reorder::primitive_desc(e, plain, e, chosen));
  }
  return op;
}

memory::dims dims_of(const Shape& s) { return memory::dims(s.begin(), s.end()); }

// The memory descriptors and geometry of one convolution, in oneDNN's terms.
struct Descs {
  memory::desc x, w, b, y;                       // format_tag::any: the primitive chooses
  memory::desc plain_x, plain_w, plain_b, plain_y;
  memory::dims strides, dilation, pad_l, pad_r;  // oneDNN counts dilation from 0

  Descs(const ConvShapes& s, const Backend::Conv2dParams& p) {
    using tag = memory::format_tag;
    const auto f32 = memory::data_type::f32;
    const int64_t g = p.groups;
    // Grouped weights are 5-d [G, O/G, C/G, KH, KW], the same bytes as our [O, C/G, KH, KW].
    memory::dims wd = g == 1 ? dims_of(s.w) : memory::dims{g, s.w[0] / g, s.w[1], s.w[2], s.w[3]};
    x = memory::desc(dims_of(s.x), f32, tag::any);
    w = memory::desc(wd, f32, tag::any);
    b = memory::desc({s.w[0]}, f32, tag::any);
    y = memory::desc(dims_of(s.y), f32, tag::any);
    plain_x = memory::desc(dims_of(s.x), f32, tag::nchw);
    plain_w = memory::desc(wd, f32, g == 1 ? tag::oihw : tag::goihw);
    plain_b = memory::desc({s.w[0]}, f32, tag::a);
    plain_y = memory::desc(dims_of(s.y), f32, tag::nchw);
    strides = {p.stride_h, p.stride_w};
    dilation = {p.dilation_h - 1, p.dilation_w - 1};
    pad_l = {p.pad_h, p.pad_w};
    // The right padding that makes the output size exact (it may be below pad_l).
    pad_r = {(s.y[2] - 1) * p.stride_h + p.dilation_h * (s.w[2] - 1) + 1 - s.x[2] - p.pad_h,
             (s.y[3] - 1) * p.stride_w + p.dilation_w * (s.w[3] - 1) + 1 - s.x[3] - p.pad_w};
  }
};

dnnl::primitive_attr user_scratchpad() {
  // A scratchpad per call, not the library's shared one: plans run concurrently from any thread.
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool bias, const dnnl::primitive_attr& attr) {
  using fwd = dnnl::convolution_forward;
  const auto kind = dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  fwd::desc desc = bias ? fwd::desc(kind, algo, d.x, d.w, d.b, d.y, d.strides, d.dilation, d.pad_l, d.pad_r)
                        : fwd::desc(kind, algo, d.x, d.w, d.y, d.strides, d.dilation, d.pad_l, d.pad_r);
  return fwd::primitive_desc(desc, attr, cpu::dnnl_engine());
}

Plan make_plan(Pass pass, bool bias, const ConvShapes& s, const Backend::Conv2dParams& p) {
  const Descs d(s, p);
  const dnnl::primitive_attr attr = user_scratchpad();
  dnnl::engine& engine = cpu::dnnl_engine();
  const auto algo = dnnl::algorithm::convolution_direct;
  if (pass == Pass::Forward) {
    auto pd = forward_pd(d, bias, attr);
    Plan plan{dnnl::convolution_forward(pd), pd.scratchpad_desc(), {}};
    plan.operands.push_back(operand(DNNL_ARG_SRC, false, d.plain_x, pd.src_desc()));
    plan.operands.push_back(operand(DNNL_ARG_WEIGHTS, false, d.plain_w, pd.weights_desc()));
    if (bias) plan.operands.push_back(operand(DNNL_ARG_BIAS, false, d.plain_b, pd.bias_desc()));
    plan.operands.push_back(operand(DNNL_ARG_DST, true, d.plain_y, pd.dst_desc()));
    return plan;
  }
  // The backward primitives are chosen to match a forward one, passed as a hint.
  const auto hint = forward_pd(d, bias, dnnl::primitive_attr());
  if (pass == Pass::BackwardData) {
    using bwd = dnnl::convolution_backward_data;
    bwd::desc desc(algo, d.x, d.w, d.y, d.strides, d.dilation, d.pad_l, d.pad_r);
    bwd::primitive_desc pd(desc, attr, engine, hint);
    Plan plan{bwd(pd), pd.scratchpad_desc(), {}};
    plan.operands.push_back(operand(DNNL_ARG_DIFF_DST, false, d.plain_y, pd.diff_dst_desc()));
    plan.operands.push_back(operand(DNNL_ARG_WEIGHTS, false, d.plain_w, pd.weights_desc()));
    plan.operands.push_back(operand(DNNL_ARG_DIFF_SRC, true, d.plain_x, pd.diff_src_desc()));
    return plan;
  }
  using bwd = dnnl::convolution_backward_weights;
  bwd::desc desc = bias ? bwd::desc(algo, d.x, d.w, d.b, d.y, d.strides, d.dilation, d.pad_l, d.pad_r)
                        : bwd::desc(algo, d.x, d.w, d.y, d.strides, d.dilation, d.pad_l, d.pad_r);
  bwd::primitive_desc pd(desc, attr, engine, hint);
  Plan plan{bwd(pd), pd.scratchpad_desc(), {}};
  plan.operands.push_back(operand(DNNL_ARG_DIFF_DST, false, d.plain_y, pd.diff_dst_desc()));
  plan.operands.push_back(operand(DNNL_ARG_SRC, false, d.plain_x, pd.src_desc()));
  plan.operands.push_back(operand(DNNL_ARG_DIFF_WEIGHTS, true, d.plain_w, pd.diff_weights_desc()));
  if (bias) plan.operands.push_back(operand(DNNL_ARG_DIFF_BIAS, true, d.plain_b, pd.diff_bias_desc()));
  return plan;
}

using PlanKey = std::array<int64_t, 19>;

// Creating a primitive costs far more than running a small one, so each (pass, geometry) gets
// one plan for the life of the process; nullopt records a geometry oneDNN has no primitive for.
// std::map never moves its nodes: the references handed out stay valid.
const std::optional<Plan>& plan_for(Pass pass, bool bias, const ConvShapes& s, const Backend::Conv2dParams& p) {
  const PlanKey key{static_cast<int64_t>(pass), bias, s.x[0], s.x[1], s.x[2], s.x[3], s.w[0], s.w[1], s.w[2], s.w[3],
                    s.y[2], s.y[3], p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups};
  static std::mutex mutex;
  static std::map<PlanKey, std::optional<Plan>> plans;
  std::lock_guard lock(mutex);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  std::optional<Plan> plan;
  try {
    plan = make_plan(pass, bias, s, p);
  } catch (const dnnl::error&) {  // no primitive for it: the loops take this geometry
  }
  return plans.emplace(key, std::move(plan)).first->second;
}

void execute(const Plan& plan, const std::vector<void*>& data) {
  dnnl::engine& engine = cpu::dnnl_engine();
  dnnl::stream& stream = cpu::dnnl_stream();
  std::vector<memory> user, inner;
  std::unordered_map<int, memory> args{{DNNL_ARG_SCRATCHPAD, memory(plan.scratchpad, engine)}};
  for (size_t i = 0; i < plan.operands.size(); ++i) {
    const Operand& op = plan.operands[i];
    user.emplace_back(op.plain, engine, data[i]);
    inner.push_back(op.reorder ? memory(op.chosen, engine) : user.back());
    if (op.reorder && !op.output) op.reorder->execute(stream, user.back(), inner.back());
    args[op.arg] = inner.back();
  }
  plan.primitive.execute(stream, args);
  for (size_t i = 0; i < plan.operands.size(); ++i)
    if (plan.operands[i].reorder && plan.operands[i].output) plan.operands[i].reorder->execute(stream, inner[i], user[i]);
  stream.wait();
}

// Runs the pass through oneDNN and returns true, or returns false where oneDNN does not take
// it. `data` holds the operands' pointers in the plan's order.
bool run_dnnl(Pass pass, bool bias, const ConvShapes& s, const Backend::Conv2dParams& p, DType dtype,
              const std::vector<void*>& data) {
  if (dtype != DType::F32 || numel_of(s.x) == 0 || numel_of(s.y) == 0 || numel_of(s.w) == 0) return false;
  const std::optional<Plan>& plan = plan_for(pass, bias, s, p);
  if (plan) execute(*plan, data);
  return plan.has_value();
}
#else
bool run_dnnl(Pass, bool, const ConvShapes&, const Backend::Conv2dParams&, DType, const std::vector<void*>&) {
  return false;
}
#endif

}  // namespace

void CpuBackend::conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, const Tensor& y) {
  const Tensor xd = dense(*this, x), wd = dense(*this, w), bd = dense(*this, bias);
  std::vector<void*> data{xd.data_ptr(), wd.data_ptr()};
  if (bias.defined()) data.push_back(bd.data_ptr());
  data.push_back(y.data_ptr());
  if (!run_dnnl(Pass::Forward, bias.defined(), {x.shape(), w.shape(), y.shape()}, p, y.dtype(), data))
    cpu::conv2d_fallback(xd, wd, bd, p, y);
}

void CpuBackend::conv2d_backward_data(const Tensor& gy, const Tensor& w, const Conv2dParams& p, const Tensor& gx) {
  const Tensor gyd = dense(*this, gy), wd = dense(*this, w);
  if (!run_dnnl(Pass::BackwardData, false, {gx.shape(), w.shape(), gy.shape()}, p, gx.dtype(),
                {gyd.data_ptr(), wd.data_ptr(), gx.data_ptr()}))
    cpu::conv2d_backward_data_fallback(gyd, wd, p, gx);
}

void CpuBackend::conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dParams& p, const Tensor& gw,
                                        const Tensor& gb) {
  const Tensor gyd = dense(*this, gy), xd = dense(*this, x);
  std::vector<void*> data{gyd.data_ptr(), xd.data_ptr(), gw.data_ptr()};
  if (gb.defined()) data.push_back(gb.data_ptr());
  if (!run_dnnl(Pass::BackwardWeight, gb.defined(), {x.shape(), gw.shape(), gy.shape()}, p, gw.dtype(), data))
    cpu::conv2d_backward_weight_fallback(gyd, xd, p, gw, gb);
}

}  // namespace ember
