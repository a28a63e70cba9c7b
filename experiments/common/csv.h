#pragma once
// A CSV file written row by row and flushed after each, so a long run that is interrupted
// still leaves every finished row on disk. Fields with commas, quotes or newlines are quoted.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace ember::experiments {

class CsvWriter {
 public:
  CsvWriter(const std::filesystem::path& file, const std::vector<std::string>& header);

  // One value per column, in header order; numbers are written with enough digits to round-trip.
  template <typename... Values>
  void row(const Values&... values) {
    std::vector<std::string> fields;
    (fields.push_back(field(values)), ...);
    write(fields);
  }

 private:
  template <typename T>
  static std::string field(const T& value) {
    std::ostringstream os;
    os.precision(10);
    if constexpr (std::is_same_v<T, bool>) {
      os << (value ? "true" : "false");
    } else {
      os << value;
    }
    return os.str();
  }
  void write(const std::vector<std::string>& fields);

  std::filesystem::path file_;
  std::ofstream out_;
  size_t columns_;
};

// The quoted form of one field when it needs quoting.
std::string csv_escape(const std::string& field);

}  // namespace ember::experiments
