// Safetensors files and checkpoints: every dtype round trips, the header matches the format byte
// for byte, damaged or mismatched files throw naming the file and load nothing, a resumed run
// continues bit for bit, and Python reads our files and we read its (tests/nn/safetensors_interop.py).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "nn/nn.h"
#include "optim/optim.h"
#include "tests/testing.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using nn::load_safetensors;
using nn::save_safetensors;

// Each test gets a fresh directory, removed afterwards.
class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_checkpoint_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A safetensors file by hand: the 8-byte little-endian length, the header, the data.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

using ::ember::testing::expect_error;

// The fixture tests/nn/safetensors_interop.py spells out too.
nn::NamedTensors fixture() {
  std::vector<float> f32, bf16;
  std::vector<double> f64;
  for (int k = 0; k < 6; ++k) f32.push_back(static_cast<float>(k) * 0.25f - 0.5f);
  for (int k = 0; k < 3; ++k) f64.push_back((k + 1) / 3.0);
  for (int k = 0; k < 4; ++k) bf16.push_back(static_cast<float>(k) * 0.5f - 1.0f);
  return {{"f32", from_vector(f32, {2, 3})},
          {"f64", from_vector(f64, {3})},
          {"bf16", from_vector(bf16, {2, 2}, {.dtype = DType::BF16})},
          {"i64", from_vector<int64_t>({-2, 0, int64_t{1} << 40, 7}, {4})},
          {"mask", from_vector<int64_t>({1, 0, 1}, {3}, {.dtype = DType::Bool})},
          {"scalar", from_vector<float>({3.5f}, {})},
          {"empty", zeros({0, 2})}};
}

void expect_same(const Tensor& actual, const Tensor& expected, const std::string& name) {
  EXPECT_EQ(actual.dtype(), expected.dtype()) << name;
  EXPECT_EQ(actual.shape(), expected.shape()) << name;
  EXPECT_EQ(actual.to_vector<double>(), expected.to_vector<double>()) << name;
}

void expect_same_tensors(const nn::NamedTensors& actual, const nn::NamedTensors& expected) {
  std::map<std::string, Tensor> by_name(actual.begin(), actual.end());
  ASSERT_EQ(by_name.size(), expected.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(by_name.contains(name)) << name;
    expect_same(by_name[name], t, name);
  }
}

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

TEST_F(Checkpoint, EveryDtypeRoundTripsInLayoutOrder) {
  save_safetensors(path("f.safetensors"), fixture(), {{"source", "ember"}, {"note", "\xc3\xa9t\xc3\xa9"}});
  const nn::SafetensorsFile file = load_safetensors(path("f.safetensors"));
  expect_same_tensors(file.tensors, fixture());
  // Largest element size first, then by name: every tensor is aligned to its element size.
  EXPECT_EQ(names_of(file.tensors), (std::vector<std::string>{"f64", "i64", "empty", "f32", "scalar", "bf16", "mask"}));
  EXPECT_EQ(file.metadata, (nn::Metadata{{"note", "\xc3\xa9t\xc3\xa9"}, {"source", "ember"}}));
}

TEST_F(Checkpoint, NonContiguousTensorsAreWrittenInRowMajorOrder) {
  const Tensor base = randn({3, 4});
  save_safetensors(path("t.safetensors"), {{"t", transpose(base, 0, 1)}, {"s", slice(base, 1, 1, 4, 2)}});
  const nn::SafetensorsFile file = load_safetensors(path("t.safetensors"));
  expect_same_tensors(file.tensors, {{"t", clone(transpose(base, 0, 1))}, {"s", clone(slice(base, 1, 1, 4, 2))}});
}

TEST_F(Checkpoint, HeaderLayoutIsByteForByte) {
  save_safetensors(path("h.safetensors"),
                   {{"b", from_vector<int64_t>({1, 0}, {2}, {.dtype = DType::Bool})}, {"a", from_vector<float>({1, -2}, {2})}},
                   {{"k", "v"}});
  const std::string header =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"BOOL","shape":[2],"data_offsets":[8,10]}}  )";  // 134 bytes + 2 spaces of padding
  ASSERT_EQ(header.size(), 136u);
  const std::string expected = std::string("\x88\0\0\0\0\0\0\0", 8) + header +
                               std::string("\x00\x00\x80\x3f" "\x00\x00\x00\xc0" "\x01\x00", 10);
  EXPECT_EQ(read_bytes(path("h.safetensors")), expected);
}

TEST_F(Checkpoint, SaveIsAtomicAndAFailedSaveKeepsTheOldFile) {
  const std::string p = path("a.safetensors");
  save_safetensors(p, fixture());
  save_safetensors(p, {{"x", ones({2})}});  // replaces
  expect_same_tensors(load_safetensors(p).tensors, {{"x", ones({2})}});
  expect_error([&] { save_safetensors(p, {{"\xff", ones({3})}}); }, {"save_safetensors", p, "UTF-8"});
  expect_error([&] { save_safetensors(p, {{"y", ones({3})}, {"y", ones({1})}}); }, {p, "'y' appears twice"});
  expect_same_tensors(load_safetensors(p).tensors, {{"x", ones({2})}});
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1) << "a temporary file was left";
  const std::string missing_dir = path("no/such/dir/c.safetensors");
  expect_error([&] { save_safetensors(missing_dir, fixture()); }, {missing_dir, "cannot create"});
}

TEST_F(Checkpoint, DamagedFilesThrowNamingTheFileAndTheProblem) {
  const std::string p = path("d.safetensors");
  const std::string f32 = R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string eight(8, '\x01');
  struct Case {
    std::string bytes, problem;
  };
  const std::vector<Case> cases = {
      {"abc", "too few for the 8-byte header length"},
      {raw_file("{" + f32 + "}", eight).substr(0, 20), "the header length says"},
      {raw_file("{" + f32 + "}", eight.substr(0, 7)), "lie outside the data section of 7 bytes"},
      {raw_file("{" + f32 + "}", eight + "!"), "the tensors cover 8 bytes but the data section has 9"},
      {raw_file("#garbage#", ""), "the header is not valid JSON"},
      {raw_file("[1,2]", ""), "the header is an array, not a JSON object"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", eight), "lie outside the data section"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight), "data_offsets [8, 0] begin after they end"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                eight.substr(0, 6)),
       "tensor 'y' starts at byte 2 of the data section but the tensors before it overlap it"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "leave a gap"},
      {raw_file(R"({"x":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight), "unsupported dtype 'F16'"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight), "f32 shape [3] needs 12 bytes"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight), "a negative number -2 in shape"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight), "is too large"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[2]}})", eight), "expected exactly the fields dtype, shape and data_offsets"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", eight), "unknown field 'extra'"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight), "data_offsets has 1 entries, not 2"},
      {raw_file(R"({"x":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}})", std::string(7, '\0') + '\x02'),
       "BOOL tensor 'x' holds a byte other than 0 or 1"},
      {raw_file(R"({"__metadata__":{"step":3}})", ""), "__metadata__ value of 'step' is a number, not a string"},
      {raw_file(R"({"__metadata__":[]})", ""), "__metadata__ is an array, not an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    write_bytes(p, c.bytes);
    expect_error([&] { load_safetensors(p); }, {"load_safetensors: '" + p + "'", c.problem});
  }
  expect_error([&] { load_safetensors(path("absent.safetensors")); }, {"absent.safetensors", "cannot open"});
}

TEST_F(Checkpoint, HandBuiltFileWithUnpaddedHeaderAndEmptyTensorsLoads) {
  write_bytes(path("e.safetensors"),
              raw_file(R"({"e":{"dtype":"I64","shape":[0],"data_offsets":[0,0]},"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})",
                       std::string("\0\0\0\0\0\0\xf8\x3f", 8)));
  expect_same_tensors(load_safetensors(path("e.safetensors")).tensors,
                      {{"e", zeros({0}, {.dtype = DType::I64})}, {"s", scalar(1.5, {.dtype = DType::F64})}});
}

// A model, its optimizer, and a training loop whose batches and dropout masks come from the
// default generator, so a resumed run matches only if the generator's state is restored.
struct Training {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<AdamW> optimizer;

  explicit Training(uint64_t seed, int64_t hidden = 16) {
    manual_seed(seed);
    model = nn::MLP({.in_features = 4, .hidden = {hidden, hidden}, .out_features = 3, .dropout = 0.3});
    optimizer = std::make_unique<AdamW>(model->parameters(), AdamOptions{.lr = 1e-2, .weight_decay = 0.01});
    optimizer->set_schedule(cosine_schedule(20, 3));
  }

  void train(int64_t from, int64_t to) {
    for (int64_t step = from; step < to; ++step) {
      const Tensor x = randn({8, 4});
      const Tensor y = randint(0, 3, {8});
      const Tensor loss = cross_entropy(model->forward(x), y);
      optimizer->zero_grad();
      backward(loss);
      optimizer->step();
    }
  }
};

// Every parameter and buffer, and every optimizer state tensor, by name (copies).
std::map<std::string, std::vector<double>> snapshot(const Training& run) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, t] : run.model->state_dict()) out[name] = t.to_vector<double>();
  for (const auto& [name, t] : run.optimizer->state_tensors()) out["optim." + name] = t.to_vector<double>();
  return out;
}

TEST_F(Checkpoint, ResumedRunContinuesBitForBit) {
  Training uninterrupted(1);
  uninterrupted.train(0, 20);

  Training first_half(1);
  first_half.train(0, 10);
  const GeneratorState rng_at_save = default_generator();
  nn::save_checkpoint(path("c.safetensors"), *first_half.model, first_half.optimizer.get(), 10, {{"run", "demo"}});

  Training resumed(77);  // other weights, other generator state: the checkpoint must replace them all
  ASSERT_NE(snapshot(resumed), snapshot(first_half));
  const nn::CheckpointInfo info = nn::load_checkpoint(path("c.safetensors"), *resumed.model, resumed.optimizer.get());
  EXPECT_EQ(info.step, 10);
  EXPECT_EQ(info.rng.seed, rng_at_save.seed);
  EXPECT_EQ(info.rng.offset, rng_at_save.offset);
  EXPECT_EQ(info.metadata.at("run"), "demo");
  EXPECT_EQ(default_generator().offset, rng_at_save.offset);
  EXPECT_EQ(snapshot(resumed), snapshot(first_half));
  EXPECT_EQ(resumed.optimizer->step_count, 10);
  resumed.train(info.step, 20);
  EXPECT_EQ(snapshot(resumed), snapshot(uninterrupted));

  // The generator's state matters: resuming with another one gives other dropout masks and batches.
  Training wrong_rng(77);
  nn::load_checkpoint(path("c.safetensors"), *wrong_rng.model, wrong_rng.optimizer.get());
  manual_seed(5);
  wrong_rng.train(info.step, 20);
  EXPECT_NE(snapshot(wrong_rng), snapshot(uninterrupted));
}

TEST_F(Checkpoint, MismatchedOrDamagedCheckpointLoadsNothing) {
  Training saved(1);
  saved.train(0, 2);
  const std::string good = path("good.safetensors");
  nn::save_checkpoint(good, *saved.model, saved.optimizer.get(), 2);
  const std::string weights_only = path("weights.safetensors");
  nn::save_checkpoint(weights_only, *saved.model, nullptr, 2);
  const std::string truncated = path("truncated.safetensors");
  write_bytes(truncated, read_bytes(good).substr(0, read_bytes(good).size() - 5));
  // Hand-made files: the saved weights plus `extra` tensors, with `metadata`.
  const nn::StateDict state = saved.model->state_dict();
  auto write = [&](const std::string& name, const nn::NamedTensors& extra, const nn::Metadata& metadata) {
    nn::NamedTensors all(state.begin(), state.end());
    all.insert(all.end(), extra.begin(), extra.end());
    save_safetensors(path(name), all, metadata);
    return path(name);
  };
  const nn::Metadata meta = {{"step", "2"}, {"rng_seed", "1"}, {"rng_offset", "0"}};
  const Tensor step_count = scalar(2, {.dtype = DType::I64});
  // The saved optimizer state with `name` replaced by `value` (dropped when undefined).
  auto optim_with = [&](const std::string& name, const Tensor& value) {
    nn::NamedTensors out;
    for (const auto& [n, t] : saved.optimizer->state_tensors())
      if (n != name) out.emplace_back("optim." + n, t);
    if (value.defined()) out.emplace_back("optim." + name, value);
    return out;
  };
  // The weights with "0.weight" as i64 (integer data where a float weight belongs).
  nn::NamedTensors i64_weights;
  for (const auto& [n, t] : state)
    i64_weights.emplace_back(n, n == "0.weight" ? to(t, DType::I64) : t);
  save_safetensors(path("i64"), i64_weights, meta);

  struct Case {
    std::string file;
    int64_t hidden;
    bool with_optimizer;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {good, 12, true, "'0.weight' has shape [16,4] in the state dict but [12,4] in the model"},
      {good, 12, false, "has shape [16,4] in the state dict but [12,4]"},
      {truncated, 16, true, "lie outside the data section"},
      {weights_only, 16, true, "the file holds no optimizer state"},
      {write("plain", {}, {}), 16, false, "__metadata__ has no 'step'"},
      {write("offset", {}, {{"step", "2"}, {"rng_seed", "1"}, {"rng_offset", "x"}}), 16, false,
       "__metadata__ 'rng_offset' is 'x', not an integer"},
      {write("index", {{"optim.step_count", step_count}, {"optim.9.exp_avg", zeros({2})}}, meta), 16, true,
       "state '9.exp_avg' names parameter 9 but there are 6"},
      {write("form", {{"optim.step_count", step_count}, {"optim.exp_avg", zeros({2})}}, meta), 16, true,
       "state 'exp_avg' is not of the form <parameter index>.<state>"},
      {write("count", {{"optim.step_count", zeros({})}}, meta), 16, true, "state 'step_count' is f32 [], not an i64 scalar"},
      {write("stray", {{"stray.weight", zeros({2})}}, meta), 16, false, "unexpected key 'stray.weight'"},
      // Incomplete or ill-formed optimizer state: refused whole, before the model changes.
      {write("no_exp_avg", optim_with("0.exp_avg", Tensor()), meta), 16, true, "state '0.exp_avg' is missing"},
      {write("no_step", optim_with("0.step", Tensor()), meta), 16, true, "state '0.step' is missing"},
      {write("step0", optim_with("0.step", scalar(0, {.dtype = DType::I64})), meta), 16, true,
       "state '0.step' is 0, outside [1, step_count = 2]"},
      {write("shape", optim_with("0.exp_avg", zeros({3})), meta), 16, true, "state '0.exp_avg' is f32 [3] but parameter 0 is f32 [16,4]"},
      {write("dtype", optim_with("0.exp_avg_sq", zeros({16, 4}, {.dtype = DType::F64})), meta), 16, true,
       "state '0.exp_avg_sq' is f64 [16,4] but parameter 0 is f32 [16,4]"},
      // Integer data into float weights: refused unless asked for.
      {path("i64"), 16, false, "'0.weight' is i64 in the state dict but f32 in the model"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    Training target(3, c.hidden);
    target.train(0, 1);
    const auto before = snapshot(target);
    const GeneratorState rng = default_generator();
    expect_error([&] { nn::load_checkpoint(c.file, *target.model, c.with_optimizer ? target.optimizer.get() : nullptr); },
                 {c.file, c.problem});
    EXPECT_EQ(snapshot(target), before);
    EXPECT_EQ(default_generator().offset, rng.offset);
    EXPECT_EQ(target.optimizer->step_count, 1);
  }
  // The weights of a full checkpoint load without an optimizer; the optimizer state is ignored.
  Training weights(3);
  nn::load_checkpoint(good, *weights.model);
  for (const auto& [name, t] : saved.model->state_dict())
    EXPECT_EQ(weights.model->state_dict().at(name).to_vector<double>(), t.to_vector<double>()) << name;
}

// Hostile headers: each throws an ember::Error naming the problem, quickly and in little memory,
// without a crash (a value nested 100,000 deep once overflowed the stack in json::dump()).
TEST_F(Checkpoint, HostileHeadersThrowWithoutCrashing) {
  const std::string p = path("h.safetensors");
  const std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
  const std::string big_name(5000, 'n');
  struct Case {
    std::string bytes, problem;
  };
  const std::vector<Case> cases = {
      {raw_file(R"({"x":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,0]}})", ""), "shape holds an array"},
      {raw_file(R"({"x":)" + deep + "}", ""), "tensor 'x' is an array, not an object"},
      {raw_file(R"({"__metadata__":{"k":)" + deep + "}}", ""), "__metadata__ value of 'k' is an array"},
      {raw_file(deep, ""), "the header is an array, not a JSON object"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})" + std::string(1, '\0') + "garbage", "abcd"),
       "the header holds a NUL byte at byte 54"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                "abcdefgh"),
       "key 'x' appears twice"},
      {raw_file(R"({"x":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})", "abcd"),
       "field 'dtype' appears twice in tensor 'x'"},
      {raw_file(R"({"__metadata__":{"a":"1","a":"2"}})", ""), "field 'a' appears twice in __metadata__"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}})", ""),
       "is too large"},
      {raw_file(R"({"x":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,0]}})", ""), "not an integer below 2^64"},
      {raw_file(R"({")" + big_name + R"(":{"dtype":"F99","shape":[],"data_offsets":[0,0]}})", ""), "... (5000 bytes)"},
      {std::string("\xff\xff\xff\x00\x00\x00\x00\x00", 8) + std::string(20 << 20, '['), "more than the 8388608 allowed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    write_bytes(p, c.bytes);
    expect_error([&] { load_safetensors(p); }, {"load_safetensors: '" + p + "'", c.problem});
  }
  // A message quotes at most 80 bytes of a name, never the whole input.
  write_bytes(p, cases[10].bytes);
  try {
    load_safetensors(p);
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u) << e.what();
  }
  // Not a regular file: refused at once (a FIFO used to block the loader forever).
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_error([&] { load_safetensors(fifo); }, {"not a regular file"});
  expect_error([&] { load_safetensors(dir_.string()); }, {"not a regular file"});
}

// Many threads saving different tensors to one path: the file that remains loads and equals one
// of them exactly, no temporary is left behind, and the file keeps its mode.
TEST_F(Checkpoint, ConcurrentSavesToOnePathLeaveOneWholeFile) {
  const std::string p = path("c.safetensors");
  save_safetensors(p, {{"w", zeros({1})}});
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  constexpr int kThreads = 8, kSaves = 5;
  std::vector<nn::NamedTensors> versions;
  for (int i = 0; i < kThreads; ++i)
    versions.push_back({{"w", full({1000 + 100 * i}, i)}, {"b", full({i + 1}, -i, {.dtype = DType::F64})}});
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < kSaves; ++k) save_safetensors(p, versions[static_cast<size_t>(i)], {{"writer", std::to_string(i)}});
    });
  for (std::thread& t : threads) t.join();
  const nn::SafetensorsFile file = load_safetensors(p);
  const int writer = std::stoi(file.metadata.at("writer"));
  expect_same_tensors(file.tensors, versions[static_cast<size_t>(writer)]);
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir_)) left.push_back(entry.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"c.safetensors"});
  EXPECT_EQ(fs::status(p).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  // A failed save leaves no temporary either.
  EXPECT_THROW(save_safetensors(path("no/such/dir/x.safetensors"), versions[0]), Error);
}

TEST_F(Checkpoint, ReservedMetadataKeysAreRefused) {
  Training run(1);
  expect_error([&] { nn::save_checkpoint(path("r.safetensors"), *run.model, nullptr, 0, {{"step", "3"}}); },
               {"save_checkpoint", "metadata key 'step' is reserved"});
}

// ---- interop with Python -----------------------------------------------------------------

// The interpreter: $EMBER_PYTHON, else Debian's (which has python3-torch), else python3 on PATH.
std::string python() {
  if (const char* env = std::getenv("EMBER_PYTHON")) return env;
  return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

struct ScriptResult {
  int status;
  std::string output;
};

ScriptResult run_script(const std::string& args) {
  const std::string script = (fs::path(__FILE__).parent_path() / "safetensors_interop.py").string();
  const std::string command = python() + " '" + script + "' " + args + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

#define SKIP_WITHOUT_PYTHON()                                                  \
  do {                                                                         \
    if (std::system((python() + " -c '' >/dev/null 2>&1").c_str()) != 0)      \
      GTEST_SKIP() << "no Python interpreter (" << python() << ")";            \
  } while (0)

TEST_F(Checkpoint, PythonReadsOurFile) {
  SKIP_WITHOUT_PYTHON();
  save_safetensors(path("cpp.safetensors"), fixture(), {{"source", "ember"}});
  const ScriptResult r = run_script("check '" + path("cpp.safetensors") + "' ember");
  std::cout << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(Checkpoint, WeReadPythonsFile) {
  SKIP_WITHOUT_PYTHON();
  const ScriptResult r = run_script("write '" + path("py.safetensors") + "'");
  std::cout << r.output;
  ASSERT_EQ(r.status, 0) << r.output;
  const nn::SafetensorsFile file = load_safetensors(path("py.safetensors"));
  expect_same_tensors(file.tensors, fixture());
  EXPECT_EQ(file.metadata, (nn::Metadata{{"source", "python"}}));
}

TEST_F(Checkpoint, PyTorchModelTakesTheCheckpointsWeightsByName) {
  SKIP_WITHOUT_PYTHON();
  manual_seed(4);
  auto model = nn::MLP({.in_features = 4, .hidden = {8}, .out_features = 3, .dropout = 0.1});
  AdamW optimizer(model->parameters());
  const Tensor x = randn({5, 4});
  backward(sum(model->forward(x)));
  optimizer.step();
  model->eval();
  nn::save_checkpoint(path("mlp.safetensors"), *model, &optimizer, 1);
  save_safetensors(path("io.safetensors"), {{"input", x}, {"output", model->forward(x)}});
  const ScriptResult r = run_script("model '" + path("mlp.safetensors") + "' '" + path("io.safetensors") + "'");
  std::cout << r.output;
  if (r.status == 77) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace ember
