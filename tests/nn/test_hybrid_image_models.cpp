// The CNN-Transformer hybrids for images (CoAtNet, MobileViT, Swin) and their layers: relative
// position bias, (shifted) window attention against a direct reference computed by loops,
// window and patch bookkeeping (values and round trips), errors, f64 gradient checks of the new
// layers, the size ladder's parameter counts, and that every family overfits one small batch.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nn/nn.h"
#include "optim/adam.h"
#include "tests/testing.h"

namespace ember {
namespace {

using Inputs = std::vector<Tensor>;

std::vector<double> values(const Tensor& t) { return contiguous(to(t, DType::F64)).to_vector<double>(); }

void expect_close(const Tensor& a, const std::vector<double>& b, double tolerance, const std::string& what) {
  const std::vector<double> av = values(a);
  ASSERT_EQ(av.size(), b.size()) << what;
  for (size_t i = 0; i < av.size(); ++i) ASSERT_NEAR(av[i], b[i], tolerance) << what << " at " << i;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Self-attention of the module holding `prefix`qkv / out_proj / relative_position_bias_table,
// by loops over x [B, N, d] (f64): token p attends to token q iff bias_row(p, q) >= 0, with the
// bias table's row bias_row(p, q) added to the logit.
std::vector<double> reference_attention(const nn::Module& m, const std::string& prefix, const Tensor& x, int64_t heads,
                                        const std::function<int64_t(int64_t, int64_t)>& bias_row) {
  const nn::StateDict sd = m.state_dict();
  const std::vector<double> wqkv = values(sd.at(prefix + "qkv.weight")), bqkv = values(sd.at(prefix + "qkv.bias")),
                            wo = values(sd.at(prefix + "out_proj.weight")), bo = values(sd.at(prefix + "out_proj.bias")),
                            table = values(sd.at(prefix + "relative_position_bias_table")), xv = values(x);
  const int64_t batch = x.size(0), n = x.size(1), d = x.size(2), dh = d / heads;
  std::vector<double> out(static_cast<size_t>(batch * n * d));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> qkv(static_cast<size_t>(n * 3 * d)), merged(static_cast<size_t>(n * d));
    for (int64_t t = 0; t < n; ++t)
      for (int64_t o = 0; o < 3 * d; ++o) {
        double s = bqkv[static_cast<size_t>(o)];
        for (int64_t i = 0; i < d; ++i) s += wqkv[static_cast<size_t>(o * d + i)] * xv[static_cast<size_t>((b * n + t) * d + i)];
        qkv[static_cast<size_t>(t * 3 * d + o)] = s;
      }
    auto at = [&](int64_t t, int64_t which, int64_t h, int64_t e) { return qkv[static_cast<size_t>(t * 3 * d + which * d + h * dh + e)]; };
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t p = 0; p < n; ++p) {
        std::vector<double> w(static_cast<size_t>(n), 0.0);
        double top = -1e300, total = 0;
        for (int64_t q = 0; q < n; ++q) {
          const int64_t row = bias_row(p, q);
          if (row < 0) continue;
          double s = 0;
          for (int64_t e = 0; e < dh; ++e) s += at(p, 0, h, e) * at(q, 1, h, e);
          w[static_cast<size_t>(q)] = s / std::sqrt(static_cast<double>(dh)) + table[static_cast<size_t>(row * heads + h)];
          top = std::max(top, w[static_cast<size_t>(q)]);
        }
        for (int64_t q = 0; q < n; ++q) {
          w[static_cast<size_t>(q)] = bias_row(p, q) < 0 ? 0 : std::exp(w[static_cast<size_t>(q)] - top);
          total += w[static_cast<size_t>(q)];
        }
        for (int64_t e = 0; e < dh; ++e) {
          double s = 0;
          for (int64_t q = 0; q < n; ++q) s += w[static_cast<size_t>(q)] / total * at(q, 2, h, e);
          merged[static_cast<size_t>(p * d + h * dh + e)] = s;
        }
      }
    for (int64_t t = 0; t < n; ++t)
      for (int64_t o = 0; o < d; ++o) {
        double s = bo[static_cast<size_t>(o)];
        for (int64_t i = 0; i < d; ++i) s += wo[static_cast<size_t>(o * d + i)] * merged[static_cast<size_t>(t * d + i)];
        out[static_cast<size_t>((b * n + t) * d + o)] = s;
      }
  }
  return out;
}

// The bias table row of offset (dy, dx) for a (2 gh - 1) x (2 gw - 1) table.
int64_t offset_row(int64_t dy, int64_t dx, int64_t gh, int64_t gw) { return (dy + gh - 1) * (2 * gw - 1) + dx + gw - 1; }

// Gives every bias table a spread of values (they start near 0, which would hide a wrong lookup).
void randomise_tables(nn::Module& m) {
  for (const auto& [name, t] : m.named_parameters())
    if (name.find("relative_position_bias_table") != std::string::npos) {
      NoGradGuard guard;
      copy_(t, randn(t.shape(), {.dtype = t.dtype()}));
    }
}

TEST(RelativeAttention, IndexValues) {
  const std::vector<int64_t> index = nn::relative_position_index(2, 3).to_vector<int64_t>();
  ASSERT_EQ(index.size(), 36u);
  const int64_t centre = offset_row(0, 0, 2, 3);  // 1 * 5 + 2 = 7
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(index[static_cast<size_t>(i * 6 + i)], centre);
  EXPECT_EQ(index[0 * 6 + 5], offset_row(-1, -2, 2, 3));  // token 0 = (0,0), token 5 = (1,2): row 0
  EXPECT_EQ(index[5 * 6 + 0], offset_row(1, 2, 2, 3));    // the opposite corner: row 14, the last
  EXPECT_EQ(index[0 * 6 + 5], 0);
  EXPECT_EQ(index[5 * 6 + 0], 14);
}

TEST(RelativeAttention, MatchesLoopsWithBiasAndMask) {
  const int64_t gh = 2, gw = 3, n = 6, d = 8, heads = 2;
  nn::RelativeAttention attn(d, heads, gh, gw);
  attn.to(DType::F64);
  randomise_tables(attn);
  const Tensor x = randn({4, n, d}, {.dtype = DType::F64});
  auto row = [&](int64_t p, int64_t q) { return offset_row(p / gw - q / gw, p % gw - q % gw, gh, gw); };
  expect_close(attn(x), reference_attention(attn, "", x, heads, row), 1e-10, "unmasked");
  EXPECT_EQ(attn.position_bias().shape(), (Shape{heads, n, n}));

  // Two mask groups: batch rows 0, 2 use group 0 (a band: |p - q| <= 1), rows 1, 3 group 1 (all).
  std::vector<int64_t> allowed(2 * n * n);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t q = 0; q < n; ++q) {
      allowed[static_cast<size_t>(p * n + q)] = std::abs(p - q) <= 1;
      allowed[static_cast<size_t>(n * n + p * n + q)] = 1;
    }
  const Tensor mask = from_vector<int64_t>(allowed, {2, n, n}, {.dtype = DType::Bool});
  const Tensor out = attn.forward(x, mask);
  for (int64_t b = 0; b < 4; ++b) {
    const Tensor xb = slice(x, 0, b, b + 1);
    auto masked_row = [&](int64_t p, int64_t q) { return b % 2 == 0 && std::abs(p - q) > 1 ? -1 : row(p, q); };
    expect_close(slice(out, 0, b, b + 1), reference_attention(attn, "", xb, heads, masked_row), 1e-10,
                 "masked, batch row " + std::to_string(b));
  }
  EXPECT_THROW(attn.forward(randn({3, n, d}, {.dtype = DType::F64}), mask), Error);  // 3 rows, 2 groups
  EXPECT_THROW(attn(randn({1, n + 1, d}, {.dtype = DType::F64})), Error);
  EXPECT_THROW(nn::RelativeAttention(6, 4, 2, 2), Error);
}

TEST(RelativeAttention, Gradcheck) {
  nn::RelativeAttention attn(4, 2, 2, 2);
  attn.to(DType::F64);
  const Tensor mask = from_vector<int64_t>({1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1}, {1, 4, 4},
                                           {.dtype = DType::Bool});
  Inputs inputs{testing::leaf({2, 4, 4})};
  for (const Tensor& p : attn.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return attn.forward(in[0], mask); }, inputs);
}

TEST(Windows, ShiftPartitionAndMergeValues) {
  const Tensor x = reshape(arange(0, 2 * 4 * 6 * 3, 1, {.dtype = DType::F64}), {2, 4, 6, 3});
  const std::vector<double> xv = values(x);
  auto at = [&](int64_t b, int64_t i, int64_t j, int64_t c) { return xv[static_cast<size_t>(((b * 4 + i) * 6 + j) * 3 + c)]; };
  // cyclic_shift is torch.roll: out[i][j] = x[(i - sh) mod H][(j - sw) mod W].
  const std::vector<double> rolled = values(nn::cyclic_shift(x, -1, 2));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(rolled[static_cast<size_t>(((1 * 4 + i) * 6 + j) * 3 + 2)], at(1, (i + 1) % 4, (j + 4) % 6, 2));
  expect_close(nn::cyclic_shift(nn::cyclic_shift(x, -1, 2), 1, -2), xv, 0, "shift round trip");

  const Tensor windows = nn::window_partition(x, 2);  // 2 x 3 windows of 2x2 per image
  ASSERT_EQ(windows.shape(), (Shape{12, 4, 3}));
  const std::vector<double> wv = values(windows);
  // Image 1, window (1, 2) is row 6 + 1 * 3 + 2 = 11; its token 3 is (1, 1) inside: pixel (3, 5).
  EXPECT_EQ(wv[static_cast<size_t>((11 * 4 + 3) * 3 + 1)], at(1, 3, 5, 1));
  EXPECT_EQ(wv[static_cast<size_t>((4 * 4 + 1) * 3 + 0)], at(0, 2, 3, 0));  // image 0, window (1, 1), token (0, 1)
  expect_close(nn::window_merge(windows, 2, 4, 6), xv, 0, "partition round trip");
  EXPECT_NE(error_of([&] { nn::window_partition(x, 4); }).find("a 4x4 window does not divide the 4x6 feature map"),
            std::string::npos);
}

TEST(Windows, ShiftedMaskValues) {
  const Tensor mask = nn::shifted_window_mask(4, 4, 2, 1);
  ASSERT_EQ(mask.shape(), (Shape{4, 4, 4}));
  ASSERT_EQ(mask.dtype(), DType::Bool);
  const std::vector<double> v = values(mask);
  auto allowed = [&](int64_t w) {
    int64_t s = 0;
    for (int64_t i = 0; i < 16; ++i) s += v[static_cast<size_t>(w * 16 + i)] != 0;
    return s;
  };
  // Window 0 lies in one region; windows 1 and 2 straddle the wrap in one axis (two regions of
  // two tokens); window 3 in both (four regions of one token: each token sees only itself).
  EXPECT_EQ(allowed(0), 16);
  EXPECT_EQ(allowed(1), 8);
  EXPECT_EQ(allowed(2), 8);
  EXPECT_EQ(allowed(3), 4);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(v[static_cast<size_t>(3 * 16 + i * 4 + i)], 1);
  EXPECT_EQ(v[1 * 16 + 0 * 4 + 1], 0);  // window 1: tokens (0, 2) and (0, 3) came from opposite edges
  EXPECT_EQ(v[1 * 16 + 0 * 4 + 2], 1);  // (0, 2) and (1, 2): same column, adjacent
  EXPECT_EQ(values(nn::shifted_window_mask(4, 4, 2, 0)), std::vector<double>(64, 1.0));
}

// ShiftedWindowAttention equals full attention over the map in which token p attends to q iff
// they share a window after the shift and were neighbours before it: the same side of the
// wrap in both axes (rows / columns < shift moved to the far edge). Written from that
// definition, with no roll, partition or region table.
void expect_window_attention_matches_reference(int64_t h, int64_t w, int64_t window, int64_t shift) {
  const int64_t d = 8, heads = 2;
  nn::ShiftedWindowAttention layer(d, heads, h, w, window, shift);
  layer.to(DType::F64);
  randomise_tables(layer);
  const Tensor x = randn({2, h * w, d}, {.dtype = DType::F64});
  auto row = [&](int64_t p, int64_t q) -> int64_t {
    const int64_t py = p / w, px = p % w, qy = q / w, qx = q % w;
    auto moved = [&](int64_t c, int64_t size) { return ((c - shift) % size + size) % size; };  // position after roll
    const bool same_window = moved(py, h) / window == moved(qy, h) / window && moved(px, w) / window == moved(qx, w) / window;
    const bool neighbours = (py < shift) == (qy < shift) && (px < shift) == (qx < shift);
    if (!same_window || !neighbours) return -1;
    return offset_row(py - qy, px - qx, window, window);
  };
  expect_close(layer(x), reference_attention(layer, "attn.", x, heads, row), 1e-10,
               "window " + std::to_string(window) + " shift " + std::to_string(shift));
}

TEST(ShiftedWindowAttention, MatchesFullAttentionWithRegionMask) {
  expect_window_attention_matches_reference(4, 4, 2, 0);
  expect_window_attention_matches_reference(4, 4, 2, 1);
  expect_window_attention_matches_reference(6, 9, 3, 1);
  expect_window_attention_matches_reference(8, 4, 4, 2);
}

TEST(ShiftedWindowAttention, ErrorsAndGradcheck) {
  EXPECT_NE(error_of([] { nn::ShiftedWindowAttention(8, 2, 6, 6, 4, 0); })
                .find("a 4x4 window does not divide the 6x6 feature map"),
            std::string::npos);
  EXPECT_THROW(nn::ShiftedWindowAttention(8, 2, 4, 4, 2, 2), Error);  // shift must be < window
  nn::ShiftedWindowAttention layer(4, 2, 4, 4, 2, 1);
  EXPECT_THROW(layer(randn({1, 15, 4})), Error);
  layer.to(DType::F64);
  Inputs inputs{testing::leaf({1, 16, 4})};
  for (const Tensor& p : layer.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return layer(in[0]); }, inputs);
}

TEST(PatchMerging, ValuesShapeAndGradcheck) {
  nn::PatchMerging merge(2, 4, 6);
  EXPECT_EQ(merge.num_parameters(), 2 * 8 + 8 * 4);
  merge.to(DType::F64);
  const Tensor x = randn({2, 24, 2}, {.dtype = DType::F64});
  const Tensor y = merge(x);
  ASSERT_EQ(y.shape(), (Shape{2, 6, 4}));
  // Output token (1, 2) of image 1 reads pixels (2, 4), (3, 4), (2, 5), (3, 5) in that order.
  const Tensor map = reshape(x, {2, 4, 6, 2});
  auto pixel = [&](int64_t i, int64_t j) { return select(select(select(map, 0, 1), 0, i), 0, j); };
  const Tensor gathered = cat({pixel(2, 4), pixel(3, 4), pixel(2, 5), pixel(3, 5)}, 0);
  const nn::StateDict sd = merge.state_dict();
  const Tensor expected = linear(layer_norm(gathered, {8}, sd.at("norm.weight"), sd.at("norm.bias")),
                                 sd.at("reduction.weight"), Tensor());
  expect_close(select(select(y, 0, 1), 0, 1 * 3 + 2), values(expected), 1e-12, "merged token");
  EXPECT_THROW(nn::PatchMerging(2, 5, 6), Error);
  Inputs inputs{testing::leaf({1, 24, 2})};
  for (const Tensor& p : merge.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return merge(in[0]); }, inputs);
}

TEST(Patches, UnfoldValuesAndRoundTrip) {
  const Tensor x = randn({2, 3, 4, 6}, {.dtype = DType::F64});
  const Tensor u = nn::unfold_patches(x, 2);
  ASSERT_EQ(u.shape(), (Shape{2, 4, 6, 3}));
  const std::vector<double> xv = values(x), uv = values(u);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t n = 0; n < 6; ++n)
        for (int64_t c = 0; c < 3; ++c) {
          const int64_t y = (n / 3) * 2 + k / 2, xx = (n % 3) * 2 + k % 2;
          ASSERT_EQ(uv[static_cast<size_t>(((b * 4 + k) * 6 + n) * 3 + c)],
                    xv[static_cast<size_t>(((b * 3 + c) * 4 + y) * 6 + xx)]);
        }
  expect_close(nn::fold_patches(u, 2, 4, 6), xv, 0, "fold(unfold(x))");
  const Tensor p = randn({2, 4, 6, 3}, {.dtype = DType::F64});
  expect_close(nn::unfold_patches(nn::fold_patches(p, 2, 4, 6), 2), values(p), 0, "unfold(fold(p))");
  EXPECT_NE(error_of([&] { nn::unfold_patches(x, 4); }).find("a 4x4 patch does not divide the 4x6 feature map"),
            std::string::npos);
  EXPECT_THROW(nn::fold_patches(u, 2, 4, 4), Error);
  EXPECT_GRADCHECK([](const Inputs& in) { return nn::fold_patches(nn::unfold_patches(in[0], 2) * 2.0, 2, 2, 4); },
                   Inputs{testing::leaf({1, 2, 2, 4})});
}

TEST(MBConv, ShapesCountsAndGradcheck) {
  // expand 1x1 4 -> 16 + BN, depthwise 3x3 + BN, SE 16 -> 1 -> 16 (biases), project 16 -> 6 + BN.
  nn::MBConv block(4, 6, 2, {.expansion = 4, .se_ratio = 0.25, .activation = "silu"});
  EXPECT_EQ(block.num_parameters(), (4 * 16 + 32) + (9 * 16 + 32) + (16 + 1 + 16 + 16) + (16 * 6 + 12));
  EXPECT_EQ(block(randn({2, 4, 7, 7})).shape(), (Shape{2, 6, 4, 4}));
  nn::MBConv same(4, 4, 1, {.expansion = 1});
  EXPECT_EQ(same(randn({2, 4, 5, 5})).shape(), (Shape{2, 4, 5, 5}));
  EXPECT_THROW(block(randn({2, 3, 7, 7})), Error);
  nn::MBConv small(2, 2, 1, {.expansion = 2, .se_ratio = 0.5, .activation = "tanh"});  // residual
  small.to(DType::F64);
  Inputs inputs{testing::leaf({2, 2, 3, 3})};
  for (const Tensor& p : small.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return small(in[0]); }, inputs);
}

TEST(MobileViTBlock, ShapeAndGradcheck) {
  nn::MobileViTBlock block(3, 4, 1, 2, 2, 1, "tanh");
  EXPECT_EQ(block(randn({2, 3, 4, 6})).shape(), (Shape{2, 3, 4, 6}));
  EXPECT_THROW(block(randn({2, 3, 5, 6})), Error);
  block.to(DType::F64);
  Inputs inputs{testing::leaf({2, 3, 2, 4})};
  for (const Tensor& p : block.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return block(in[0]); }, inputs);
}

// Tiny members of each family for 12x12 two-channel images.
std::shared_ptr<nn::Module> tiny(const std::string& family, int64_t classes) {
  if (family == "coatnet")
    return std::make_shared<nn::CoAtNet>(nn::CoAtNetOptions{.image_size = 12, .in_channels = 2, .num_classes = classes,
                                                            .stem_channels = 4, .conv_channels = {8}, .conv_depths = {1},
                                                            .attention_dims = {16, 16}, .attention_depths = {1, 1},
                                                            .head_dim = 8, .expansion = 2});
  if (family == "mobilevit")
    return std::make_shared<nn::MobileViT>(nn::MobileViTOptions{.image_size = 12, .in_channels = 2,
                                                                .num_classes = classes, .stem_channels = 4,
                                                                .channels = {8, 8}, .dims = {16, 16},
                                                                .depths = {1, 1}, .head_dim = 8, .expansion = 2});
  return std::make_shared<nn::Swin>(nn::SwinOptions{.image_size = 12, .in_channels = 2, .num_classes = classes,
                                                    .patch_size = 2, .embed_dim = 8, .depths = {2, 2}, .window = 3,
                                                    .head_dim = 8});
}

TEST(HybridModels, TinyShapes) {
  for (const std::string family : {"coatnet", "mobilevit", "swin"}) {
    auto model = tiny(family, 5);
    EXPECT_EQ((*model)(randn({3, 2, 12, 12})).shape(), (Shape{3, 5})) << family;
    EXPECT_THROW((*model)(randn({3, 2, 10, 10})), Error) << family;
    EXPECT_THROW((*model)(randn({3, 1, 12, 12})), Error) << family;
  }
  // CoAtNet 12x12: conv stage to 6x6, attention 6x6 (36 tokens, bias table 11 x 11), then 3x3.
  const nn::StateDict c = tiny("coatnet", 5)->state_dict();
  EXPECT_EQ(c.at("attn1.blocks.0.mixer.relative_position_bias_table").shape(), (Shape{121, 2}));
  EXPECT_EQ(c.at("attn2.blocks.0.mixer.relative_position_bias_table").shape(), (Shape{25, 2}));
  // MobileViT 12x12: stages at 6x6 (patch 2) and 3x3 (patch 1).
  const nn::StateDict m = tiny("mobilevit", 5)->state_dict();
  EXPECT_TRUE(m.count("stage2.1.blocks.0.mixer.qkv.weight"));
  // Swin 12x12: 6x6 map, windows 3 (shifted in block 1, masked), then 3x3 = one window, no shift.
  const nn::StateDict s = tiny("swin", 5)->state_dict();
  EXPECT_EQ(s.at("stage1.1.mixer.mask").shape(), (Shape{4, 9, 9}));
  EXPECT_FALSE(s.count("stage1.0.mixer.mask"));
  EXPECT_FALSE(s.count("stage2.1.mixer.mask"));
  EXPECT_EQ(s.at("merge1.reduction.weight").shape(), (Shape{16, 32}));
}

TEST(HybridModels, Errors) {
  EXPECT_NE(error_of([] { nn::Swin({.image_size = 20, .patch_size = 2, .window = 4}); })
                .find("window 4 does not divide stage 1's 10x10 feature map"),
            std::string::npos);
  EXPECT_THROW(nn::Swin({.image_size = 28, .patch_size = 2, .depths = {1, 1, 1}}), Error);  // 7x7 cannot merge
  EXPECT_THROW(nn::CoAtNet({.attention_dims = {}, .attention_depths = {}}), Error);
  EXPECT_NE(error_of([] { nn::CoAtNet({.attention_dims = {56}, .attention_depths = {1}}); })
                .find("width 56 is not a multiple of its 3 heads"),
            std::string::npos);
  EXPECT_THROW(nn::MobileViT({.channels = {8}, .dims = {16, 16}, .depths = {1}}), Error);
  EXPECT_THROW(nn::model_size(nn::kModelSizes), Error);
}

TEST(HybridModels, OverfitOneBatch) {
  for (const std::string family : {"coatnet", "mobilevit", "swin"}) {
    manual_seed(3);
    auto model = tiny(family, 4);
    const Tensor x = randn({8, 2, 12, 12});
    const Tensor y = from_vector<int64_t>({0, 1, 2, 3, 3, 2, 1, 0}, {8});
    Adam opt(model->parameters(), {.lr = 1e-2});
    double first = 0, last = 0;
    for (int step = 0; step < 80; ++step) {
      const Tensor loss = cross_entropy((*model)(x), y);
      if (step == 0) first = loss.item();
      last = loss.item();
      opt.zero_grad();
      backward(loss);
      opt.step();
    }
    EXPECT_GT(first, 1.0) << family;
    EXPECT_LT(last, 0.05) << family << " from " << first;
  }
}

// The ladder of nn/models/model_sizes.h at 28x28x1, 10 classes: the counts the headers quote.
TEST(ModelSizes, ParameterCounts) {
  std::vector<int64_t> coat, mvit, swin, vit, cnn;
  for (int64_t s = 0; s < nn::kModelSizes; ++s) {
    coat.push_back(nn::coatnet(s)->num_parameters());
    mvit.push_back(nn::mobilevit(s)->num_parameters());
    swin.push_back(nn::swin(s)->num_parameters());
    vit.push_back(nn::vit(s)->num_parameters());
    cnn.push_back(nn::cnn(s)->num_parameters());
  }
  EXPECT_EQ(coat, (std::vector<int64_t>{75384, 166063, 586082, 1306126, 3472306}));
  EXPECT_EQ(mvit, (std::vector<int64_t>{73154, 161950, 393818, 879490, 1987178}));
  EXPECT_EQ(swin, (std::vector<int64_t>{35664, 77898, 264258, 586846, 1536978}));
  EXPECT_EQ(vit, (std::vector<int64_t>{104970, 231178, 803082, 1794442, 4758538}));
  EXPECT_EQ(cnn, (std::vector<int64_t>{24058, 53362, 288170, 646522, 1922762}));
  for (const auto* counts : {&coat, &mvit, &swin, &vit, &cnn}) EXPECT_GE(counts->back(), 10 * counts->front());
}

TEST(ModelSizes, SmallestOfEachFamilyRunsOn28x28) {
  const Tensor x = randn({2, 1, 28, 28});
  EXPECT_EQ((*nn::coatnet(0))(x).shape(), (Shape{2, 10}));
  EXPECT_EQ((*nn::mobilevit(0))(x).shape(), (Shape{2, 10}));
  EXPECT_EQ((*nn::swin(0))(x).shape(), (Shape{2, 10}));
  EXPECT_EQ((*nn::swin(0, 32, 3, 100))(randn({1, 3, 32, 32})).shape(), (Shape{1, 100}));  // window 4 at 16x16
  EXPECT_EQ((*nn::coatnet(0, 32, 3, 100))(randn({1, 3, 32, 32})).shape(), (Shape{1, 100}));
  EXPECT_EQ((*nn::mobilevit(0, 32, 3, 100))(randn({1, 3, 32, 32})).shape(), (Shape{1, 100}));
}

}  // namespace
}  // namespace ember
