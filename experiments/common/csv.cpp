#include "experiments/common/csv.h"

#include "tensor/error.h"

namespace ember::experiments {

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

CsvWriter::CsvWriter(const std::filesystem::path& file, const std::vector<std::string>& header)
    : file_(file), out_(file), columns_(header.size()) {
  check(out_.good(), file.string(), ": cannot write");
  write(header);
}

void CsvWriter::write(const std::vector<std::string>& fields) {
  check(fields.size() == columns_, file_.string(), ": a row of ", fields.size(), " fields in a file of ", columns_,
        " columns");
  for (size_t i = 0; i < fields.size(); ++i) out_ << (i ? "," : "") << csv_escape(fields[i]);
  out_ << "\n";
  out_.flush();
  check(out_.good(), file_.string(), ": write failed");
}

}  // namespace ember::experiments
