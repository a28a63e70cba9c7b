#include "nn/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian bytes: this host would need byte swapping");

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::F32, "F32"}, {DType::F64, "F64"}, {DType::BF16, "BF16"}, {DType::I64, "I64"}, {DType::Bool, "BOOL"}};

const char* safetensors_name(DType t) {
  for (const auto& [dtype, name] : kDTypeNames)
    if (dtype == t) return name;
  fail("safetensors: no name for dtype ", t);
}

std::optional<DType> parse_dtype(const std::string& s) {
  for (const auto& [dtype, name] : kDTypeNames)
    if (s == name) return dtype;
  return std::nullopt;
}

template <typename... Parts>
[[noreturn]] void file_error(const char* op, const std::string& path, const Parts&... parts) {
  fail(op, ": '", path, "': ", parts...);
}

// A tensor of the header: where its bytes lie in the data section.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by data_offsets
  Metadata metadata;
};

// Writes the chunks to a temporary file beside `path`, flushes it to disk, then renames it over
// `path`: rename is atomic, so readers see the old file or the whole new one.
void write_atomically(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks) {
  const char* op = "save_safetensors";
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) file_error(op, path, "cannot create '", tmp, "': ", std::strerror(errno));
  bool ok = true;
  for (const auto& [bytes, n] : chunks) ok = ok && (n == 0 || std::fwrite(bytes, 1, n, f) == n);
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    file_error(op, path, "write failed: ", std::strerror(err), " (the previous file, if any, is unchanged)");
  }
}

// One tensor's header entry, every field checked; `data_size` bounds the offsets.
Entry parse_entry(const char* op, const std::string& path, const std::string& name, const nlohmann::json& j,
                  uint64_t data_size) {
  auto bad = [&](const auto&... parts) { file_error(op, path, "tensor '", name, "': ", parts...); };
  if (!j.is_object() || j.size() != 3 || !j.contains("dtype") || !j.contains("shape") || !j.contains("data_offsets"))
    bad("expected exactly the fields dtype, shape and data_offsets, got ", j.dump());
  const nlohmann::json &dtype = j["dtype"], &shape = j["shape"], &offsets = j["data_offsets"];
  if (!dtype.is_string()) bad("dtype ", dtype.dump(), " is not a string");
  const std::optional<DType> t = parse_dtype(dtype.get<std::string>());
  if (!t) bad("unsupported dtype ", dtype.dump(), " (ember reads F32, F64, BF16, I64, BOOL)");
  const auto is_size = [](const nlohmann::json& v) { return v.is_number_unsigned(); };
  if (!shape.is_array() || !std::all_of(shape.begin(), shape.end(), is_size))
    bad("shape ", shape.dump(), " is not a list of non-negative integers");
  if (!offsets.is_array() || offsets.size() != 2 || !std::all_of(offsets.begin(), offsets.end(), is_size))
    bad("data_offsets ", offsets.dump(), " is not a pair of non-negative integers");
  Entry e{name, *t, {}, offsets[0].get<uint64_t>(), offsets[1].get<uint64_t>()};
  if (e.begin > e.end || e.end > data_size)
    bad("data_offsets ", offsets.dump(), " lie outside the data section of ", data_size, " bytes");
  uint64_t bytes = dtype_size(e.dtype);
  for (const nlohmann::json& d : shape) {
    const auto size = d.get<uint64_t>();
    if (__builtin_mul_overflow(bytes, size, &bytes) || size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      bad("shape ", shape.dump(), " is too large");
    e.shape.push_back(static_cast<int64_t>(size));
  }
  if (bytes != e.end - e.begin)
    bad(dtype_name(e.dtype), " shape ", e.shape, " needs ", bytes, " bytes but data_offsets ", offsets.dump(), " hold ",
        e.end - e.begin);
  return e;
}

Header parse_header(const char* op, const std::string& path, const std::string& text, uint64_t data_size) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) file_error(op, path, "the header is not a JSON object (corrupted file?)");
  Header h;
  for (const auto& [name, value] : j.items()) {
    if (name != "__metadata__") {
      h.entries.push_back(parse_entry(op, path, name, value, data_size));
      continue;
    }
    if (!value.is_object()) file_error(op, path, "__metadata__ is not an object");
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string()) file_error(op, path, "__metadata__ value of '", key, "' is not a string: ", v.dump());
      h.metadata.emplace(key, v.get<std::string>());
    }
  }
  std::sort(h.entries.begin(), h.entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t covered = 0;
  for (const Entry& e : h.entries) {
    if (e.begin != covered)
      file_error(op, path, "tensor '", e.name, "' starts at byte ", e.begin, " of the data section but the tensors before it ",
                 e.begin < covered ? "overlap it" : "leave a gap", " (they end at ", covered, ")");
    covered = e.end;
  }
  if (covered != data_size)
    file_error(op, path, "the tensors cover ", covered, " bytes but the data section has ", data_size);
  return h;
}

// Reads exactly n bytes, or fails naming `what`.
void read_exactly(const char* op, const std::string& path, std::ifstream& in, void* dst, uint64_t n,
                  const std::string& what) {
  if (n == 0) return;
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n) file_error(op, path, "the file ended while reading ", what);
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  const char* op = "save_safetensors";
  std::vector<std::pair<std::string, Tensor>> items;
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") file_error(op, path, "'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(name).second) file_error(op, path, "tensor name '", name, "' appears twice");
    if (!t.defined()) file_error(op, path, "tensor '", name, "' is undefined");
    items.emplace_back(name, contiguous(to(detach(t), Device::cpu())));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    const size_t sa = dtype_size(a.second.dtype()), sb = dtype_size(b.second.dtype());
    return sa != sb ? sa > sb : a.first < b.first;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<std::pair<const void*, size_t>> chunks(2);
  uint64_t offset = 0;
  for (const auto& [name, t] : items) {
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", safetensors_name(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    chunks.emplace_back(t.data_ptr(), bytes);
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    file_error(op, path, "tensor names and metadata must be valid UTF-8 (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t length = text.size();
  chunks[0] = {&length, sizeof length};
  chunks[1] = {text.data(), text.size()};
  write_atomically(path, chunks);
}

SafetensorsFile load_safetensors(const std::string& path) {
  const char* op = "load_safetensors";
  std::ifstream in(path, std::ios::binary);
  if (!in) file_error(op, path, "cannot open: ", std::strerror(errno));
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) file_error(op, path, "cannot read its size: ", ec.message());
  if (file_size < 8) file_error(op, path, "the file has ", file_size, " bytes, too few for the 8-byte header length (truncated?)");
  uint64_t length = 0;
  read_exactly(op, path, in, &length, 8, "the header length");
  if (length > kMaxHeaderBytes || length > file_size - 8)
    file_error(op, path, "the header length says ", length, " bytes but the file has ", file_size - 8,
               " after it (truncated, or not a safetensors file)");
  std::string text(static_cast<size_t>(length), '\0');
  read_exactly(op, path, in, text.data(), length, "the header");
  Header h = parse_header(op, path, text, file_size - 8 - length);

  SafetensorsFile out{.tensors = {}, .metadata = std::move(h.metadata)};
  for (const Entry& e : h.entries) {
    Tensor t = empty(e.shape, {.dtype = e.dtype});
    const uint64_t n = e.end - e.begin;
    read_exactly(op, path, in, t.data_ptr(), n, "tensor '" + e.name + "'");
    if (e.dtype == DType::Bool) {
      const auto* bytes = static_cast<const unsigned char*>(t.data_ptr());
      if (std::any_of(bytes, bytes + n, [](unsigned char b) { return b > 1; }))
        file_error(op, path, "BOOL tensor '", e.name, "' holds a byte other than 0 or 1");
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace ember::nn
