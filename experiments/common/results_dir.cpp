#include "experiments/common/results_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "tensor/error.h"

namespace ember::experiments {

namespace fs = std::filesystem;

void write_file_atomically(const fs::path& file, const std::string& content) {
  std::string pattern = (file.parent_path().empty() ? fs::path(".") : file.parent_path()).string() + "/." +
                        file.filename().string() + ".XXXXXX";
  const int fd = mkstemp(pattern.data());
  check(fd >= 0, file.string(), ": cannot create a temporary file beside it: ", std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      ::close(fd);
      ::unlink(pattern.c_str());
      fail(file.string(), ": write failed: ", why);
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    ::unlink(pattern.c_str());
    fail(file.string(), ": write failed: ", std::strerror(errno));
  }
  ::chmod(pattern.c_str(), 0644);
  if (::rename(pattern.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(pattern.c_str());
    fail(file.string(), ": cannot put the new file in place: ", why);
  }
}

ResultsDir::ResultsDir(fs::path out, bool keep_partial) : out_(std::move(out)) {
  check(!out_.empty(), "results: empty output folder");
  if (out_.filename().empty()) out_ = out_.parent_path();  // "results/x/" -> "results/x"
  staging_ = out_;
  staging_ += ".partial";
  std::error_code ec;
  check(!fs::exists(out_, ec) || fs::is_directory(out_, ec), out_.string(), ": exists and is not a folder");
  if (!keep_partial) fs::remove_all(staging_, ec);
  check(!ec, staging_.string(), ": cannot remove the old staging folder: ", ec.message());
  fs::create_directories(staging_, ec);
  check(!ec && fs::is_directory(staging_), staging_.string(), ": cannot create the staging folder: ", ec.message());
}

fs::path ResultsDir::file(const std::string& name) const {
  check(!name.empty() && name.find("..") == std::string::npos, "results: bad file name '", name, "'");
  fs::path p = staging_ / name;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  check(!ec, p.parent_path().string(), ": cannot create folder: ", ec.message());
  return p;
}

void ResultsDir::write_text(const std::string& name, const std::string& content) const {
  write_file_atomically(file(name), content);
}

void ResultsDir::commit() {
  check(!committed_, out_.string(), ": results already committed");
  std::error_code ec;
  fs::path old = out_;
  old += ".old-" + std::to_string(::getpid());
  const bool had_old = fs::exists(out_, ec);
  if (had_old) {
    fs::rename(out_, old, ec);
    check(!ec, out_.string(), ": cannot move the old results aside: ", ec.message());
  }
  fs::rename(staging_, out_, ec);
  if (ec) {
    const std::string why = ec.message();
    if (had_old) fs::rename(old, out_, ec);
    fail(out_.string(), ": cannot put the new results in place (", why, "); the new ones stay in ",
         staging_.string());
  }
  // Make the renames durable before the old results go.
  const int dir = ::open((out_.parent_path().empty() ? fs::path(".") : out_.parent_path()).c_str(), O_RDONLY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  if (had_old) fs::remove_all(old, ec);
  committed_ = true;
}

}  // namespace ember::experiments
