#pragma once
// A results folder that changes all at once. A run writes into a staging folder beside the
// final one (`<out>.partial`); commit() moves the old results aside, renames the staging folder
// into place and removes the old ones, so a reader sees the old results or the new ones, never
// a mix, and a run that fails leaves the old results as they were. The staging folder also
// holds the run's journal (records.jsonl, one line per finished job), which lets an interrupted
// run resume where it stopped.
#include <filesystem>
#include <string>

namespace ember::experiments {

class ResultsDir {
 public:
  // Creates (or, with keep_partial, keeps) the staging folder `<out>.partial`. Throws
  // ember::Error naming the folder when it cannot be created, or when `out` exists and is not
  // a folder.
  ResultsDir(std::filesystem::path out, bool keep_partial);

  const std::filesystem::path& out() const { return out_; }
  const std::filesystem::path& staging() const { return staging_; }
  // staging() / name, its parent folders created.
  std::filesystem::path file(const std::string& name) const;
  // Writes a whole file in the staging folder (temporary + rename), checked: a full disk or a
  // folder in the way throws ember::Error naming the file.
  void write_text(const std::string& name, const std::string& content) const;
  // Puts the staging folder in place of `out` (see above). Throws ember::Error on failure,
  // with the old results restored where they were moved aside.
  void commit();
  bool committed() const { return committed_; }

 private:
  std::filesystem::path out_, staging_;
  bool committed_ = false;
};

// Writes `content` to `file` through a unique temporary in the same folder and a rename;
// throws ember::Error naming the file when any step fails.
void write_file_atomically(const std::filesystem::path& file, const std::string& content);

}  // namespace ember::experiments
