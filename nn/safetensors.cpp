#include "nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
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
#include <sstream>
#include <tuple>

#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian bytes: this host would need byte swapping");

// Headers of real checkpoints hold about 100-150 bytes per tensor (name, dtype, shape, offsets):
// GPT-2 XL's ~580 tensors take ~60 KB, and 8 MB allows ~60,000 tensors, far more than any model
// here. The reference reader allows 100 MB, which let a 40 MB header of brackets take 1.7 GB
// while parsing. Parsing is event by event (SAX) straight into Entries, never a JSON tree, so
// its memory is a small multiple of the header: the worst valid 8 MB header (141,578 empty
// tensors) loads in 1 s with a peak of 98 MB, all of it the tensors themselves; brackets and
// other nesting stop at depth 3.
constexpr uint64_t kMaxHeaderBytes = 8u << 20;
// Checkpoints keep a handful of metadata keys; the bound keeps a header of tiny keys from
// taking ~20 bytes of map per byte of input.
constexpr size_t kMaxMetadataKeys = 4096;
// The longest name or text quoted in an error message.
constexpr size_t kMaxQuoted = 80;

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

// `text` for an error message, cut to kMaxQuoted characters: input is never echoed unbounded.
std::string quote_input(const std::string& text) {
  if (text.size() <= kMaxQuoted) return "'" + text + "'";
  return "'" + text.substr(0, kMaxQuoted) + "'... (" + std::to_string(text.size()) + " bytes)";
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

// The process's umask, read without changing it (umask() would race with other threads).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("Umask:")) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8) & 0777);
  return 022;
}

// Writes the chunks to a unique temporary file beside `path` (mkstemp: threads and processes
// saving the same path never share one), flushes it to disk, gives it the mode the old file had
// (or 0666 less the umask for a new one), renames it over `path` and flushes the directory:
// rename is atomic, so readers see the old file or the whole new one, and after a crash the
// new name is on disk. On any failure the temporary is removed and `path` is unchanged.
void write_atomically(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks) {
  const char* op = "save_safetensors";
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string tmp = (dir / (target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) file_error(op, path, "cannot create a temporary file in '", dir.string(), "': ", std::strerror(errno));
  bool ok = true;
  int err = 0;
  auto failed = [&] {
    if (ok) err = errno;
    ok = false;
  };
  for (const auto& [bytes, n] : chunks) {
    const auto* p = static_cast<const char*>(bytes);
    for (size_t done = 0; ok && done < n;) {
      const ssize_t w = ::write(fd, p + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) failed();
      else done += static_cast<size_t>(w);
    }
  }
  struct stat old{};
  mode_t mode;
  if (::stat(path.c_str(), &old) == 0) {
    mode = old.st_mode & 07777;
  } else {
    mode = 0666 & ~current_umask();
  }
  if (ok && ::fchmod(fd, mode) != 0) failed();
  if (ok && ::fsync(fd) != 0) failed();
  if (::close(fd) != 0 && ok) failed();
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) failed();
  if (!ok) {
    ::unlink(tmp.c_str());
    file_error(op, path, "write failed: ", std::strerror(err), " (the previous file, if any, is unchanged)");
  }
  // The rename is durable once the directory is flushed; a failure here leaves the new file in place.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// The header's JSON, read event by event into Entries (nlohmann's SAX parser is iterative): no
// JSON tree is built, nothing is nested deeper than the format allows (root object, tensor
// object, shape array), duplicate keys and unknown fields are refused, and messages quote at
// most kMaxQuoted characters of the input.
class HeaderReader {
 public:
  explicit HeaderReader(uint64_t data_size) : data_size_(data_size) {}

  std::string error;  // set when a handler returns false
  std::vector<Entry> entries;
  Metadata metadata;

  // A tensor being read, with the raw values of its fields.
  struct Partial {
    std::string name;
    std::optional<std::string> dtype;
    std::optional<std::vector<uint64_t>> shape, offsets;
  };

  bool null() { return value("null"); }
  bool boolean(bool) { return value("a boolean"); }
  bool number_integer(int64_t v) {
    if (in_array_) return stop("a negative number ", v, " in ", field_, " (expected non-negative integers)");
    return value("a number");
  }
  bool number_unsigned(uint64_t v) {
    if (in_array_) {
      if (array_.size() >= 64) return stop(field_, " has more than 64 entries");
      array_.push_back(v);
      return true;
    }
    return value("a number");
  }
  bool number_float(double, const std::string& text) {
    if (in_array_) return stop(field_, " holds ", quote_input(text), ", not an integer below 2^64");
    return value("a number");
  }
  bool binary(nlohmann::json::binary_t&) { return value("binary data"); }
  bool string(std::string& v) {
    if (depth_ == 2 && in_metadata_) {
      if (metadata.size() >= kMaxMetadataKeys) return stop("__metadata__ has more than ", kMaxMetadataKeys, " keys");
      metadata.emplace(key_, std::move(v));
      return true;
    }
    if (depth_ == 2 && key_ == "dtype") {
      tensor_.dtype = std::move(v);
      return true;
    }
    return value("a string");
  }
  bool start_object(size_t) {
    if (depth_ == 0) return ++depth_, true;
    if (depth_ == 1) {
      ++depth_;
      in_metadata_ = key_ == "__metadata__";
      tensor_ = Partial{.name = key_, .dtype = {}, .shape = {}, .offsets = {}};
      keys_.clear();
      return true;
    }
    return value("an object");
  }
  bool key(std::string& k) {
    if (!(depth_ == 1 ? root_keys_ : keys_).insert(k).second)
      return stop(depth_ == 1 ? "key " : "field ", quote_input(k), " appears twice", where());
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    if (depth_-- == 1) return true;  // the root: done
    if (in_metadata_) return in_metadata_ = false, true;
    return finish_tensor();
  }
  bool start_array(size_t) {
    if (depth_ == 2 && !in_metadata_ && (key_ == "shape" || key_ == "data_offsets")) {
      in_array_ = true;
      field_ = key_;
      array_.clear();
      ++depth_;
      return true;
    }
    return value("an array");
  }
  bool end_array() {
    in_array_ = false;
    --depth_;
    (field_ == "shape" ? tensor_.shape : tensor_.offsets) = std::move(array_);
    array_ = {};
    return true;
  }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception&) {
    if (error.empty()) error = "the header is not valid JSON (byte " + std::to_string(position) + "; corrupted file?)";
    return false;
  }

 private:
  template <typename... Parts>
  bool stop(const Parts&... parts) {
    std::ostringstream os;
    (os << ... << parts);
    error = os.str();
    return false;
  }
  std::string where() const {
    if (depth_ <= 1) return "";
    return in_metadata_ ? " in __metadata__" : " in tensor " + quote_input(tensor_.name);
  }
  // A value where the format has none of its kind.
  bool value(const char* kind) {
    if (depth_ == 0) return stop("the header is ", kind, ", not a JSON object");
    if (depth_ == 1) return stop(key_ == "__metadata__" ? "__metadata__" : "tensor " + quote_input(key_), " is ", kind, ", not an object");
    if (in_metadata_) return stop("__metadata__ value of ", quote_input(key_), " is ", kind, ", not a string");
    if (in_array_) return stop("tensor ", quote_input(tensor_.name), ": ", field_, " holds ", kind, ", not a non-negative integer");
    if (key_ == "dtype" || key_ == "shape" || key_ == "data_offsets")
      return stop("tensor ", quote_input(tensor_.name), ": ", key_, " is ", kind);
    return stop("tensor ", quote_input(tensor_.name), ": unknown field ", quote_input(key_),
                " (expected exactly dtype, shape and data_offsets)");
  }
  bool finish_tensor() {
    const std::string name = quote_input(tensor_.name);
    for (const auto& k : keys_)
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        return stop("tensor ", name, ": unknown field ", quote_input(k), " (expected exactly dtype, shape and data_offsets)");
    if (!tensor_.dtype || !tensor_.shape || !tensor_.offsets)
      return stop("tensor ", name, ": expected exactly the fields dtype, shape and data_offsets");
    const std::optional<DType> t = parse_dtype(*tensor_.dtype);
    if (!t) return stop("tensor ", name, ": unsupported dtype ", quote_input(*tensor_.dtype), " (ember reads F32, F64, BF16, I64, BOOL)");
    const std::vector<uint64_t>& off = *tensor_.offsets;
    if (off.size() != 2) return stop("tensor ", name, ": data_offsets has ", off.size(), " entries, not 2");
    Entry e{tensor_.name, *t, {}, off[0], off[1]};
    if (e.begin > e.end)
      return stop("tensor ", name, ": data_offsets [", e.begin, ", ", e.end, "] begin after they end");
    if (e.end > data_size_)
      return stop("tensor ", name, ": data_offsets [", e.begin, ", ", e.end, "] lie outside the data section of ",
                  data_size_, " bytes");
    for (uint64_t d : *tensor_.shape) {
      if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return stop("tensor ", name, ": shape size ", d, " is too large");
      e.shape.push_back(static_cast<int64_t>(d));
    }
    int64_t bytes = 0;
    try {
      bytes = checked_bytes(e.shape, dtype_size(e.dtype), "shape");
    } catch (const Error&) {
      return stop("tensor ", name, ": shape ", e.shape, " is too large (its sizes, strides or bytes overflow int64)");
    }
    if (static_cast<uint64_t>(bytes) != e.end - e.begin)
      return stop("tensor ", name, ": ", dtype_name(e.dtype), " shape ", e.shape, " needs ", bytes,
                  " bytes but data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin);
    entries.push_back(std::move(e));
    return true;
  }

  uint64_t data_size_;
  int depth_ = 0;
  bool in_metadata_ = false, in_array_ = false;
  std::string key_, field_;
  std::set<std::string> keys_, root_keys_;  // the fields of the current object; the root's keys
  std::vector<uint64_t> array_;
  Partial tensor_;
};

Header parse_header(const char* op, const std::string& path, const std::string& text, uint64_t data_size) {
  if (const size_t nul = text.find('\0'); nul != std::string::npos)
    file_error(op, path, "the header holds a NUL byte at byte ", nul, " (corrupted file?)");
  HeaderReader reader(data_size);
  if (!nlohmann::json::sax_parse(text, &reader)) {
    if (reader.error.empty()) reader.error = "the header is not valid JSON (corrupted file?)";
    file_error(op, path, reader.error);
  }
  Header h{std::move(reader.entries), std::move(reader.metadata)};
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

// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly n bytes at the current position, or fails naming `what`.
void read_exactly(const char* op, const std::string& path, int fd, void* dst, uint64_t n, const std::string& what) {
  auto* p = static_cast<char*>(dst);
  for (uint64_t done = 0; done < n;) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - done, 1u << 30));
    const ssize_t r = ::read(fd, p + done, chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) file_error(op, path, "read error while reading ", what, ": ", std::strerror(errno));
    if (r == 0) file_error(op, path, "the file ended while reading ", what);
    done += static_cast<uint64_t>(r);
  }
}

SafetensorsFile load_file(const char* op, const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the file type is checked next.
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) file_error(op, path, "cannot open: ", std::strerror(errno));
  struct stat st{};
  if (::fstat(file.fd, &st) != 0) file_error(op, path, "cannot read its size: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) file_error(op, path, "not a regular file (a directory, FIFO, socket or device)");
  const int flags = ::fcntl(file.fd, F_GETFL);
  if (flags >= 0) ::fcntl(file.fd, F_SETFL, flags & ~O_NONBLOCK);
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) file_error(op, path, "the file has ", file_size, " bytes, too few for the 8-byte header length (truncated?)");
  uint64_t length = 0;
  read_exactly(op, path, file.fd, &length, 8, "the header length");
  if (length > file_size - 8)
    file_error(op, path, "the header length says ", length, " bytes but the file has ", file_size - 8,
               " after it (truncated, or not a safetensors file)");
  if (length > kMaxHeaderBytes)
    file_error(op, path, "the header length says ", length, " bytes, more than the ", kMaxHeaderBytes,
               " allowed (real headers take ~150 bytes per tensor; not a checkpoint?)");
  std::string text(static_cast<size_t>(length), '\0');
  read_exactly(op, path, file.fd, text.data(), length, "the header");
  Header h = parse_header(op, path, text, file_size - 8 - length);
  text = std::string();

  SafetensorsFile out{.tensors = {}, .metadata = std::move(h.metadata)};
  for (const Entry& e : h.entries) {
    Tensor t = empty(e.shape, {.dtype = e.dtype});
    const uint64_t n = e.end - e.begin;
    read_exactly(op, path, file.fd, t.data_ptr(), n, "tensor " + quote_input(e.name));
    if (e.dtype == DType::Bool) {
      const auto* bytes = static_cast<const unsigned char*>(t.data_ptr());
      if (std::any_of(bytes, bytes + n, [](unsigned char b) { return b > 1; }))
        file_error(op, path, "BOOL tensor ", quote_input(e.name), " holds a byte other than 0 or 1");
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
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
  try {
    return load_file(op, path);
  } catch (const std::bad_alloc&) {  // a file too large for this machine's memory: an error, not a crash
    file_error(op, path, "out of memory while reading the file");
  } catch (const std::length_error&) {
    file_error(op, path, "out of memory while reading the file");
  }
}

}  // namespace ember::nn
