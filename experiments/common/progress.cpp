#include "experiments/common/progress.h"

#include <algorithm>
#include <ostream>

#include "experiments/common/markdown.h"

namespace ember::experiments {

Progress::Progress(std::ostream& out, double min_interval_seconds)
    : out_(out), min_interval_(min_interval_seconds), start_(Clock::now()), last_line_(start_) {}

double Progress::elapsed_seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

double Progress::eta_seconds() const {
  if (completed_ <= 0) return -1;
  return elapsed_seconds() * std::max(0.0, planned_ - completed_) / completed_;
}

void Progress::line(const std::string& text) {
  const double eta = eta_seconds();
  out_ << "[" << format_duration(elapsed_seconds()) << " | ETA " << (eta < 0 ? "?" : format_duration(eta)) << "] "
       << text << std::endl;
  last_line_ = Clock::now();
}

bool Progress::due() const { return std::chrono::duration<double>(Clock::now() - last_line_).count() >= min_interval_; }

}  // namespace ember::experiments
